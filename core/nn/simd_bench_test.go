//go:build goexperiment.simd && wasm

package nn

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkLayerSIMD times the per-layer (non-GEMM) work of the small
// networks with the scalar loops and with the SIMD128 hooks, one after the
// other in one process (run with -count to alternate them).
func BenchmarkLayerSIMD(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	// F(4x4,3x3) input transform of a ResNet-18 layer1 conv (64ch 56x56).
	const ci, h, w = 64, 56, 56
	x := randSlice(r, ci*h*w)
	tw := (w + 3) / 4
	nt := tw * tw
	stride := winoStride(ci * nt)
	v := make([]float32, 36*stride)
	rows := make([]float32, 6*(4*tw+4))
	wino := func() {
		for ch := 0; ch < ci; ch++ {
			winoInput43(v, x[ch*h*w:(ch+1)*h*w], rows, h, w, 1, 0, tw, tw, ch*nt, stride)
		}
	}
	// Depthwise 3x3 + ReLU6 of MobileNetV2 (144ch 56x56, stride 1 and 2).
	dw := func(s int) func() {
		c := &Conv2D{InC: 144, OutC: 144, KH: 3, KW: 3, Stride: s, Pad: 1, Groups: 144, W: randSlice(r, 144*9), B: randSlice(r, 144)}
		in := FromData(randSlice(r, 144*56*56), 1, 144, 56, 56)
		a := NewArena()
		return func() { a.Reset(nil); c.ForwardActIn(a, in, ActReLU6) }
	}
	// ResNet-18's conv1 im2col (7x7/2, pad 3, 3ch 224x224) and SqueezeNet's
	// first max pool (64ch 111x111, 3x3/2, ceil).
	img := randSlice(r, 3*224*224)
	col := make([]float32, 3*49*112*112)
	g := phaseGeom{h: 224, w: 224, p: 3, s: 2, wq: 115}
	q := make([]float32, 3*2*224*115)
	pool := FromData(randSlice(r, 64*111*111), 1, 64, 111, 111)
	pa := NewArena()
	for _, l := range []struct {
		name string
		f    func()
	}{
		{"winoInput43_64x56", wino},
		{"dw3x3s1_144x56", dw(1)},
		{"dw3x3s2_144x56", dw(2)},
		{"im2col7x7s2_gather", func() { im2colZero(col, img, 3, 224, 224, 7, 7, 2, 3, 0, 112, 112) }},
		{"im2col7x7s2_phases", func() {
			phaseSplit(q, img, 0, 3, g, 7, 7, 112)
			im2colPhased(col, q, 3, g, 7, 7, 0, 112, 112)
		}},
		{"maxpool3x3s2_64x111", func() { pa.Reset(nil); MaxPool2DIn(pa, pool, 3, 2, 0, true) }},
	} {
		for _, on := range []bool{false, true} {
			name := l.name + "/scalar"
			if on {
				name = l.name + "/simd"
			}
			b.Run(name, func(b *testing.B) {
				defer func() { simdOn = true }()
				simdOn = on
				for b.Loop() {
					l.f()
				}
			})
		}
	}
}
