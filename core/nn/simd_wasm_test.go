//go:build goexperiment.simd && wasm

package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/posprobe/posprobe/core/gemm"
	"gorgonia.org/tensor"
)

// scalarVsSIMD runs f with the scalar loops and GEMM kernel (simdOn false,
// path generic) and with the SIMD128 ones, and checks that the outputs agree
// within 1e-5 of the largest scalar output (they should be equal but for
// the sign of zeros); NaNs must sit at the same places.
func scalarVsSIMD(t *testing.T, what string, f func() []float32) {
	t.Helper()
	defer func() { simdOn = true; gemm.SetPath("") }()
	simdOn = false
	if err := gemm.SetPath("generic"); err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), f()...)
	simdOn = true
	if err := gemm.SetPath("simd128"); err != nil {
		t.Fatal(err)
	}
	got := f()
	var mx float64
	for _, v := range want {
		if !math.IsNaN(float64(v)) {
			mx = max(mx, math.Abs(float64(v)))
		}
	}
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > 1e-5*mx {
			t.Fatalf("%s: out[%d] SIMD %v, scalar %v (max|scalar| %g)", what, i, got[i], want[i], mx)
		}
	}
}

func TestSIMDMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	sizes := [][2]int{{1, 1}, {3, 5}, {7, 7}, {9, 14}, {14, 14}, {17, 23}, {28, 31}, {56, 56}}
	for _, hw := range sizes {
		h, w := hw[0], hw[1]
		x := randSlice(r, 2*8*h*w)
		x[r.IntN(len(x))] = float32(math.NaN())
		in := func() *tensor.Dense { return FromData(append([]float32(nil), x...), 2, 8, h, w) }
		xc := randSlice(r, len(x)) // no NaN: it would blank whole conv outputs
		inc := func() *tensor.Dense { return FromData(append([]float32(nil), xc...), 2, 8, h, w) }
		scalarVsSIMD(t, "relu", func() []float32 { return Data(ReLU(in())) })
		scalarVsSIMD(t, "relu6", func() []float32 { return Data(ReLU6(in())) })
		scalarVsSIMD(t, "add", func() []float32 {
			return Data(Add(in(), FromData(randSlice(rand.New(rand.NewPCG(1, 1)), len(x)), 2, 8, h, w)))
		})
		for _, k := range [][3]int{{3, 2, 0}, {3, 2, 1}, {2, 2, 0}} {
			if h+2*k[2] < k[0] || w+2*k[2] < k[0] {
				continue
			}
			scalarVsSIMD(t, "maxpool", func() []float32 { return Data(MaxPool2D(in(), k[0], k[1], k[2], true)) })
		}
		for _, s := range []int{1, 2} {
			for _, p := range []int{0, 1} {
				if h+2*p < 3 || w+2*p < 3 {
					continue
				}
				for _, mult := range []int{1, 2} {
					c := &Conv2D{InC: 8, OutC: 8 * mult, KH: 3, KW: 3, Stride: s, Pad: p, Groups: 8, W: randSlice(r, 8*mult*9), B: randSlice(r, 8*mult)}
					scalarVsSIMD(t, "depthwise", func() []float32 { return Data(c.Forward(inc())) })
					scalarVsSIMD(t, "depthwise relu6", func() []float32 { return Data(c.ForwardActIn(nil, inc(), ActReLU6)) })
				}
			}
		}
		scalarVsSIMD(t, "resize up", func() []float32 { return Data(ResizeBilinear(inc(), 2*h+1, 2*w+3, false)) })
		scalarVsSIMD(t, "resize down", func() []float32 { return Data(ResizeBilinear(inc(), (h+1)/2, (w+2)/3, true)) })
		for _, k := range [][2]int{{1, 0}, {3, 0}, {3, 1}, {7, 3}} {
			if h+2*k[1] < k[0] || w+2*k[1] < k[0] {
				continue
			}
			c2 := &Conv2D{InC: 8, OutC: 5, KH: k[0], KW: k[0], Stride: 2, Pad: k[1], W: randSlice(r, 5*8*k[0]*k[0]), B: randSlice(r, 5)}
			scalarVsSIMD(t, "conv stride 2", func() []float32 { return Data(c2.Forward(inc())) })
		}
		c1 := &Conv2D{InC: 8, OutC: 13, KH: 1, KW: 1, W: randSlice(r, 13*8), B: randSlice(r, 13)}
		scalarVsSIMD(t, "conv1x1", func() []float32 { return Data(c1.Forward(inc())) })
		if h >= 3 && w >= 3 {
			for _, wm := range []string{"off", "f23", "f43"} {
				if err := SetWinogradMode(wm); err != nil {
					t.Fatal(err)
				}
				c3 := &Conv2D{InC: 8, OutC: 10, KH: 3, KW: 3, Pad: 1, W: randSlice(r, 10*8*9), B: randSlice(r, 10)}
				scalarVsSIMD(t, "conv3x3 winograd "+wm, func() []float32 { return Data(c3.Forward(inc())) })
			}
			SetWinogradMode("auto")
		}
	}
}
