//go:build !js

// httptest needs a loopback listener, which js/wasm lacks.

package weights

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// payload is deterministic test content of n bytes.
func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

// server serves files by path; mode per mirror prefix chooses a failure.
// Paths: /<mode>/<file path>. Modes: ok, corrupt, short, 404, 500,
// hangup (closes the connection mid-body), stall (sends some bytes, then
// waits for the client to go away).
type server struct {
	*httptest.Server
	files map[string][]byte
	hits  sync.Map // path -> *atomic.Int64
}

func newServer(t *testing.T, files map[string][]byte) *server {
	s := &server{files: files}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *server) hitCount(p string) int64 {
	v, ok := s.hits.Load(p)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	mode, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	v, _ := s.hits.LoadOrStore(name, &atomic.Int64{})
	v.(*atomic.Int64).Add(1)
	body, ok := s.files[name]
	if !ok || mode == "404" {
		http.NotFound(w, r)
		return
	}
	switch mode {
	case "ok":
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	case "nolength": // chunked, so only the manifest knows the size
		w.(http.Flusher).Flush()
		w.Write(body)
	case "corrupt":
		bad := bytes.Clone(body)
		bad[len(bad)/2] ^= 1
		w.Write(bad)
	case "short":
		w.Write(body[:len(body)/2])
	case "500":
		http.Error(w, "boom", http.StatusInternalServerError)
	case "hangup":
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))
		buf.Write(body[:len(body)/3])
		buf.Flush()
		conn.Close()
	case "stall":
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body[:10])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	default:
		http.Error(w, "bad mode", http.StatusBadRequest)
	}
}

// toy returns an entry of two files served under the given mirror modes.
func toy(s *server, modes ...string) (*Entry, map[string][]byte) {
	files := map[string][]byte{
		"weights/a.npy": payload(70_000, 1),
		"weights/b.npy": payload(300, 2),
	}
	maps := map[string][]byte{}
	for k, v := range files {
		maps[k] = v
	}
	s.files = maps
	e := &Entry{Name: "toy", Format: FormatNpyDir, Dir: "toy", Load: "weights"}
	for _, m := range modes {
		e.URLs = append(e.URLs, s.URL+"/"+m+"/")
	}
	for _, p := range []string{"weights/a.npy", "weights/b.npy"} {
		e.Files = append(e.Files, File{Path: p, Size: int64(len(files[p])), SHA256: sha(files[p])})
	}
	return e, files
}

// leftovers lists every file under dir: after a failure there must be none.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// toyCache serves the toy entry under the mirror modes and names a cache
// folder for it.
func toyCache(t *testing.T, modes ...string) (*server, *Entry, map[string][]byte, string) {
	s := newServer(t, nil)
	e, files := toy(s, modes...)
	return s, e, files, filepath.Join(t.TempDir(), "toy")
}

// noLeftovers fails t when anything is left under dir.
func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	if got := leftovers(t, dir); len(got) != 0 {
		t.Errorf("left in the cache: %v", got)
	}
}

func TestFetchSuccessAndProgress(t *testing.T) {
	s, e, files, dir := toyCache(t, "ok")
	last := map[string][2]int64{}
	d := &Downloader{Progress: func(file string, done, size int64) { last[file] = [2]int64{done, size} }}
	if err := d.Fetch(context.Background(), e, dir); err != nil {
		t.Fatal(err)
	}
	for p, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: read %d bytes, err %v", p, len(got), err)
		}
		if n := int64(len(want)); last[p] != [2]int64{n, n} {
			t.Errorf("%s: last progress %v, want [%d %d]", p, last[p], n, n)
		}
	}
	if got := leftovers(t, dir); len(got) != 2 {
		t.Errorf("files in cache: %v", got)
	}
	// A second fetch finds verified files and asks the server nothing.
	if err := d.Fetch(context.Background(), e, dir); err != nil {
		t.Fatal(err)
	}
	if n := s.hitCount("weights/a.npy"); n != 1 {
		t.Errorf("server asked %d times for a.npy", n)
	}
}

func TestFetchFailuresLeaveNothing(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want string
	}{
		{"corrupt", "sha256"},
		{"short", "35000 bytes, manifest says 70000"}, // chunked: only the manifest size catches it
		{"404", "404 Not Found"},
		{"500", "500 Internal Server Error"},
		{"hangup", "connection closed after"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			s, e, _, dir := toyCache(t, tc.mode)
			err := (&Downloader{}).Fetch(context.Background(), e, dir)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			url := s.URL + "/" + tc.mode + "/weights/a.npy"
			if !strings.Contains(msg, "weights/a.npy") || !strings.Contains(msg, url) || !strings.Contains(msg, "toy") {
				t.Errorf("error does not name the encoder, file and URL %s: %v", url, err)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q lacks %q", msg, tc.want)
			}
			noLeftovers(t, dir)
		})
	}
}

func TestFetchChecksSizeWithoutContentLength(t *testing.T) {
	_, e, _, dir := toyCache(t, "nolength")
	if err := (&Downloader{}).Fetch(context.Background(), e, dir); err != nil {
		t.Fatalf("chunked download of the right bytes: %v", err)
	}
	// Same server, manifest expecting one byte more: the size check must refuse.
	e.Files[1].Size++
	dir2 := filepath.Join(t.TempDir(), "toy")
	err := (&Downloader{}).Fetch(context.Background(), e, dir2)
	if err == nil || !strings.Contains(err.Error(), "300 bytes, manifest says 301") {
		t.Fatalf("error %v", err)
	}
	if got := leftovers(t, dir2); len(got) != 1 { // a.npy was fine, b.npy must not be there
		t.Errorf("cache holds %v", got)
	}
}

func TestFetchFallsBackToTheNextMirror(t *testing.T) {
	_, e, files, dir := toyCache(t, "500", "corrupt", "ok")
	if err := (&Downloader{}).Fetch(context.Background(), e, dir); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "weights/a.npy"))
	if !bytes.Equal(got, files["weights/a.npy"]) {
		t.Fatal("wrong bytes after fallback")
	}
	if checks := Verify(dir, e); checks[0].Err != nil || checks[1].Err != nil {
		t.Fatalf("verify: %v %v", checks[0].Err, checks[1].Err)
	}
}

func TestFetchAllMirrorsFailNamesEach(t *testing.T) {
	s := newServer(t, nil)
	e, _ := toy(s, "404", "corrupt")
	err := (&Downloader{}).Fetch(context.Background(), e, filepath.Join(t.TempDir(), "toy"))
	if err == nil {
		t.Fatal("no error")
	}
	for _, u := range e.FileURLs(e.Files[0]) {
		if !strings.Contains(err.Error(), u) {
			t.Errorf("error does not name %s: %v", u, err)
		}
	}
}

func TestFetchCancelledMidBody(t *testing.T) {
	_, e, _, dir := toyCache(t, "stall")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the first bytes arrived: the body is half written on disk.
	d := &Downloader{Progress: func(file string, done, size int64) {
		if done > 0 {
			if len(leftovers(t, dir)) != 1 {
				t.Errorf("no temporary file while downloading")
			}
			cancel()
		}
	}}
	err := d.Fetch(ctx, e, dir)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "weights/a.npy") {
		t.Fatalf("error %v, want context.Canceled naming the file", err)
	}
	noLeftovers(t, dir)
}

func TestFetchDeadline(t *testing.T) {
	_, e, _, dir := toyCache(t, "stall")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := (&Downloader{}).Fetch(ctx, e, dir)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want deadline exceeded", err)
	}
	noLeftovers(t, dir)
}

func TestFetchGivesUpOnAStalledMirror(t *testing.T) {
	_, e, files, dir := toyCache(t, "stall", "ok")
	// The first mirror sends 10 bytes and then nothing: the next one is used.
	// (The timeout is generous so that a busy machine does not stall the good one.)
	if err := (&Downloader{StallTimeout: 300 * time.Millisecond}).Fetch(context.Background(), e, dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "weights/a.npy")); !bytes.Equal(got, files["weights/a.npy"]) {
		t.Fatal("wrong bytes")
	}
	e.URLs = e.URLs[:1]
	dir2 := filepath.Join(t.TempDir(), "toy")
	err := (&Downloader{StallTimeout: 300 * time.Millisecond}).Fetch(context.Background(), e, dir2)
	if err == nil || !strings.Contains(err.Error(), "no data for 300ms") || !strings.Contains(err.Error(), e.URLs[0]) {
		t.Fatalf("error %v", err)
	}
	if got := leftovers(t, dir2); len(got) != 0 {
		t.Errorf("left in the cache: %v", got)
	}
}

func TestFetchConcurrentSameFiles(t *testing.T) {
	s, e, files, dir := toyCache(t, "ok")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = (&Downloader{}).Fetch(context.Background(), e, dir)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("fetch %d: %v", i, err)
		}
	}
	for p, want := range files {
		got, _ := os.ReadFile(filepath.Join(dir, p))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: wrong bytes", p)
		}
		if n := s.hitCount(p); n != 1 {
			t.Errorf("%s downloaded %d times", p, n)
		}
	}
	if got := leftovers(t, dir); len(got) != 2 {
		t.Errorf("cache holds %v", got)
	}
}

func TestFetchReplacesACorruptCacheFile(t *testing.T) {
	_, e, files, dir := toyCache(t, "ok")
	bad := filepath.Join(dir, "weights", "b.npy")
	os.MkdirAll(filepath.Dir(bad), 0o755)
	if err := os.WriteFile(bad, []byte("not the weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := Verify(dir, e); c[1].Err == nil || !strings.Contains(c[1].Err.Error(), bad) {
		t.Fatalf("verify of a corrupt file: %v", c[1].Err)
	}
	if err := (&Downloader{}).Fetch(context.Background(), e, dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(bad); !bytes.Equal(got, files["weights/b.npy"]) {
		t.Fatal("corrupt file not replaced")
	}
}

func TestFetchSweepsStaleParts(t *testing.T) {
	_, e, _, dir := toyCache(t, "ok")
	os.MkdirAll(filepath.Join(dir, "weights"), 0o755)
	stale := filepath.Join(dir, "weights", ".a.npy.123"+partSuffix)
	fresh := filepath.Join(dir, "weights", ".a.npy.456"+partSuffix) // maybe another process's
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleAfter)
	os.Chtimes(stale, old, old)
	if err := (&Downloader{}).Fetch(context.Background(), e, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("recent temporary file removed: %v", err)
	}
}

func TestFetchPrefixDigest(t *testing.T) {
	// torchvision-style entry: no size, only the sha256 prefix from the file name.
	s := newServer(t, nil)
	e, files := toy(s, "ok")
	body := files["weights/b.npy"]
	e.Files = []File{{Path: "weights/b.npy", SHA256Prefix: sha(body)[:8]}}
	dir := filepath.Join(t.TempDir(), "toy")
	if err := (&Downloader{}).Fetch(context.Background(), e, dir); err != nil {
		t.Fatal(err)
	}
	e.Files[0].SHA256Prefix = "00000000"
	dir2 := filepath.Join(t.TempDir(), "toy")
	err := (&Downloader{}).Fetch(context.Background(), e, dir2)
	if err == nil || !strings.Contains(err.Error(), "manifest says 00000000") {
		t.Fatalf("error %v", err)
	}
	if got := leftovers(t, dir2); len(got) != 0 {
		t.Errorf("left in the cache: %v", got)
	}
}

func TestResolveDownloadsWhenAllowed(t *testing.T) {
	s := newServer(t, nil)
	e, _ := toy(s, "ok")
	m := &Manifest{Version: 1, Encoders: []*Entry{e}}
	cache := t.TempDir()
	f, err := Resolve(context.Background(), "toy", Options{CacheDir: cache, Manifest: m})
	if err == nil {
		t.Fatalf("downloaded without being allowed: %+v", f)
	}
	if n := s.hitCount("weights/a.npy"); n != 0 {
		t.Fatalf("server asked %d times with downloads off", n)
	}
	f, err = Resolve(context.Background(), "toy", Options{CacheDir: cache, Manifest: m, Download: true})
	if want := filepath.Join(cache, "toy", "weights"); err != nil || f.Where != WhereDownload || f.Path != want {
		t.Fatalf("%+v %v, want %s", f, err, want)
	}
	f, err = Resolve(context.Background(), "toy", Options{CacheDir: cache, Manifest: m})
	if err != nil || f.Where != WhereCache {
		t.Fatalf("after download: %+v %v", f, err)
	}
}
