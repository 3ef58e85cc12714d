package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/weights"
	"gorgonia.org/tensor"
)

// toyWeights is a two-tensor .npy encoder served by a loopback server, with
// a manifest pointing at it; the commands run against that manifest.
type toyWeights struct {
	files map[string][]byte // manifest path -> bytes
	data  string            // data folder (empty until filled)
	cache string
}

func setupToy(t *testing.T) *toyWeights {
	t.Helper()
	w := &toyWeights{files: map[string][]byte{}, data: t.TempDir(), cache: t.TempDir()}
	for name, tn := range map[string]*tensor.Dense{
		"conv0_weight": nn.FromData([]float32{1, -2, 3, 4.5, 5, 6, 7, 8, 9, 0, -1, 2, 3e-8, 4, 5, 6, 7, 8}, 2, 1, 3, 3),
		"conv0_bias":   nn.FromData([]float32{0.25, -0.5}, 2),
	} {
		var b bytes.Buffer
		if err := weights.WriteNpy(&b, tn); err != nil {
			t.Fatal(err)
		}
		w.files["weights/"+name+".npy"] = b.Bytes()
	}
	srv := httptest.NewServer(http.StripPrefix("/m/", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, ok := w.files[r.URL.Path]
		if !ok {
			http.NotFound(rw, r)
			return
		}
		rw.Write(b)
	})))
	t.Cleanup(srv.Close)
	e := &weights.Entry{Name: "toy", Architecture: "toy", Licence: "CC0-1.0 (test)", Source: "here",
		Format: weights.FormatNpyDir, Dir: "toydir", Load: "weights", URLs: []string{srv.URL + "/m/"}}
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for k := range w.files {
			if !yield(k) {
				return
			}
		}
	}) {
		s := sha256.Sum256(w.files[p])
		e.Files = append(e.Files, weights.File{Path: p, Size: int64(len(w.files[p])), SHA256: hex.EncodeToString(s[:])})
	}
	m := &weights.Manifest{Version: 1, Encoders: []*weights.Entry{e}}
	old := weightsManifest
	weightsManifest = func() (*weights.Manifest, error) { return m, nil }
	t.Cleanup(func() { weightsManifest = old })
	t.Setenv(weights.CacheEnv, w.cache)
	t.Setenv(weights.DownloadEnv, "")
	t.Setenv("POSPROBE_DATA", "")
	return w
}

// runCLI runs posprobe with args and returns its output and error.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	weightsFlags = weightsOptions{}
	dataFlag = ""
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	return out.String(), err
}

func TestWeightsFetchListVerify(t *testing.T) {
	w := setupToy(t)
	out, err := runCLI(t, "weights", "list")
	if err != nil || !strings.Contains(out, "toy") || !strings.Contains(out, "missing") || !strings.Contains(out, "posprobe weights fetch toy") {
		t.Fatalf("list before fetch: %v\n%s", err, out)
	}
	if out, err = runCLI(t, "weights", "fetch", "toy"); err != nil {
		t.Fatalf("fetch: %v\n%s", err, out)
	}
	for p, want := range w.files {
		got, err := os.ReadFile(filepath.Join(w.cache, "toy", p))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s in cache: %v", p, err)
		}
	}
	out, err = runCLI(t, "weights", "list", "toy")
	if err != nil || !strings.Contains(out, "cache") || !strings.Contains(out, "2/2") || !strings.Contains(out, "CC0-1.0") {
		t.Fatalf("list after fetch: %v\n%s", err, out)
	}
	if out, err = runCLI(t, "weights", "verify"); err != nil || !strings.Contains(out, "2 files ok") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	// A data folder copy with one altered byte: found first, and verify fails naming the file.
	bad := filepath.Join(w.data, "weights", "toydir", "weights", "conv0_bias.npy")
	os.MkdirAll(filepath.Dir(bad), 0o755)
	b := bytes.Clone(w.files["weights/conv0_bias.npy"])
	b[len(b)-1] ^= 0x40
	os.WriteFile(bad, b, 0o644)
	out, err = runCLI(t, "--data", w.data, "weights", "list")
	if err != nil || !strings.Contains(out, " data ") {
		t.Fatalf("list with data folder: %v\n%s", err, out)
	}
	out, err = runCLI(t, "--data", w.data, "weights", "verify", "toy")
	if err == nil || !strings.Contains(out, bad) || !strings.Contains(out, "sha256") || !strings.Contains(out, "2 files ok") {
		t.Fatalf("verify with a bad data copy: %v\n%s", err, out)
	}
	// fetch does not download what the data folder has.
	if out, err = runCLI(t, "--data", w.data, "weights", "fetch", "toy"); err != nil || !strings.Contains(out, "nothing to download") {
		t.Fatalf("fetch with data folder: %v\n%s", err, out)
	}
}

func TestWeightsConvert(t *testing.T) {
	w := setupToy(t)
	dst := filepath.Join(t.TempDir(), "toy.safetensors")
	// Nowhere to be found and downloads off: a clear error, no file.
	if out, err := runCLI(t, "weights", "convert", "--encoder", "toy", "--out", dst); err == nil || !strings.Contains(err.Error(), "posprobe weights fetch toy") {
		t.Fatalf("convert without weights: %v\n%s", err, out)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Fatal("file written on failure")
	}
	out, err := runCLI(t, "weights", "convert", "--encoder", "toy", "--out", dst, "--download")
	if err != nil || !strings.Contains(out, "2 tensors") {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	got := checkConverted(t, w.cache, data, dst, false)
	if !slices.Equal(got.Names(), []string{"conv0_bias", "conv0_weight"}) {
		t.Fatalf("names %v", got.Names())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestWeightsArgs(t *testing.T) {
	setupToy(t)
	for _, args := range [][]string{
		{"weights", "fetch"},
		{"weights", "fetch", "--all", "toy"},
		{"weights", "fetch", "alexnet"},
		{"weights", "convert", "--out", "x.safetensors"},
		{"weights", "list", "--weights", "x"},
	} {
		if out, err := runCLI(t, args...); err == nil {
			t.Errorf("%v accepted:\n%s", args, out)
		}
	}
}

func TestWeightsDefaultManifestList(t *testing.T) {
	t.Setenv(weights.CacheEnv, t.TempDir())
	out, err := runCLI(t, "weights", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"vgg16", "resnet18", "resnet50", "resnet152", "squeezenet1.1", "mobilenetv2", "resnet50v2", "darknet-tiny"} {
		if !strings.Contains(out, name) {
			t.Errorf("list lacks %s:\n%s", name, out)
		}
	}
}

func TestFetchBarLearnsUnknownSizes(t *testing.T) {
	// torchvision entries have no size in the manifest: the server's
	// Content-Length becomes the bar's total; a mirror retry restarts at 0.
	e := &weights.Entry{Name: "tv", Files: []weights.File{{Path: "tv-12345678.pth", SHA256Prefix: "12345678"}}}
	var sink bytes.Buffer
	b := newFetchBarVisible(e, &sink, true)
	if got := b.bar.State().Max; got != -1 {
		t.Fatalf("max %d before any size is known", got)
	}
	b.progress("tv-12345678.pth", 0, 1000)
	b.progress("tv-12345678.pth", 600, 1000)
	b.progress("tv-12345678.pth", 0, 1000) // next mirror
	b.progress("tv-12345678.pth", 1000, 1000)
	if got := b.bar.State(); got.Max != 1000 || got.CurrentNum != 1000 {
		t.Fatalf("bar state %+v", got)
	}
	if !strings.Contains(sink.String(), "tv ") {
		t.Fatalf("bar drew %q", sink.String())
	}
}

// checkConverted parses a converted toy file and compares it with the toy
// weights in the cache, rounded to float16 first when f16.
func checkConverted(t *testing.T, cache string, data []byte, dst string, f16 bool) *weights.Set {
	t.Helper()
	got, err := weights.ParseSafetensors(data, dst)
	if err != nil {
		t.Fatal(err)
	}
	src, err := weights.LoadNpyDir(filepath.Join(cache, "toy", "weights"))
	if err != nil {
		t.Fatal(err)
	}
	if f16 {
		weights.RoundF16(src)
	}
	if err := sameTensors(src, got); err != nil {
		t.Fatal(err)
	}
	return got
}
