package weights

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CacheEnv overrides the user cache root when set.
const CacheEnv = "POSPROBE_CACHE"

// CacheDir returns the root of the weight cache: $POSPROBE_CACHE, else
// os.UserCacheDir()/posprobe. Each encoder gets the folder <root>/<name>/,
// laid out like its folder under POSPROBE_DATA/weights.
func CacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache folder (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(d, "posprobe"), nil
}

// EntryDir is the folder of encoder e in the cache rooted at cacheRoot.
func EntryDir(cacheRoot string, e *Entry) string { return filepath.Join(cacheRoot, e.Name) }

// CheckFile reads the file at p and compares its size and sha256 with f.
// The error names p and what differs.
func CheckFile(p string, f File) error {
	fh, err := os.Open(p)
	if err != nil {
		return err
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if err := f.match(n, h.Sum(nil)); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// match compares a file's byte count and digest with the manifest.
func (f File) match(n int64, sum []byte) error {
	if f.Size > 0 && n != f.Size {
		return fmt.Errorf("%d bytes, manifest says %d", n, f.Size)
	}
	got := hex.EncodeToString(sum)
	if want := f.Digest(); !strings.HasPrefix(got, want) {
		return fmt.Errorf("sha256 %s, manifest says %s", got, want)
	}
	return nil
}

// FileCheck is the state of one manifest file in a folder.
type FileCheck struct {
	File File
	Path string // where it was looked for
	Err  error  // nil: present and matching; errors.Is(Err, fs.ErrNotExist): missing
}

// Verify hashes every file of e found under root and compares it with the
// manifest. Missing files are reported too, with an fs.ErrNotExist error.
func Verify(root string, e *Entry) []FileCheck {
	checks := make([]FileCheck, len(e.Files))
	for i, f := range e.Files {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		checks[i] = FileCheck{File: f, Path: p, Err: CheckFile(p, f)}
	}
	return checks
}

// Present counts the files of e under root that exist with the manifest's
// size (when known), without reading them: the cheap test Resolve uses for
// the cache, whose files were verified when they were written.
func Present(root string, e *Entry) (have int, bytes int64) {
	for _, f := range e.Files {
		st, err := os.Stat(filepath.Join(root, filepath.FromSlash(f.Path)))
		if err != nil || !st.Mode().IsRegular() || (f.Size > 0 && st.Size() != f.Size) {
			continue
		}
		have++
		bytes += st.Size()
	}
	return have, bytes
}
