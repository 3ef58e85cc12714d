package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/weights"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readManifestFile(t *testing.T, out string) siteManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "site.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m siteManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildSiteWithoutData(t *testing.T) {
	tmp := t.TempDir()
	src, out, ro, goroot := filepath.Join(tmp, "site"), filepath.Join(tmp, "site", "dist"), filepath.Join(tmp, "ro"), filepath.Join(tmp, "go")
	writeFiles(t, tmp, map[string]string{
		"site/index.html":                 "<html>",
		"site/photo/coffee.png":           "png",
		"site/dist/stale.txt":             "left from before", // the output inside the sources is not copied into itself
		"ro/none_imagenet_zero_G.readout": "r",
		"ro/README.md":                    "not a readout",
		"go/lib/wasm/wasm_exec.js":        "// exec",
	})
	var log strings.Builder
	if err := buildSite(&log, src, out, ro, goroot, ""); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"index.html", "photo/coffee.png", "wasm_exec.js", "readouts/none_imagenet_zero_G.readout"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not in the site: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "readouts", "README.md")); err == nil {
		t.Error("README.md copied as a readout")
	}
	if _, err := os.Stat(filepath.Join(out, "dist")); err == nil {
		t.Error("the output folder was copied into itself")
	}
	m := readManifestFile(t, out)
	if len(m.Encoders) != 0 || len(m.Readouts) != 1 || !strings.Contains(m.Note, "POSPROBE_DATA") {
		t.Errorf("manifest %+v", m)
	}
	if !strings.Contains(log.String(), "app.wasm is missing") {
		t.Errorf("no warning about app.wasm: %s", log.String())
	}

	// A missing wasm_exec.js is an error naming it.
	err := buildSite(io.Discard, src, out, ro, filepath.Join(tmp, "nogo"), "")
	if err == nil || !strings.Contains(err.Error(), "wasm_exec.js") {
		t.Errorf("missing wasm_exec.js: %v", err)
	}
}

func TestBuildSiteEncoderWeights(t *testing.T) {
	data := os.Getenv("POSPROBE_DATA")
	if data == "" {
		t.Skip("POSPROBE_DATA not set")
	}
	tmp := t.TempDir()
	writeFiles(t, tmp, map[string]string{"site/photo/coffee.png": "png", "go/lib/wasm/wasm_exec.js": "//"})
	out := filepath.Join(tmp, "out")
	if err := buildSite(io.Discard, filepath.Join(tmp, "site"), out, filepath.Join(tmp, "none"), filepath.Join(tmp, "go"), data); err != nil {
		t.Fatal(err)
	}
	m := readManifestFile(t, out)
	rel, ok := m.Encoders["squeezenet1.1"]
	if !ok {
		t.Fatalf("manifest %+v has no squeezenet1.1", m)
	}
	b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := weights.ParseSafetensors(b, rel)
	if err != nil {
		t.Fatal(err)
	}
	p, err := weights.Locate("squeezenet1.1", "", data)
	if err != nil {
		t.Fatal(err)
	}
	want, err := weights.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tensors) != len(want.Tensors) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for name, w := range want.Tensors {
		g := got.Tensors[name]
		if g == nil || len(g.Data) != len(w.Data) {
			t.Fatalf("tensor %s missing or resized", name)
		}
		for i := range w.Data {
			if g.Data[i] != w.Data[i] {
				t.Fatalf("tensor %s differs at %d", name, i)
			}
		}
	}
}

func TestServeHeaders(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.html": "<html>", "app.wasm": "\x00asm"})
	srv := httptest.NewServer(siteHandler(dir))
	defer srv.Close()
	for path, ctype := range map[string]string{"/app.wasm": "application/wasm", "/": "text/html; charset=utf-8"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ctype || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %q %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
		}
	}
	resp, err := http.Get(srv.URL + "/missing.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("missing file: %d", resp.StatusCode)
	}
}
