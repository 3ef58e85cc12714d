//go:build unix

package imageio

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/posprobe/posprobe/internal/hostile"
)

func TestLoadRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.jpg")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	if _, err := Load(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), fifo) {
		t.Errorf("FIFO: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("folder: %v", err)
	}
	// The FIFO is listed by name, so folder commands skip it with a warning.
	os.WriteFile(filepath.Join(dir, "a.png"), hostile.Small("png", 8, 8), 0o644)
	paths, err := ListImages(dir, false)
	if err != nil || len(paths) != 2 {
		t.Errorf("ListImages: %v, %v", paths, err)
	}
}
