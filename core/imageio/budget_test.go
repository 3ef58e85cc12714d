package imageio

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/posprobe/posprobe/core/photo"
	"github.com/posprobe/posprobe/internal/hostile"
)

// FuzzDecode: any bytes give an image within photo's budget that RGB
// converts, or an error naming the source, never a panic or an allocation
// the header did not justify.
func FuzzDecode(f *testing.F) {
	for _, format := range []string{"png", "jpeg", "gif"} {
		f.Add(hostile.Small(format, 9, 7))
		f.Add(hostile.Bomb(format, 60000, 60000))
	}
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	photo.SetMaxPixels(1 << 16) // keep each input cheap
	f.Cleanup(func() { photo.SetMaxPixels(photo.DefaultMaxPixels) })
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := photo.Decode(bytes.NewReader(b), "fuzz.img")
		if hostile.Refused(t, err, "fuzz.img") {
			return
		}
		if d := img.Bounds(); int64(d.Dx())*int64(d.Dy()) > photo.MaxPixels() {
			t.Fatalf("%v decoded over the budget", d)
		}
		RGB(img)
	})
}

// TestDecodesShareMemory: a decode waits while the decode memory is taken
// (folder commands decode on every core at once).
func TestDecodesShareMemory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.png")
	os.WriteFile(p, hostile.Small("png", 64, 48), 0o644)
	if !decodeSem.TryAcquire(decodeMemory) {
		t.Fatal("decode memory in use")
	}
	done := make(chan error, 1)
	go func() { _, err := LoadTensor(p, 32); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("decoded while the memory was taken (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	decodeSem.Release(decodeMemory)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c := decodeCost(image.Config{Width: 100000, Height: 100000}); c != decodeMemory {
		t.Errorf("cost of a huge image %d, want the whole budget", c)
	}
}
