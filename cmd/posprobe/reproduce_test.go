package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/posprobe/posprobe/core/experiment"
	"github.com/posprobe/posprobe/internal/testfiles"
)

func runReproduceCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	// Every flag back to its default: the flag variables outlive a run.
	reproduceCmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err := f.Value.Set(f.DefValue); err != nil {
			t.Fatal(err)
		}
	})
	return runCLI(t, append([]string{"reproduce"}, args...)...)
}

// Quick mode end to end on tiny photos with reduced-width random encoders:
// every row of Tables 1 and 4 present (ImageNet rows with their reason), the
// report files and figures written. Not the numbers.
func TestReproduceQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("trains readouts")
	}
	// Hermetic: no data folder, no weight cache, so the ImageNet rows are "unavailable".
	t.Setenv("POSPROBE_DATA", "")
	t.Setenv("POSPROBE_CACHE", t.TempDir())
	t.Setenv("POSPROBE_DOWNLOAD", "")
	out, demo := t.TempDir(), t.TempDir()
	msg, err := runReproduceCLI(t, "--quick", "--width", "4", "--tables", "1,4", "--train", writeTinyPhotos(t, 4),
		"--test", writeTinyPhotos(t, 3), "--out", out, "--readouts", demo)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rep experiment.Report
	testfiles.ReadJSON(t, filepath.Join(out, "results.json"), &rep)
	if !rep.Info.Quick || rep.Info.NTrain != 4 || rep.Info.NTest != 3 || len(rep.Tables) != 2 {
		t.Errorf("run info %+v, %d tables", rep.Info, len(rep.Tables))
	}
	if m := rep.Missing(); len(m) > 0 {
		t.Errorf("missing rows %v", m)
	}
	for _, tb := range rep.Tables {
		for _, row := range tb.Rows {
			res := rep.Result(tb.ID, row.ID)
			if res == nil || (res.Status != experiment.StatusOK && (res.Status != experiment.StatusUnavailable || res.Reason == "")) {
				t.Errorf("row %s/%s: %+v", tb.ID, row.ID, res)
				continue
			}
			if res.Status != experiment.StatusOK && !strings.Contains(string(md), row.Label+": "+res.Status+" — ") {
				t.Errorf("report does not say why %s did not run", row.Label)
			}
		}
	}
	if bmd, err := os.ReadFile(filepath.Join(out, "beyond.md")); err != nil || !strings.Contains(string(bmd), "## Red/green") || !strings.Contains(string(bmd), "## Grid") || !strings.Contains(string(bmd), "## Channels") || !strings.Contains(string(bmd), "## Boundary") {
		t.Errorf("beyond.md (the quick studies): %v", err)
	}
	csvb, err := os.ReadFile(filepath.Join(out, "results.csv"))
	if err != nil || !strings.HasPrefix(string(csvb), "table,row,") {
		t.Errorf("results.csv: %v", err)
	}
	for _, f := range []string{"figures/table1_spc.png", "figures/table1_spc.svg", "figures/table4_spc.png", "figures/table1_maps_0.png", "figures/table4_maps_1.png"} {
		fh, err := os.Open(filepath.Join(out, f))
		if err != nil {
			t.Error(err)
			continue
		}
		if strings.HasSuffix(f, ".png") {
			if img, err := png.Decode(fh); err != nil || img.Bounds().Dx() < 100 {
				t.Errorf("%s: %v", f, err)
			}
		}
		fh.Close()
		if strings.HasSuffix(f, ".png") && !strings.Contains(string(md), "("+f+")") {
			t.Errorf("report does not show %s", f)
		}
	}
	// Table 1's readouts for the demo, named as the demo looks for them.
	if _, err := os.Stat(filepath.Join(demo, "vgg16_random_zero_HS.readout")); err != nil {
		t.Error(err)
	}

	if _, err := runReproduceCLI(t, "--tables", "5", "--train", out, "--test", out); err == nil || !strings.Contains(err.Error(), "--tables") {
		t.Errorf("unknown table: %v", err)
	}
	if _, err := runReproduceCLI(t, "--out", out); err == nil || !strings.Contains(err.Error(), "POSPROBE_DATA") {
		t.Errorf("no data: %v", err)
	}
}
