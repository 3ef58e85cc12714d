package main

import (
	"encoding/json"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/internal/testfiles"
	"github.com/posprobe/posprobe/internal/testphotos"
)

// runProbe runs a probe subcommand with every flag back at its default.
func runProbe(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		f.Value.Set(f.DefValue)
		f.Changed = false
	})
	return runCLI(t, append([]string{cmd.Name()}, args...)...)
}

// writeImages writes n small PNGs whose content is unrelated to position.
func writeImages(t *testing.T, dir string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		name := filepath.Join(dir, testphotos.Name("img", i))
		if i == n-1 {
			name = filepath.Join(dir, "sub", "last.png") // found recursively
		}
		testphotos.Write(t, name, 20, 16, func(x, y int) color.NRGBA {
			v := uint8(((y*20+x)*37 + i*91) % 251)
			return color.NRGBA{v, 255 - v, uint8(i * 40), 255}
		})
	}
}

func TestTrainEvalPredict(t *testing.T) {
	dir := t.TempDir()
	imgs, outDir := filepath.Join(dir, "imgs"), filepath.Join(dir, "ro")
	writeImages(t, imgs, 5)
	// An unreadable file is left out, named and counted, not fatal.
	broken := filepath.Join(imgs, "zbroken.jpg")
	if err := os.WriteFile(broken, []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runProbe(t, trainCmd, "--encoder", "none", "--target", "H,HS", "--epochs", "2", "--batch", "2",
		"--images", imgs, "--test-images", "white", "--out", outDir+"/")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	if !strings.Contains(out, broken) || !strings.Contains(out, "features: 5 images (1 unreadable skipped)") {
		t.Errorf("train output does not name and count the unreadable file:\n%s", out)
	}
	for _, tg := range []posmap.Target{posmap.H, posmap.HS} {
		p := filepath.Join(outDir, readout.FileName("none", encoder.InitImageNet, nn.PadZero, tg))
		r, err := loadReadoutFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m := r.Meta
		if m.Target != tg || m.Encoder != "none" || m.Training.NImages != 5 || m.Training.EpochsDone != 2 ||
			m.Training.Batch != 2 || m.Metrics["white_n"] != 1 || len(r.Config.Taps) != 1 {
			t.Errorf("%s header: %+v config %+v", p, m, r.Config)
		}
	}
	// The raw-RGB readout on a white image predicts a constant map: SPC 0.
	out, err = runProbe(t, evalCmd, "--encoder", "none", "--target", "H,HS", "--readouts", outDir, "--images", "white,"+imgs, "--json")
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	rows := scoreRows(t, out)
	if len(rows) != 4 || rows[0].Images != "white" || rows[0].SPC != 0 || rows[0].Constant != 1 ||
		rows[2].NImages != 5 || rows[2].Target != posmap.H || !(rows[0].MAE > 0.2 && rows[0].MAE < 0.3) ||
		rows[0].Skipped != 0 || rows[2].Skipped != 1 || !strings.Contains(out, broken) {
		t.Fatalf("eval rows %+v\n%s", rows, out)
	}
	// Scored one photo per chunk, the folder scores the same (merged exactly).
	defer func(b int) { evalChunkBytes = b }(evalChunkBytes)
	evalChunkBytes = 1
	out, err = runProbe(t, evalCmd, "--encoder", "none", "--target", "H,HS", "--readouts", outDir, "--images", imgs, "--json")
	if err != nil {
		t.Fatalf("eval in chunks: %v\n%s", err, out)
	}
	k := 2
	for _, r := range scoreRows(t, out) {
		w := rows[k]
		if r.NImages != w.NImages || r.Skipped != 1 || math.Abs(r.SPC-w.SPC) > 1e-12 || math.Abs(r.MAE-w.MAE) > 1e-12 ||
			math.Abs(r.SPCStd-w.SPCStd) > 1e-9 || math.Abs(r.MAEStd-w.MAEStd) > 1e-9 {
			t.Errorf("chunked %+v, whole %+v", r, w)
		}
		k++
	}
	if k != 4 {
		t.Fatalf("chunked eval: %d rows\n%s", k-2, out)
	}
	// The text table counts the readable images and the skipped ones.
	out, err = runProbe(t, evalCmd, "--encoder", "none", "--target", "H", "--readouts", outDir, "--images", imgs)
	if err != nil || !strings.Contains(out, "on "+imgs+", 5 images (1 unreadable skipped)") {
		t.Fatalf("eval table: %v\n%s", err, out)
	}
	// A readout for another encoder setting is refused, naming the mismatch.
	one := filepath.Join(outDir, readout.FileName("none", encoder.InitImageNet, nn.PadZero, posmap.H))
	_, err = runProbe(t, evalCmd, "--encoder", "none", "--init", "random", "--target", "H", "--readout", one, "--images", "black")
	if err == nil || !strings.Contains(err.Error(), "init") {
		t.Errorf("mismatched readout: %v", err)
	}
	pred := filepath.Join(dir, "pred")
	out, err = runProbe(t, predictCmd, "--encoder", "none", "--target", "HS", "--readouts", outDir,
		"--image", filepath.Join(imgs, "imga.png"), "--out", pred)
	if err != nil {
		t.Fatalf("predict: %v\n%s", err, out)
	}
	for _, n := range []string{"HS_pred.png", "HS_gt.png"} {
		f, err := os.Open(filepath.Join(pred, n))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() != 224 {
			t.Errorf("%s: %v", n, err)
		}
	}
	// An unreadable image is refused naming it.
	if _, err := runProbe(t, predictCmd, "--encoder", "none", "--target", "HS", "--readouts", outDir,
		"--image", broken, "--out", pred); err == nil || !strings.Contains(err.Error(), broken) {
		t.Errorf("predict on an unreadable file: %v", err)
	}
	// A folder with nothing readable fails, naming the folder.
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "x.png"), []byte("nope"), 0o644)
	if _, err := runProbe(t, evalCmd, "--encoder", "none", "--target", "H", "--readouts", outDir, "--images", bad); err == nil ||
		!strings.Contains(err.Error(), bad) {
		t.Errorf("eval on unreadable folder: %v", err)
	}
	// Bad input: missing folder, unknown target.
	if _, err := runProbe(t, trainCmd, "--encoder", "none", "--images", filepath.Join(dir, "nope"), "--out", outDir); err == nil {
		t.Error("missing images folder: no error")
	}
	if _, err := runProbe(t, evalCmd, "--encoder", "none", "--target", "Q", "--images", "black"); err == nil {
		t.Error("unknown target: no error")
	}
}

// The log prints learning rates short: 0.01 after the step decay, not the
// float sum's 0.010000000000000002.
func TestTrainLogLR(t *testing.T) {
	dir := t.TempDir()
	writeImages(t, dir, 2)
	out, err := runProbe(t, trainCmd, "--encoder", "none", "--target", "H", "--epochs", "11", "--batch", "2",
		"--images", dir, "--out", filepath.Join(dir, "h.readout"))
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	if !strings.Contains(out, "epoch 1/11: loss") || !strings.Contains(out, "(lr 0.1)") || !strings.Contains(out, "epoch 11/11") ||
		!strings.Contains(out, "(lr 0.01)") {
		t.Errorf("train log:\n%s", out)
	}
}

// The shipped SqueezeNet readouts on the synthetic inputs reproduce the
// PyTorch reference run (reference-results.md, "SqueezeNet 1.1 pretrained,
// padding on"): within 0.05 SPC and 0.02 MAE.
func TestShippedReadoutsMatchReference(t *testing.T) {
	data := testfiles.DataDir(t)
	ref := map[string][2]float64{ // black: SPC, MAE
		"H": {0.888, 0.136}, "V": {0.922, 0.146}, "G": {0.965, 0.102}, "HS": {0.664, 0.217}, "VS": {0.621, 0.220},
	}
	out, err := runProbe(t, evalCmd, "--data", data, "--encoder", "squeezenet1.1", "--readouts", "../../weights/readouts",
		"--images", "black", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	n := 0
	for _, r := range scoreRows(t, out) {
		want := ref[r.Target.String()]
		if d, e := r.SPC-want[0], r.MAE-want[1]; d > 0.05 || d < -0.05 || e > 0.02 || e < -0.02 {
			t.Errorf("%s on black: SPC %.3f MAE %.3f, reference %.3f / %.3f", r.Target, r.SPC, r.MAE, want[0], want[1])
		}
		n++
	}
	if n != 5 {
		t.Fatalf("%d rows:\n%s", n, out)
	}
}

// scoreRows decodes the JSON lines that eval --json prints; other lines (the
// skipped files) are passed over.
func scoreRows(t *testing.T, out string) []scoreRow {
	t.Helper()
	var rows []scoreRow
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r scoreRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		rows = append(rows, r)
	}
	return rows
}
