package colormap

import (
	"image/color"
	"math"
	"testing"
)

func TestViridis(t *testing.T) {
	if c := Viridis(0); c.R != 68 || c.G != 1 || c.B != 84 {
		t.Errorf("0 -> %v", c)
	}
	if c := Viridis(1); c.R != 253 || c.G != 231 || c.B != 37 {
		t.Errorf("1 -> %v", c)
	}
	if Viridis(-3) != Viridis(0) || Viridis(7) != Viridis(1) {
		t.Error("values outside [0,1] are not clamped")
	}
	if c := Viridis(0.0625); c.R != 70 || c.G != 23 || c.B != 103 { // halfway between the first anchors
		t.Errorf("0.0625 -> %v", c)
	}
	if c := Viridis(math.NaN()); c != (color.RGBA{128, 128, 128, 255}) {
		t.Errorf("NaN -> %v", c)
	}
}

// Image maps [lo,hi] onto the colour map, row by row.
func TestImage(t *testing.T) {
	img := Image([]float32{-1, 0, 1, 0.5}, 2, -1, 1)
	for i, v := range []float64{0, 0.5, 1, 0.75} {
		want := Viridis(v)
		if got := img.NRGBAAt(i%2, i/2); got != color.NRGBA(want) {
			t.Errorf("pixel %d: %v, want %v", i, got, want)
		}
	}
}

// matplotlib viridis(0) = #440154, viridis(1) = #fde725; values outside
// [lo,hi] clamp.
func TestImageEnds(t *testing.T) {
	img := Image([]float32{-1, 0, 1, 2}, 2, -1, 1)
	lo, mid, hi := img.NRGBAAt(0, 0), img.NRGBAAt(1, 0), img.NRGBAAt(0, 1)
	if lo != (color.NRGBA{0x44, 0x01, 0x54, 255}) || hi != (color.NRGBA{0xfd, 0xe7, 0x25, 255}) || img.NRGBAAt(1, 1) != hi {
		t.Errorf("viridis ends %v %v", lo, hi)
	}
	if mid == lo || mid == hi || mid.A != 255 {
		t.Errorf("mid-range %v", mid)
	}
}
