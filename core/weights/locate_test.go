package weights

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/testfiles"
)

// toyManifest has one npy-dir encoder of two files and one single-file one.
func toyManifest() *Manifest {
	return &Manifest{Version: 1, Encoders: []*Entry{
		{Name: "toy", Format: FormatNpyDir, Dir: "toydir", Load: "weights", URLs: []string{"http://127.0.0.1:9/"},
			Files: []File{{Path: "weights/a.npy", Size: 3, SHA256: sha256hex("abc")}, {Path: "weights/b.npy", Size: 2, SHA256: sha256hex("de")}}},
		{Name: "one", Format: FormatPth, Dir: "one", Load: "one-ba7816bf.pth", URLs: []string{"http://127.0.0.1:9/"},
			Files: []File{{Path: "one-ba7816bf.pth", SHA256Prefix: "ba7816bf"}}},
	}}
}

func TestResolveOrder(t *testing.T) {
	m := toyManifest()
	tmp := t.TempDir()
	data, cache := filepath.Join(tmp, "data"), filepath.Join(tmp, "cache")
	flagFile := filepath.Join(tmp, "mine.npz")
	testfiles.Write(t, tmp, map[string]string{"mine.npz": "x"})
	testfiles.Write(t, filepath.Join(data, "weights", "toydir"), map[string]string{"weights/a.npy": "abc"})
	testfiles.Write(t, filepath.Join(cache, "toy"), map[string]string{"weights/a.npy": "abc", "weights/b.npy": "de"})
	ctx := context.Background()

	f, err := Resolve(ctx, "toy", Options{Explicit: flagFile, DataDir: data, CacheDir: cache, Manifest: m})
	if err != nil || f.Path != flagFile || f.Where != WhereFlag {
		t.Fatalf("explicit file: %+v %v", f, err)
	}
	// An explicit folder laid out like the manifest resolves to its load path.
	f, err = Resolve(ctx, "toy", Options{Explicit: filepath.Join(cache, "toy"), Manifest: m})
	if want := filepath.Join(cache, "toy", "weights"); err != nil || f.Path != want || f.Where != WhereFlag {
		t.Fatalf("explicit folder: %+v %v, want %s", f, err, want)
	}
	f, err = Resolve(ctx, "toy", Options{DataDir: data, CacheDir: cache, Manifest: m})
	if want := filepath.Join(data, "weights", "toydir", "weights"); err != nil || f.Path != want || f.Where != WhereData {
		t.Fatalf("data: %+v %v, want %s", f, err, want)
	}
	f, err = Resolve(ctx, "toy", Options{DataDir: filepath.Join(tmp, "elsewhere"), CacheDir: cache, Manifest: m})
	if want := filepath.Join(cache, "toy", "weights"); err != nil || f.Path != want || f.Where != WhereCache {
		t.Fatalf("cache: %+v %v, want %s", f, err, want)
	}
	// An explicit path that is not there is an error, not a fall-through.
	_, err = Resolve(ctx, "toy", Options{Explicit: filepath.Join(tmp, "nope"), DataDir: data, CacheDir: cache, Manifest: m})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(tmp, "nope")) {
		t.Fatalf("missing explicit path: %v", err)
	}
}

func TestResolveIncompleteCacheWithoutDownload(t *testing.T) {
	m := toyManifest()
	cache := t.TempDir()
	// b.npy has the wrong size: the cache is incomplete, and downloads are off.
	testfiles.Write(t, filepath.Join(cache, "toy"), map[string]string{"weights/a.npy": "abc", "weights/b.npy": "xyz"})
	f, err := Resolve(context.Background(), "toy", Options{CacheDir: cache, Manifest: m})
	if err == nil || f.Where != WhereMissing {
		t.Fatalf("incomplete cache accepted: %+v", f)
	}
	for _, want := range []string{"toy", "1 of 2 files", "posprobe weights fetch toy", DownloadEnv, "--weights", "POSPROBE_DATA"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestResolveUnknownEncoder(t *testing.T) {
	_, err := Resolve(context.Background(), "alexnet", Options{CacheDir: t.TempDir(), Manifest: toyManifest()})
	if err == nil || !strings.Contains(err.Error(), "alexnet") || !strings.Contains(err.Error(), "toy") {
		t.Fatalf("error %v", err)
	}
	// With an explicit path, an encoder the manifest lacks still works.
	p := filepath.Join(t.TempDir(), "w.safetensors")
	testfiles.Write(t, filepath.Dir(p), map[string]string{"w.safetensors": "x"})
	if f, err := Resolve(context.Background(), "alexnet", Options{Explicit: p, Manifest: toyManifest()}); err != nil || f.Path != p {
		t.Fatalf("explicit path for an unknown encoder: %+v %v", f, err)
	}
}

func TestLocateNeverDownloadsUnlessAsked(t *testing.T) {
	t.Setenv(CacheEnv, t.TempDir())
	t.Setenv(DownloadEnv, "")
	// vgg16 is in no data folder here and its URL is real: this must fail
	// without a connection attempt, saying how to fetch.
	_, err := Locate("vgg16", "", "")
	if err == nil || !strings.Contains(err.Error(), "posprobe weights fetch vgg16") {
		t.Fatalf("error %v", err)
	}
}

func TestLocateSharedData(t *testing.T) {
	data := testfiles.DataDir(t)
	t.Setenv(CacheEnv, t.TempDir())
	for enc, want := range map[string]string{
		"squeezenet1.1": "weights/squeezenet1.1/weights",
		"mobilenetv2":   "weights/mobilenetv2/weights",
		"resnet50v2":    "weights/resnet50v2/weights",
		"darknet-tiny":  "weights/darknet-tiny/model.json",
	} {
		p, err := Locate(enc, "", data)
		if err != nil || p != filepath.Join(data, filepath.FromSlash(want)) {
			t.Errorf("%s: %q %v, want %s", enc, p, err, want)
		}
	}
	s, err := LoadNpyDir(filepath.Join(data, "weights", "squeezenet1.1", "weights"))
	if err != nil || !s.Has("squeezenet0_conv0_weight") {
		t.Fatalf("loading what Locate found: %v", err)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sha256hex(s string) string { return sha([]byte(s)) }
