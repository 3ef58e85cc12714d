// Package testphotos writes the small synthetic photos that tests train,
// extract and score on.
package testphotos

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// Write writes a w x h PNG whose pixel (x, y) is px(x, y) to path (its
// folder is created).
func Write(t testing.TB, path string, w, h int, px func(x, y int) color.NRGBA) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, px(x, y))
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	err = png.Encode(f, img)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// Name is the i-th file name of a set: prefix, a letter from 'a', ".png".
func Name(prefix string, i int) string { return prefix + string(rune('a'+i)) + ".png" }
