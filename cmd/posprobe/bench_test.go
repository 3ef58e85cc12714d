package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
)

// TestBenchWinogradFlops: GFLOP counts the direct convolutions whatever the
// Winograd mode, the mode is reported and restored, and a bad mode errors.
func TestBenchWinogradFlops(t *testing.T) {
	defer nn.SetWinogradMode("auto")
	benchCmd, _, err := rootCmd.Find([]string{"bench"})
	if err != nil {
		t.Fatal(err)
	}
	gflop := map[string]float64{}
	for _, mode := range []string{"off", "on"} {
		out, err := runProbe(t, benchCmd, "--encoder", "squeezenet1.1", "--size", "64", "--warmup", "0", "--reps", "1", "--winograd", mode, "--json")
		if err != nil {
			t.Fatalf("--winograd %s: %v\n%s", mode, err, out)
		}
		var rs []benchResult
		if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 1 {
			t.Fatalf("--winograd %s: %v\n%s", mode, err, out)
		}
		if rs[0].Winograd != mode || nn.WinogradMode() != mode {
			t.Errorf("--winograd %s: reported %q, in use %q", mode, rs[0].Winograd, nn.WinogradMode())
		}
		gflop[mode] = rs[0].GFLOP
	}
	if gflop["off"] <= 0 || gflop["on"] != gflop["off"] {
		t.Errorf("GFLOP off %g, on %g: want the same direct-convolution count", gflop["off"], gflop["on"])
	}
	if out, err := runProbe(t, benchCmd, "--encoder", "squeezenet1.1", "--winograd", "sometimes"); err == nil || !strings.Contains(err.Error(), "sometimes") {
		t.Errorf("bad mode: %v\n%s", err, out)
	}
}
