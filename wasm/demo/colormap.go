package demo

import (
	"sync"

	"github.com/posprobe/posprobe/core/colormap"
)

// Paint writes a size×size map into RGBA pixels (4 bytes per pixel). It
// looks colours up in a table of colormap.Viridis at paintLevels values
// (within one unit of it): the page's UI thread paints five 224×224 maps
// per prediction, and interpolating each pixel cost it ~16 ms a prediction.
func Paint(m []float32, size int, pix []byte) {
	lut := paintLUT()
	n := min(size*size, len(m), len(pix)/4)
	for i, v := range m[:n] {
		var c [4]byte
		switch {
		case v != v:
			c = [4]byte{128, 128, 128, 255}
		case v <= 0:
			c = lut[0]
		case v >= 1:
			c = lut[paintLevels-1]
		default:
			c = lut[int(v*(paintLevels-1)+0.5)]
		}
		copy(pix[4*i:4*i+4], c[:])
	}
}

const paintLevels = 4096

var paintLUT = sync.OnceValue(func() *[paintLevels][4]byte {
	var t [paintLevels][4]byte
	for i := range t {
		c := colormap.Viridis(float64(i) / (paintLevels - 1))
		t[i] = [4]byte{c.R, c.G, c.B, 255}
	}
	return &t
})
