// Package atomicfile writes output files so that a reader never sees a half
// written one: the data goes to a temporary file in the destination's
// folder, is synced, and is renamed over the destination. A destination that
// is a symbolic link is refused (writing through it could replace a file
// outside the output folder), and SIGINT or SIGTERM removes the temporary
// files still open before the process ends.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// File is a temporary file that becomes path on Commit.
type File struct {
	*os.File
	path string
	perm os.FileMode
	done bool
}

var (
	mu   sync.Mutex
	live = map[*File]bool{} // uncommitted files, removed on a signal
)

// Create opens a temporary file beside path (whose folder is created if
// missing). Write to it, then Commit or Abort; Abort after Commit is a no-op,
// so `defer f.Abort()` cleans up every early return.
func Create(path string, perm os.FileMode) (*File, error) {
	if err := checkDest(path); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// The signal handler is in place before the file exists, and a signal
	// that arrives meanwhile waits for mu: no moment leaves a file behind.
	mu.Lock()
	defer mu.Unlock()
	if len(live) == 0 {
		watchSignals()
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		if len(live) == 0 {
			unwatchSignals()
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := &File{File: tmp, path: path, perm: perm}
	live[f] = true
	return f, nil
}

// checkDest refuses a destination that is a symbolic link or not a regular
// file.
func checkDest(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s: is a symbolic link; refusing to write through it", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s: exists and is not a regular file", path)
	}
	return nil
}

// finish runs last (rename or remove) while f is still on the signal list,
// holding mu, then drops f from the list: a signal either comes first and
// removes the temporary file, or waits until last has run. It reports
// errInterrupted when a signal already removed the file.
func finish(f *File, last func() error) error {
	mu.Lock()
	defer mu.Unlock()
	if !live[f] {
		return errInterrupted
	}
	err := last()
	delete(live, f)
	if len(live) == 0 {
		unwatchSignals()
	}
	return err
}

var errInterrupted = errors.New("interrupted")

// Commit syncs and closes the temporary file and renames it to the path.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("%s: already committed or aborted", f.path)
	}
	f.done = true
	err := f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), f.perm)
	}
	if err == nil {
		err = checkDest(f.path) // a link planted while writing
	}
	last := func() error {
		if err == nil {
			err = os.Rename(f.Name(), f.path)
		}
		if err != nil {
			os.Remove(f.Name())
		}
		return err
	}
	if ferr := finish(f, last); ferr != nil {
		return fmt.Errorf("%s: %w", f.path, ferr)
	}
	return nil
}

// Abort closes and removes the temporary file, unless committed.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	finish(f, func() error { return os.Remove(f.Name()) })
}

// Write writes path with the output of write.
func Write(path string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := write(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}

// WriteFile is os.WriteFile through a temporary file and a rename.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
