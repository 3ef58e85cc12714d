package demo

import (
	"image/color"
	"math"
	"sync"
)

// viridis anchors (matplotlib's viridis at 0, 1/8, ..., 1): perceptually
// uniform and readable in grey, so map values compare by eye.
var viridis = [...][3]float64{
	{68, 1, 84}, {71, 44, 122}, {59, 81, 139}, {44, 113, 142}, {33, 144, 141},
	{39, 173, 129}, {92, 200, 99}, {170, 220, 50}, {253, 231, 37},
}

// Colormap returns the viridis colour of v in [0,1] (clamped; NaN is grey).
func Colormap(v float64) color.RGBA {
	if math.IsNaN(v) {
		return color.RGBA{128, 128, 128, 255}
	}
	v = math.Max(0, math.Min(1, v)) * float64(len(viridis)-1)
	i := int(v)
	if i >= len(viridis)-1 {
		i = len(viridis) - 2
	}
	f := v - float64(i)
	a, b := viridis[i], viridis[i+1]
	c := func(k int) uint8 { return uint8(math.Round(a[k] + f*(b[k]-a[k]))) }
	return color.RGBA{c(0), c(1), c(2), 255}
}

// Paint writes a size×size map into RGBA pixels (4 bytes per pixel). It
// looks colours up in a table of Colormap at paintLevels values (within one
// unit of Colormap): the page's UI thread paints five 224×224 maps per
// prediction, and interpolating each pixel cost it ~16 ms a prediction.
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
		c := Colormap(float64(i) / (paintLevels - 1))
		t[i] = [4]byte{c.R, c.G, c.B, 255}
	}
	return &t
})
