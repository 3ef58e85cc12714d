// Package colormap is the one colour map of posprobe: matplotlib's viridis,
// used by the demo's maps and the PNGs of 'posprobe predict' alike, so both
// show the same colours for the same values.
package colormap

import (
	"image"
	"image/color"
	"math"
)

// viridis anchors (matplotlib's viridis at 0, 1/8, ..., 1): perceptually
// uniform and readable in grey, so map values compare by eye.
var viridis = [...][3]float64{
	{68, 1, 84}, {71, 44, 122}, {59, 81, 139}, {44, 113, 142}, {33, 144, 141},
	{39, 173, 129}, {92, 200, 99}, {170, 220, 50}, {253, 231, 37},
}

// Viridis returns the colour of v in [0,1] (clamped; NaN is grey).
func Viridis(v float64) color.RGBA {
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

// Image renders a size x size map (row-major) with values in [lo,hi]
// through Viridis.
func Image(m []float32, size int, lo, hi float64) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for i, v := range m[:min(len(m), size*size)] {
		img.SetNRGBA(i%size, i/size, color.NRGBA(Viridis((float64(v)-lo)/(hi-lo))))
	}
	return img
}
