package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

func newTestSite(t *testing.T) (dir string, srv *httptest.Server) {
	t.Helper()
	tmp := t.TempDir()
	dir = filepath.Join(tmp, "dist")
	// Large enough (also compressed) that the server cannot buffer the
	// whole response and must state Content-Length itself.
	var words strings.Builder
	rng := rand.New(rand.NewPCG(1, 2))
	for words.Len() < 400_000 {
		fmt.Fprintf(&words, "w%d ", rng.IntN(5000))
	}
	wasm := "\x00asm" + words.String()
	var gz, br bytes.Buffer
	z, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	z.Write([]byte(wasm))
	z.Close()
	b := brotli.NewWriter(&br)
	b.Write([]byte(wasm))
	b.Close()
	writeFiles(t, tmp, map[string]string{
		"dist/index.html":          "<html>",
		"dist/app.wasm":            wasm,
		"dist/app.wasm.gz":         gz.String(),
		"dist/app.wasm.br":         br.String(),
		"dist/plain.readout":       "readout",
		"dist/app.0123456789.wasm": wasm,
		"dist/.secret":             "dotfile",
		"dist/.git/config":         "dotdir",
		"dist/photo/coffee.jpg":    "jpg",
		"dist/empty/keep.readout":  "x",
		"outside.txt":              "outside --dir",
	})
	if err := os.Symlink(filepath.Join(tmp, "outside.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("app.wasm", filepath.Join(dir, "inside.wasm")); err != nil {
		t.Fatal(err)
	}
	h, err := siteHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return dir, srv
}

func get(t *testing.T, url, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	// Set explicitly, so Go's transport neither adds gzip nor decodes it.
	req.Header.Set("Accept-Encoding", acceptEncoding)
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestServeHeaders(t *testing.T) {
	_, srv := newTestSite(t)
	// Content-hashed names never change content: cached for a year; the
	// rest is revalidated on every load.
	const forever = "public, max-age=31536000, immutable"
	for _, c := range []struct{ path, ctype, cache string }{
		{"/app.wasm", "application/wasm", "no-cache"},
		{"/", "text/html; charset=utf-8", "no-cache"},
		{"/inside.wasm", "application/wasm", "no-cache"},
		{"/plain.readout", "application/octet-stream", "no-cache"},
		{"/app.0123456789.wasm", "application/wasm", forever},
	} {
		for _, enc := range []string{"", "br"} {
			resp, _ := get(t, srv.URL+c.path, enc)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.ctype || resp.Header.Get("Cache-Control") != c.cache {
				t.Errorf("%s (Accept-Encoding %q): %d %q %q, want %q %q", c.path, enc, resp.StatusCode,
					resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), c.ctype, c.cache)
			}
		}
	}
	if resp, _ := get(t, srv.URL+"/missing.safetensors", ""); resp.StatusCode != 404 {
		t.Errorf("missing file: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/app.wasm", strings.NewReader("x"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// The precompressed copy is sent when the client accepts it, with
// Content-Encoding, Vary, the original's type and the copy's length.
func TestServePrecompressed(t *testing.T) {
	dir, srv := newTestSite(t)
	raw, _ := os.ReadFile(filepath.Join(dir, "app.wasm"))
	for _, c := range []struct{ accept, enc, file string }{
		{"gzip, deflate, br, zstd", "br", "app.wasm.br"},
		{"gzip", "gzip", "app.wasm.gz"},
		{"br;q=0, gzip;q=0.5", "gzip", "app.wasm.gz"},
		{"br;q=0, gzip;q=0", "", "app.wasm"},
		{"", "", "app.wasm"},
		{"identity", "", "app.wasm"},
		{"*", "br", "app.wasm.br"},
	} {
		resp, body := get(t, srv.URL+"/app.wasm", c.accept)
		want, _ := os.ReadFile(filepath.Join(dir, c.file))
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Encoding") != c.enc || !bytes.Equal(body, want) ||
			h.Get("Content-Type") != "application/wasm" || h.Get("Content-Length") != strconv.Itoa(len(want)) ||
			!strings.Contains(h.Get("Vary"), "Accept-Encoding") || len(want) < 64<<10 {
			t.Errorf("Accept-Encoding %q: %d, encoding %q, %d bytes (want %s, %d), type %q, length %q, vary %q",
				c.accept, resp.StatusCode, h.Get("Content-Encoding"), len(body), c.file, len(want), h.Get("Content-Type"), h.Get("Content-Length"), h.Get("Vary"))
		}
	}
	// Through Go's client, which asks for gzip and decodes it: the module itself.
	resp, err := http.Get(srv.URL + "/app.wasm")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, raw) || !resp.Uncompressed {
		t.Errorf("decoded body differs from app.wasm (uncompressed=%v)", resp.Uncompressed)
	}
	// A file without copies goes out as it is.
	if resp, body := get(t, srv.URL+"/plain.readout", "br, gzip"); resp.Header.Get("Content-Encoding") != "" || string(body) != "readout" {
		t.Errorf("plain.readout: %q %q", resp.Header.Get("Content-Encoding"), body)
	}
}

// No listings, no dotfiles, no symlinks out of --dir, no escaping paths.
func TestServeRefuses(t *testing.T) {
	_, srv := newTestSite(t)
	for _, p := range []string{"/.secret", "/.git/config", "/.git/", "/link.txt", "/photo/", "/empty/", "/../outside.txt", "/%2e%2e/outside.txt", "/photo/../../outside.txt", "/.secret.br"} {
		resp, body := get(t, srv.URL+p, "")
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d %.60q", p, resp.StatusCode, body)
		}
	}
	// A raw request line that is not cleaned by the client.
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET /../outside.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(c)
	if bytes.Contains(b, []byte("outside --dir")) {
		t.Errorf("served a file outside --dir: %q", b)
	}
}

func TestServeLimits(t *testing.T) {
	l := defaultServeLimits
	srv := newSiteServer(http.NotFoundHandler(), l)
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout, "WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout} {
		if d <= 0 || d > 60*time.Second {
			t.Errorf("%s = %v, want (0, 60s]", name, d)
		}
	}
	if l.Conns <= 0 || l.Conns > 1024 {
		t.Errorf("connection cap %d", l.Conns)
	}
	if serveCmd.Flags().Lookup("host").DefValue != "127.0.0.1" {
		t.Error("serve does not bind 127.0.0.1 by default")
	}
}

// With the cap reached by idle keep-alive clients a new client waits, and is
// served once one of them leaves; an idle connection is closed by the server
// after IdleTimeout.
func TestServeConnectionCap(t *testing.T) {
	dir, _ := newTestSite(t)
	h, err := siteHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := serveLimits{ReadHeader: 5 * time.Second, Read: 5 * time.Second, Write: 5 * time.Second, Idle: 300 * time.Millisecond, Conns: 2}
	srv := newSiteServer(h, l)
	go srv.Serve(limitListener(ln, l.Conns))
	defer srv.Close()
	addr := ln.Addr().String()

	request := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(c, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	var idle []net.Conn
	for range l.Conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := request(c); err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	// Both slots are held: a third client connects (the kernel queues it)
	// but is answered only once IdleTimeout has closed an idle one.
	held := time.Now()
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	done := make(chan error, 1)
	go func() { done <- request(third) }()
	select {
	case err := <-done:
		if time.Since(held) < l.Idle {
			t.Fatalf("served beyond the cap of %d connections (%v)", l.Conns, err)
		}
		done <- err
	case <-time.After(l.Idle / 2):
	}
	// IdleTimeout closes the idle connections; the third is then served.
	if err := <-done; err != nil {
		t.Fatalf("third client after the idle ones were closed: %v", err)
	}
	idle[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle[0].Read(make([]byte, 1)); err == nil {
		t.Error("an idle connection was not closed by the server")
	}
}
