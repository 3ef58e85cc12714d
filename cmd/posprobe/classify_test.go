package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/testfiles"
)

func runClassifyCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	classifyFlags = struct {
		encoder, image, weights string
		top                     int
		json                    bool
	}{top: 5}
	return runCLI(t, append([]string{"classify"}, args...)...)
}

func TestClassifyCommand(t *testing.T) {
	data := testfiles.DataDir(t)
	photo := filepath.Join(data, "images", "imagenet-sample", "n01440764_tench.JPEG")
	out, err := runClassifyCLI(t, "--encoder", "darknet-tiny", "--image", photo, "--top", "3")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.Contains(lines[2], "n01440764") || !strings.Contains(lines[2], "tench") {
		t.Errorf("darknet-tiny on a tench: want tench first of 3 classes, got\n%s", out)
	}

	// JSON: softmax probabilities in decreasing order, indices in the
	// model's own class order (sorted synsets for SqueezeNet: tench is 0).
	out, err = runClassifyCLI(t, "--encoder", "squeezenet1.1", "--image", photo, "--json", "--top", "1000")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var res struct {
		Encoder string       `json:"encoder"`
		Top     []classScore `json:"top"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Encoder != "squeezenet1.1" || len(res.Top) != 1000 {
		t.Fatalf("encoder %q with %d classes", res.Encoder, len(res.Top))
	}
	sum := 0.0
	for i, s := range res.Top {
		sum += s.Prob
		if i > 0 && s.Prob > res.Top[i-1].Prob {
			t.Fatalf("rank %d has a higher probability than rank %d", s.Rank, res.Top[i-1].Rank)
		}
		if s.WNID == "n01440764" && s.Index != 0 {
			t.Errorf("tench at output %d, want 0", s.Index)
		}
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("probabilities sum to %g", sum)
	}
	if res.Top[0].WNID != "n01440764" && res.Top[1].WNID != "n01440764" {
		t.Errorf("squeezenet1.1 on a tench: top classes %s, %s", res.Top[0].Name, res.Top[1].Name)
	}

	if _, err := runClassifyCLI(t, "--encoder", "mobilenetv2", "--image", photo); err == nil || !strings.Contains(err.Error(), "no classifier") {
		t.Errorf("mobilenetv2: err = %v, want 'no classifier'", err)
	}
}

func TestClassifyCommandErrors(t *testing.T) {
	if _, err := runClassifyCLI(t, "--encoder", "darknet-tiny", "--image", "x.png", "--top", "0"); err == nil {
		t.Error("--top 0 accepted")
	}
	if _, err := runClassifyCLI(t, "--encoder", "nosuchnet", "--image", "x.png"); err == nil || !strings.Contains(err.Error(), "nosuchnet") {
		t.Errorf("unknown encoder: err = %v", err)
	}
	if _, err := runClassifyCLI(t, "--image", "x.png"); err == nil {
		t.Error("missing --encoder accepted")
	}
}
