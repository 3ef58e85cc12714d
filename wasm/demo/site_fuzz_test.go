package demo

import (
	"errors"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/hostile"
)

// bytesSource serves one site.json.
type bytesSource []byte

func (b bytesSource) Read(path string, _ func(int64, int64)) ([]byte, error) {
	if path != "site.json" || b == nil {
		return nil, errors.New(path + ": not found")
	}
	return b, nil
}

func TestDecodePhotoRefusesBombs(t *testing.T) {
	for _, format := range []string{"png", "jpeg", "gif"} {
		for _, wh := range [][2]int{{65000, 65000}, {60000, 1000}, {100000, 100000}} {
			if format != "png" && wh[0] > 65535 {
				continue
			}
			_, err := DecodePhoto(hostile.Bomb(format, wh[0], wh[1]), "drop."+format)
			if err == nil || !strings.Contains(err.Error(), "drop."+format) || !strings.Contains(err.Error(), "over the demo's 50-megapixel limit") {
				t.Errorf("%s %v: %v, want an error naming the file and the demo's limit", format, wh, err)
			}
		}
	}
	if _, err := DecodePhoto(hostile.Small("png", 64, 48), "ok.png"); err != nil {
		t.Error(err)
	}
	if _, err := DecodePhoto([]byte("GIF87a, cut"), "cut.gif"); err == nil || !strings.Contains(err.Error(), "cut.gif") {
		t.Errorf("truncated photo: %v, want an error naming it", err)
	}
}

// FuzzReadManifest: any site.json gives a manifest with a photo, or an
// error naming site.json, never a panic.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"photo":"photo/a.png","encoders":{"squeezenet1.1":"w/s.safetensors"},"readouts":["r/H.readout"],"note":""}`))
	f.Add([]byte(`{"readouts":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"encoders":{"a":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadManifest(bytesSource(b))
		if err != nil && !strings.Contains(err.Error(), "site.json") {
			t.Fatalf("error does not name site.json: %v", err)
		}
		if m.Photo == "" {
			t.Fatal("manifest without a photo")
		}
	})
}
