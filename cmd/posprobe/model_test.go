package main

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/weights"
)

const onnxFixtures = "../../testdata/onnx"

// TestFeaturesModelMatchesPyTorch: features --model --padding none on the
// VGG-style export writes every 4-d output as PyTorch computes it with every
// conv's padding set to 0 (1e-4 of the tap's largest magnitude).
func TestFeaturesModelMatchesPyTorch(t *testing.T) {
	out := t.TempDir()
	s, err := runProbe(t, featuresCmd, "--model", filepath.Join(onnxFixtures, "vgg", "model.onnx"), "--padding", "none",
		"--image", filepath.Join(onnxFixtures, "vgg", "input.png"), "--size", "48", "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	ref, err := weights.LoadNpyDir(filepath.Join(onnxFixtures, "vgg", "ref-nopad"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := weights.LoadNpyDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Names()) != 3 {
		t.Fatalf("wrote %v, want the three 4-d outputs", got.Names())
	}
	for _, name := range got.Names() {
		g, w := got.Tensors[name], ref.Tensors[name]
		if w == nil || g.Len() != w.Len() {
			t.Fatalf("%s: shape %v, reference %v", name, g.Shape(), w)
		}
		var d, m float64
		gd, wd := nn.Data(g), nn.Data(w)
		for i := range wd {
			d = max(d, math.Abs(float64(gd[i]-wd[i])))
			m = max(m, math.Abs(float64(wd[i])))
		}
		if d > 1e-4*m {
			t.Errorf("%s: max diff %g of max %g", name, d, m)
		}
	}
}

// TestModelTrainEval: train and eval take --model, name the readouts after
// the file and refuse flags that only built-in encoders have.
func TestModelTrainEval(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "imgs")
	writeImages(t, imgs, 4)
	model := filepath.Join(dir, "tiny.onnx")
	b, err := os.ReadFile(filepath.Join(onnxFixtures, "resnet", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(model, b, 0o644)
	outDir := filepath.Join(dir, "readouts")
	out, err := runProbe(t, trainCmd, "--model", model, "--taps", "auto", "--target", "H", "--epochs", "1", "--batch", "2",
		"--images", imgs, "--out", outDir+"/")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(outDir, "tiny_imagenet_zero_H.readout")); err != nil {
		t.Fatalf("readout not named after the model: %v", err)
	}
	out, err = runProbe(t, evalCmd, "--model", model, "--taps", "auto", "--target", "H", "--readouts", outDir, "--images", imgs)
	if err != nil || !strings.Contains(out, "tiny") {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	// Other taps than the readout's: refused by the readout check.
	if _, err := runProbe(t, evalCmd, "--model", model, "--taps", "layer4", "--target", "H", "--readouts", outDir, "--images", imgs); err == nil {
		t.Error("eval with other taps than the readout's passed")
	}
	if _, err := runProbe(t, evalCmd, "--model", model, "--init", "random", "--target", "H", "--readouts", outDir, "--images", imgs); err == nil || !strings.Contains(err.Error(), "--init") {
		t.Errorf("--init with --model: %v", err)
	}
	if _, err := runProbe(t, featuresCmd, "--model", model, "--taps", "nope", "--image", filepath.Join(onnxFixtures, "resnet", "input.png"), "--out", dir); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown tap: %v", err)
	}
	bad := filepath.Join(dir, "bad.onnx")
	os.WriteFile(bad, b[:len(b)/3], 0o644)
	if _, err := runProbe(t, featuresCmd, "--model", bad, "--image", filepath.Join(onnxFixtures, "resnet", "input.png"), "--out", dir); err == nil || !strings.Contains(err.Error(), "bad.onnx") || strings.Contains(err.Error(), "\n") {
		t.Errorf("truncated model: %v", err)
	}
}

func TestModelInspect(t *testing.T) {
	out, err := runCLI(t, "model", "inspect", "--size", "48", filepath.Join(onnxFixtures, "resnet", "model.onnx"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"layer4", "[1 32 2 2]", "out,auto", "Gemm"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

// TestBuildSiteModel: site --model copies the ONNX file into the site and
// lists it once per padding with readouts; without readouts, or with
// external data, it refuses.
func TestBuildSiteModel(t *testing.T) {
	tmp := t.TempDir()
	src, out, ro, goroot := filepath.Join(tmp, "site"), filepath.Join(tmp, "out"), filepath.Join(tmp, "ro"), filepath.Join(tmp, "go")
	b, err := os.ReadFile(filepath.Join(onnxFixtures, "resnet", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, tmp, map[string]string{
		"site/index.html":                 "<html>",
		"site/photo/coffee.jpg":           "jpg",
		"ro/tiny_imagenet_zero_G.readout": "r",
		"ro/tiny_imagenet_none_H.readout": "r",
		"go/lib/wasm/wasm_exec.js":        "// exec",
		"tiny.onnx":                       string(b),
		"mod/app.wasm":                    "\x00asm app",
		"mod/worker.wasm":                 "\x00asm worker",
	})
	o := siteOptions{src: src, out: out, readouts: ro, goroot: goroot, modules: filepath.Join(tmp, "mod"), brotli: 1}
	defer func() { siteModelFlags.model, siteModelFlags.taps = "", "" }()
	siteModelFlags.model, siteModelFlags.taps = filepath.Join(tmp, "tiny.onnx"), "auto"
	if err := buildSite(io.Discard, o); err != nil {
		t.Fatal(err)
	}
	m := readManifestFile(t, out)
	if len(m.Models) != 2 || m.Models[0].Key != "tiny-zero" || m.Models[1].Padding != nn.PadNone || m.Models[0].File != "models/tiny.onnx" || m.Models[0].Taps != "auto" {
		t.Errorf("models %+v", m.Models)
	}
	if got, err := os.ReadFile(filepath.Join(out, "models", "tiny.onnx")); err != nil || len(got) != len(b) {
		t.Errorf("model not copied: %v", err)
	}
	os.RemoveAll(ro)
	os.MkdirAll(ro, 0o755)
	if err := buildSite(io.Discard, o); err == nil || !strings.Contains(err.Error(), "tiny_imagenet_zero_H.readout") {
		t.Errorf("no readouts: %v", err)
	}
	siteModelFlags.model = filepath.Join(onnxFixtures, "external", "model.onnx")
	if err := buildSite(io.Discard, o); err == nil || !strings.Contains(err.Error(), "external") {
		t.Errorf("external data: %v", err)
	}
}
