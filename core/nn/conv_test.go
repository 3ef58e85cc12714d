package nn

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// naiveConv is a direct 6-loop convolution over a padded index map, an
// independent check of im2col/GEMM and the depthwise loop.
func naiveConv(c *Conv2D, x []float32, n, h, w int) []float32 {
	oh, ow := c.OutSize(h, w)
	p, s, g := c.pad(), c.stride(), c.groups()
	cg, og := c.InC/g, c.OutC/g
	out := make([]float32, n*c.OutC*oh*ow)
	for b := 0; b < n; b++ {
		for o := 0; o < c.OutC; o++ {
			gi := o / og
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					var sum float64
					if c.B != nil {
						sum = float64(c.B[o])
					}
					for ic := 0; ic < cg; ic++ {
						for ky := 0; ky < c.KH; ky++ {
							sy := srcIndex(oy*s+ky-p, h, c.Mode)
							for kx := 0; kx < c.KW; kx++ {
								sx := srcIndex(ox*s+kx-p, w, c.Mode)
								if sy < 0 || sx < 0 {
									continue
								}
								v := x[((b*c.InC+gi*cg+ic)*h+sy)*w+sx]
								sum += float64(v) * float64(c.W[((o*cg+ic)*c.KH+ky)*c.KW+kx])
							}
						}
					}
					out[((b*c.OutC+o)*oh+oy)*ow+ox] = float32(sum)
				}
			}
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestConvMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, mode := range []PadMode{PadZero, PadNone, PadReflect, PadReplicate, PadCircular} {
		for _, s := range []int{1, 2, 3} {
			for _, cfg := range [][4]int{{4, 6, 3, 1}, {4, 6, 3, 2}, {4, 4, 3, 4}, {4, 8, 3, 4}, {4, 6, 1, 1}, {6, 6, 1, 3}, {1, 5, 3, 1}, {3, 4, 5, 1}, {2, 3, 7, 1}} {
				c := &Conv2D{InC: cfg[0], OutC: cfg[1], KH: cfg[2], KW: cfg[2], Stride: s, Pad: cfg[2] / 2, Groups: cfg[3], Mode: mode}
				c.W = randSlice(r, c.OutC*c.InC/c.Groups*c.KH*c.KW)
				c.B = randSlice(r, c.OutC)
				n, h, w := 2, 9, 8
				x := randSlice(r, n*c.InC*h*w)
				got := Data(c.Forward(FromData(x, n, c.InC, h, w)))
				want := naiveConv(c, x, n, h, w)
				for i := range want {
					if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
						t.Fatalf("mode %v stride %d cfg %v: [%d] got %g want %g", mode, s, cfg, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestConvFusedActivation checks that Act gives exactly the conv followed by
// ReLU/ReLU6 on every path (1×1 GEMM in bands, im2col with and without
// padding copy, depthwise with zero and other padding).
func TestConvFusedActivation(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	defer func(a, c int) { actBandValues, colBandValues = a, c }(actBandValues, colBandValues)
	actBandValues, colBandValues = 40, 200
	for _, act := range []struct {
		a Activation
		f func(*tensor.Dense) *tensor.Dense
	}{{ActReLU, ReLU}, {ActReLU6, ReLU6}} {
		for _, c := range []Conv2D{
			{InC: 4, OutC: 6, KH: 1, KW: 1},
			{InC: 4, OutC: 6, KH: 3, KW: 3, Pad: 1},
			{InC: 4, OutC: 6, KH: 3, KW: 3, Pad: 1, Stride: 2, Mode: PadReflect},
			{InC: 4, OutC: 4, KH: 3, KW: 3, Pad: 1, Groups: 4},
			{InC: 4, OutC: 8, KH: 3, KW: 3, Pad: 1, Groups: 4, Mode: PadReplicate},
			{InC: 4, OutC: 4, KH: 5, KW: 5, Pad: 2, Groups: 4},
		} {
			c.W = randSlice(r, c.OutC*c.InC/c.groups()*c.KH*c.KW)
			c.B = randSlice(r, c.OutC)
			for i := range c.W {
				c.W[i] *= 3 // reach past 6 too
			}
			x := FromData(randSlice(r, 2*c.InC*9*8), 2, c.InC, 9, 8)
			want := Data(act.f(c.Forward(x)))
			c.Act = act.a
			got := Data(c.Forward(x))
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("act %d conv %+v: [%d] = %v, want %v", act.a, c, i, got[i], want[i])
				}
			}
		}
	}
}
