package nn

import (
	"math/rand/v2"
	"testing"
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

// The column phases give the same column matrix as the direct gather, value
// for value, for every stride, kernel and padding (rows in bands too).
func TestIm2colPhasedMatchesGather(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range []int{2, 3} {
		for _, k := range []int{1, 2, 3, 5, 7} {
			for _, p := range []int{0, 1, 3} {
				ch, h, w := 3, 11, 14
				if h+2*p < k || w+2*p < k {
					continue
				}
				oh, ow := (h+2*p-k)/s+1, (w+2*p-k)/s+1
				src := randSlice(r, ch*h*w)
				g := phaseGeom{h: h, w: w, p: p, s: s, wq: (w + 2*p + s - 1) / s}
				q := make([]float32, ch*s*h*g.wq)
				phaseSplit(q, src, 0, ch, g, k, k, oh)
				for _, y := range [][2]int{{0, oh}, {1, oh}, {0, 1}} {
					n := ch * k * k * (y[1] - y[0]) * ow
					want, got := make([]float32, n), make([]float32, n)
					im2colZero(want, src, ch, h, w, k, k, s, p, y[0], y[1], ow)
					im2colPhased(got, q, ch, g, k, k, y[0], y[1], ow)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("s %d k %d p %d rows %v: col[%d] = %g, want %g", s, k, p, y, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// ForwardActIn gives ReLU / ReLU6 of ForwardIn exactly, on every path
// (direct 1×1, im2col in bands, strided, depthwise, Winograd).
func TestForwardActMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	defer func(v int) { colBandValues = v }(colBandValues)
	colBandValues = 200
	defer SetWinogradMode("auto")
	for _, wm := range []string{"off", "on"} {
		if err := SetWinogradMode(wm); err != nil {
			t.Fatal(err)
		}
		for _, cfg := range [][5]int{{8, 6, 1, 1, 1}, {8, 6, 3, 1, 1}, {8, 6, 3, 2, 1}, {3, 6, 7, 2, 1}, {8, 8, 3, 1, 8}, {8, 16, 3, 2, 8}, {8, 8, 5, 1, 8}} {
			for _, mode := range []PadMode{PadZero, PadReflect} {
				c := &Conv2D{InC: cfg[0], OutC: cfg[1], KH: cfg[2], KW: cfg[2], Stride: cfg[3], Pad: cfg[2] / 2, Groups: cfg[4], Mode: mode}
				c.W = randSlice(r, c.OutC*c.InC/c.Groups*c.KH*c.KW)
				c.B = randSlice(r, c.OutC)
				x := FromData(randSlice(r, c.InC*13*17), 1, c.InC, 13, 17)
				for _, act := range []Act{ActNone, ActReLU, ActReLU6} {
					want := Data(c.Forward(x))
					switch act {
					case ActReLU:
						relu(want)
					case ActReLU6:
						relu6(want)
					}
					got := Data(c.ForwardActIn(NewArena(), x, act))
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("winograd %s cfg %v %v act %d: [%d] = %g, want %g", wm, cfg, mode, act, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// In WebAssembly the bias of a GEMM conv with k ≤ gemmBlockK goes in after
// the GEMM (biasLate); the outputs must be the same floats as with the bias
// first.
func TestBiasLateExact(t *testing.T) {
	if !biasLate {
		t.Skip("bias goes first on this platform")
	}
	defer func() { biasLate = true }()
	defer SetWinogradMode("auto")
	SetWinogradMode("off")
	r := rand.New(rand.NewPCG(9, 10))
	// The last two give n = 4 and 1 columns (the narrow dot-product GEMM).
	for _, cfg := range [][5]int{{1, 1, 1, 15, 19}, {9, 1, 1, 15, 19}, {256, 1, 1, 15, 19}, {28, 3, 1, 15, 19}, {3, 7, 2, 15, 19}, {7, 3, 2, 15, 19}, {200, 1, 1, 2, 2}, {24, 3, 1, 1, 1}} {
		c := &Conv2D{InC: cfg[0], OutC: 7, KH: cfg[1], KW: cfg[1], Stride: cfg[2], Pad: cfg[1] / 2}
		c.W = randSlice(r, c.OutC*c.InC*c.KH*c.KW)
		c.B = randSlice(r, c.OutC)
		x := FromData(randSlice(r, c.InC*cfg[3]*cfg[4]), 1, c.InC, cfg[3], cfg[4])
		biasLate = false
		want := Data(c.ForwardActIn(nil, x, ActReLU))
		biasLate = true
		got := Data(c.ForwardActIn(nil, x, ActReLU))
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("cfg %v: [%d] bias late %g, first %g", cfg, i, got[i], want[i])
			}
		}
	}
}
