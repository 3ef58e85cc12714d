//go:build !js

package weights

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Progress is told how far the download of one file has got: done bytes of
// size (-1 when neither the manifest nor the server says). A retry from the
// next mirror starts again at 0.
type Progress func(file string, done, size int64)

// Downloader fetches an encoder's files into its cache folder. Every file is
// written to a temporary file beside its destination and renamed into place
// only once its size and sha256 match the manifest, so a failed, corrupt,
// cancelled or interrupted download leaves nothing behind.
type Downloader struct {
	Client   *http.Client // nil: http.DefaultClient
	Progress Progress     // nil: silent
	// StallTimeout gives up on a mirror that sends nothing for this long
	// (0: DefaultStallTimeout); a slow but moving transfer goes on.
	StallTimeout time.Duration
}

// DefaultStallTimeout is how long a download may receive nothing.
const DefaultStallTimeout = time.Minute

// errStalled is the cause a stalled transfer is cancelled with.
var errStalled = errors.New("stalled")

// partSuffix marks temporary downloads; stale ones are swept by Fetch.
const partSuffix = ".part"

// staleAfter is when a leftover temporary file (a killed process) is removed.
const staleAfter = 24 * time.Hour

// Fetch makes every file of e present and verified in dir (normally
// EntryDir(cacheRoot, e)): files already there are hashed, and missing or
// mismatching ones are downloaded from the manifest's URLs in order. The
// error names the encoder, the file and every URL tried.
func (d *Downloader) Fetch(ctx context.Context, e *Entry, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", e.Name, err)
	}
	sweepParts(dir)
	for _, f := range e.Files {
		if err := d.fetchFile(ctx, e, f, dir); err != nil {
			return err
		}
	}
	return nil
}

// inFlight serialises fetches of the same destination inside one process, so
// that a second caller waits and then finds the verified file instead of
// downloading it again. Separate processes stay safe through temp + rename.
var inFlight sync.Map // destination path -> *sync.Mutex

func (d *Downloader) fetchFile(ctx context.Context, e *Entry, f File, dir string) error {
	dst := filepath.Join(dir, filepath.FromSlash(f.Path))
	mu, _ := inFlight.LoadOrStore(dst, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	// A wrong file already there stays until a verified one replaces it.
	if CheckFile(dst, f) == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %s: %w", e.Name, f.Path, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("%s: %w", e.Name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*"+partSuffix)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", e.Name, f.Path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	var fails []string
	for _, url := range e.FileURLs(f) {
		err := d.get(ctx, url, f, tmp)
		if err == nil {
			if err := tmp.Sync(); err != nil {
				return fmt.Errorf("%s: %s: %w", e.Name, f.Path, err)
			}
			if err := tmp.Close(); err != nil {
				return fmt.Errorf("%s: %s: %w", e.Name, f.Path, err)
			}
			if err := os.Chmod(tmp.Name(), 0o644); err != nil {
				return fmt.Errorf("%s: %s: %w", e.Name, f.Path, err)
			}
			if err := os.Rename(tmp.Name(), dst); err != nil {
				return fmt.Errorf("%s: %s: %w", e.Name, f.Path, err)
			}
			renamed = true
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %s from %s: %w", e.Name, f.Path, url, ctx.Err())
		}
		fails = append(fails, fmt.Sprintf("%s: %v", url, err))
	}
	return fmt.Errorf("%s: could not download %s:\n  %s", e.Name, f.Path, strings.Join(fails, "\n  "))
}

// get downloads url into tmp (emptied first) and checks it against f.
func (d *Downloader) get(parent context.Context, url string, f File, tmp *os.File) error {
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	stall := d.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	watchdog := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer watchdog.Stop()
	err := d.copy(ctx, url, f, tmp, func() { watchdog.Reset(stall) })
	if err != nil && parent.Err() == nil && errors.Is(context.Cause(ctx), errStalled) {
		return fmt.Errorf("no data for %v, gave up", stall)
	}
	return err
}

// copy does the request of get; alive is called whenever bytes arrive.
func (d *Downloader) copy(ctx context.Context, url string, f File, tmp *os.File, alive func()) error {
	if err := tmp.Truncate(0); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	if f.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != f.Size {
		return fmt.Errorf("server announces %d bytes, manifest says %d", resp.ContentLength, f.Size)
	}
	size := f.Size
	if size == 0 {
		size = resp.ContentLength // -1 when unknown
	}
	body := io.Reader(resp.Body)
	if f.Size > 0 {
		body = io.LimitReader(body, f.Size+1) // a longer body fails the size check
	}
	pw := &progressWriter{file: f.Path, size: size, report: d.Progress, alive: alive}
	pw.tell()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h, pw), body)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("connection closed after %d of %s bytes", n, sizeText(size))
		}
		return fmt.Errorf("after %d bytes: %w", n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("got %d bytes, server announced %d", n, resp.ContentLength)
	}
	return f.match(n, h.Sum(nil))
}

func sizeText(n int64) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

type progressWriter struct {
	file       string
	done, size int64
	report     Progress
	alive      func()
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.alive()
	p.done += int64(len(b))
	p.tell()
	return len(b), nil
}

func (p *progressWriter) tell() {
	if p.report != nil {
		p.report(p.file, p.done, p.size)
	}
}

// sweepParts removes temporary downloads under dir left by a killed process;
// recent ones may belong to a fetch running in another process.
func sweepParts(dir string) {
	_ = filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(p, partSuffix) || !strings.HasPrefix(de.Name(), ".") {
			return nil
		}
		if info, err := de.Info(); err == nil && time.Since(info.ModTime()) > staleAfter {
			os.Remove(p)
		}
		return nil
	})
}
