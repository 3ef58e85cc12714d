package study

import (
	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/nn"
)

// Paste returns a [1,3,side,side] canvas of colour col (RGB in [0,1]) with
// the photo x [1,3,s,s] at row y0, column x0.
func Paste(x *tensor.Dense, side, y0, x0 int, col [3]float32) *tensor.Dense {
	_, _, s, _ := nn.Dims4(x)
	out := nn.New(1, 3, side, side)
	od, xd := nn.Data(out), nn.Data(x)
	for ch := 0; ch < 3; ch++ {
		plane := od[ch*side*side : (ch+1)*side*side]
		for i := range plane {
			plane[i] = col[ch]
		}
		for y := 0; y < s; y++ {
			copy(plane[(y0+y)*side+x0:][:s], xd[(ch*s+y)*s:][:s])
		}
	}
	return out
}
