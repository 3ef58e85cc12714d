package main

import (
	"image/color"
	"path/filepath"
	"testing"

	"github.com/posprobe/posprobe/internal/testfiles"
	"github.com/posprobe/posprobe/internal/testphotos"
)

// writeFiles writes a small file tree under root (see testfiles.Write).
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	testfiles.Write(t, root, files)
}

// writeTinyPhotos writes n small distinct PNG photos into a new folder.
func writeTinyPhotos(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		testphotos.Write(t, filepath.Join(dir, testphotos.Name("", i)), 40, 32, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(6 * x), uint8(7*y + 30*i), uint8(50 * i), 255}
		})
	}
	return dir
}
