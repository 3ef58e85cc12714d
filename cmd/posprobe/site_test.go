package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/internal/testfiles"

	"github.com/andybalholm/brotli"

	"github.com/posprobe/posprobe/core/weights"
	manifestdata "github.com/posprobe/posprobe/weights"
)

func readManifestFile(t *testing.T, out string) siteManifest {
	t.Helper()
	var m siteManifest
	testfiles.ReadJSON(t, filepath.Join(out, "site.json"), &m)
	return m
}

// siteFixture writes page sources, modules, a readout and a GOROOT with
// wasm_exec.js under tmp, and returns the options building tmp/site/dist.
func siteFixture(t *testing.T, tmp, app string) siteOptions {
	writeFiles(t, tmp, map[string]string{
		"site/index.html":                 "<html>" + strings.Repeat("<p>page</p>\n", 200),
		"site/photo/coffee.jpg":           "jpg",
		"site/dist/stale.txt":             "left from before", // the output inside the sources is not copied into itself
		"ro/none_imagenet_zero_G.readout": "r",
		"ro/README.md":                    "not a readout",
		"go/lib/wasm/wasm_exec.js":        "// exec\n" + strings.Repeat("globalThis.x = 1;\n", 100),
		"mod/app.wasm":                    app,
		"mod/worker.wasm":                 "\x00asm worker" + strings.Repeat("worker code ", 5000),
	})
	return siteOptions{src: filepath.Join(tmp, "site"), out: filepath.Join(tmp, "site", "dist"), readouts: filepath.Join(tmp, "ro"),
		modules: filepath.Join(tmp, "mod"), goroot: filepath.Join(tmp, "go"), brotli: 4} // 11 takes seconds on the weights
}

func TestBuildSiteWithoutData(t *testing.T) {
	tmp := t.TempDir()
	o := siteFixture(t, tmp, "\x00asm app"+strings.Repeat("app code ", 5000))
	var log strings.Builder
	if err := buildSite(&log, o); err != nil {
		t.Fatal(err)
	}
	out := o.out
	for _, f := range []string{"index.html", "photo/coffee.jpg", "wasm_exec.js", "readouts/none_imagenet_zero_G.readout"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not in the site: %v", f, err)
		}
	}
	for _, f := range []string{"readouts/README.md", "dist", "app.wasm", "worker.wasm"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s should not be in the site", f)
		}
	}
	m := readManifestFile(t, out)
	// The committed weights make the pretrained model the default: no note.
	if len(m.Readouts) != 1 || m.Note != "" {
		t.Errorf("manifest %+v", m)
	}
	want := manifestdata.Builtins[0]
	wp := m.Encoders["squeezenet1.1"]
	if !strings.HasPrefix(wp, "weights/squeezenet1.1.") || !strings.HasSuffix(wp, ".safetensors") || !isHashed(filepath.Base(wp)) {
		t.Errorf("encoder path %q", wp)
	}
	checkSiteWeights(t, filepath.Join(out, filepath.FromSlash(wp)), manifestdata.BuiltinData(want))
	for _, key := range []string{"app.wasm", "worker.wasm", "wasm_exec.js", "weights/squeezenet1.1.safetensors"} {
		f, ok := m.Files[key]
		if !ok {
			t.Errorf("site.json files has no %s", key)
			continue
		}
		checkSiteFile(t, out, key, f)
	}
	if !strings.Contains(log.String(), "default view, all files") {
		t.Errorf("no size summary: %s", log.String())
	}
}

// checkSiteFile checks a hashed file: name, size, and that its .gz and .br
// copies decompress to it.
func checkSiteFile(t *testing.T, out, key string, f siteFile) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f.Path)))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if f.Path != hashedName(key, raw) || int64(len(raw)) != f.Bytes {
		t.Errorf("%s: %+v, want path %s, %d bytes", key, f, hashedName(key, raw), len(raw))
	}
	if strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "..") || strings.Contains(f.Path, "://") {
		t.Errorf("%s: path %q is not relative", key, f.Path)
	}
	for _, c := range []struct {
		ext  string
		size int64
		open func(io.Reader) (io.Reader, error)
	}{
		{".gz", f.GZ, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{".br", f.BR, func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }},
	} {
		z, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f.Path)+c.ext))
		if err != nil || int64(len(z)) != c.size || c.size >= f.Bytes {
			t.Errorf("%s%s: %d bytes, site.json says %d (raw %d): %v", key, c.ext, len(z), c.size, f.Bytes, err)
			continue
		}
		r, err := c.open(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(back, raw) {
			t.Errorf("%s%s does not decompress to the file (%v)", key, c.ext, err)
		}
	}
}

// A rebuild with a new app replaces the hashed files of the old one (and
// their compressed copies); small or incompressible files get no copies.
func TestBuildSiteRedeploy(t *testing.T) {
	tmp := t.TempDir()
	o := siteFixture(t, tmp, "\x00asm app v1"+strings.Repeat("app code ", 5000))
	if err := buildSite(io.Discard, o); err != nil {
		t.Fatal(err)
	}
	old := readManifestFile(t, o.out).Files["app.wasm"].Path
	writeFiles(t, tmp, map[string]string{"mod/app.wasm": "\x00asm app v2" + strings.Repeat("app code ", 5000)})
	if err := buildSite(io.Discard, o); err != nil {
		t.Fatal(err)
	}
	m := readManifestFile(t, o.out)
	if m.Files["app.wasm"].Path == old {
		t.Fatalf("a new app.wasm kept its name %s", old)
	}
	checkSiteFile(t, o.out, "app.wasm", m.Files["app.wasm"])
	for _, ext := range []string{"", ".gz", ".br"} {
		if _, err := os.Stat(filepath.Join(o.out, old+ext)); err == nil {
			t.Errorf("%s%s of the old build is still there", old, ext)
		}
	}
	for _, f := range []string{"photo/coffee.jpg.gz", "photo/coffee.jpg.br", "readouts/none_imagenet_zero_G.readout.br"} {
		if _, err := os.Stat(filepath.Join(o.out, f)); err == nil {
			t.Errorf("%s written for a small or incompressible file", f)
		}
	}
	if _, err := os.Stat(filepath.Join(o.out, "index.html.br")); err != nil {
		t.Errorf("the page has no brotli copy: %v", err)
	}
}

func TestBuildSiteErrors(t *testing.T) {
	tmp := t.TempDir()
	o := siteFixture(t, tmp, "\x00asm app")
	bad := o
	bad.goroot = filepath.Join(tmp, "nogo")
	if err := buildSite(io.Discard, bad); err == nil || !strings.Contains(err.Error(), "wasm_exec.js") {
		t.Errorf("missing wasm_exec.js: %v", err)
	}
	bad = o
	bad.brotli = 12
	if err := buildSite(io.Discard, bad); err == nil || !strings.Contains(err.Error(), "--brotli") {
		t.Errorf("--brotli 12: %v", err)
	}
	bad = o
	bad.modules = filepath.Join(tmp, "nomod")
	if err := buildSite(io.Discard, bad); err == nil || !strings.Contains(err.Error(), "app.wasm") || !strings.Contains(err.Error(), "GOOS=js") {
		t.Errorf("missing app.wasm: %v", err)
	}
}

// The page sources use relative URLs only, so the site works from any
// folder of any static host.
func TestSiteSourcesRelativeURLs(t *testing.T) {
	for _, pat := range []string{"../../site/*.html", "../../site/*.js", "../../site/*.css"} {
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, abs := range []string{`src="/`, `href="/`, `fetch("/`, `fetch('/`, `url(/`, `url("/`, `importScripts("/`, `new Worker("/`} {
				if i := bytes.Index(b, []byte(abs)); i >= 0 {
					t.Errorf("%s: absolute URL at byte %d: %.40q", f, i, b[i:])
				}
			}
		}
	}
}

func TestIsHashed(t *testing.T) {
	for name, want := range map[string]bool{
		"app.0123456789.wasm": true, "app.0123456789.wasm.br": true, "squeezenet1.1.abcdef0123.safetensors": true,
		"app.wasm": true, "worker.wasm.gz": true, "wasm_exec.js": false, "app.0123456789a.wasm": false,
		"index.html": false, "app.ABCDEF0123.wasm": false, "squeezenet1.1.safetensors": false,
	} {
		if got := isHashed(name); got != want {
			t.Errorf("isHashed(%q) = %v", name, got)
		}
	}
}

// checkSiteWeights checks the site's weight file: the committed float16
// tensors bit for bit, except the classifier head the demo does not use.
func checkSiteWeights(t *testing.T, file string, builtin []byte) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got, err := weights.ParseSafetensors(b, file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := weights.ParseSafetensors(builtin, "builtin")
	if err != nil {
		t.Fatal(err)
	}
	head := encoder.HeadTensors["squeezenet1.1"]
	if len(got.Tensors)+len(head) != len(want.Tensors) || len(b) > len(builtin)*6/10 {
		t.Fatalf("%s: %d tensors, %d bytes; committed file %d tensors, %d bytes", file, len(got.Tensors), len(b), len(want.Tensors), len(builtin))
	}
	for name, w := range want.Tensors {
		g := got.Tensors[name]
		if _, isHead := head[name]; isHead || g == nil {
			if isHead != (g == nil) {
				t.Errorf("%s: tensor %s present %v, head %v", file, name, g != nil, isHead)
			}
			continue
		}
		if !slices.Equal(g.Shape(), w.Shape()) || !slices.Equal(weights.Values(g), weights.Values(w)) {
			t.Errorf("%s: tensor %s differs from the committed file", file, name)
		}
	}
	if n := binary.LittleEndian.Uint64(b); !strings.Contains(string(b[8:8+n]), `"F16"`) || strings.Contains(string(b[8:8+n]), `"F32"`) {
		t.Errorf("%s is not float16", file)
	}
}
