package nn

import (
	"math/rand/v2"
	"testing"
)

// benchConv times one forward pass and reports GFLOP/s (2 per multiply-add).
func benchConv(b *testing.B, c *Conv2D, n, h, w int) {
	r := rand.New(rand.NewPCG(3, 4))
	c.W = randSlice(r, c.OutC*c.InC/c.groups()*c.KH*c.KW)
	c.B = randSlice(r, c.OutC)
	x := FromData(randSlice(r, n*c.InC*h*w), n, c.InC, h, w)
	oh, ow := c.OutSize(h, w)
	flop := 2 * float64(n*c.OutC*oh*ow*(c.InC/c.groups())*c.KH*c.KW)
	c.Forward(x)
	b.ResetTimer()
	for b.Loop() {
		c.Forward(x)
	}
	b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConv3x3_64x112(b *testing.B) {
	benchConv(b, &Conv2D{InC: 64, OutC: 64, KH: 3, KW: 3, Stride: 1, Pad: 1}, 1, 112, 112)
}

func BenchmarkConv3x3_64x112_Reflect(b *testing.B) {
	benchConv(b, &Conv2D{InC: 64, OutC: 64, KH: 3, KW: 3, Stride: 1, Pad: 1, Mode: PadReflect}, 1, 112, 112)
}

func BenchmarkConv3x3s2_128x56(b *testing.B) {
	benchConv(b, &Conv2D{InC: 128, OutC: 128, KH: 3, KW: 3, Stride: 2, Pad: 1}, 1, 56, 56)
}

func BenchmarkConv1x1_256to64x56(b *testing.B) {
	benchConv(b, &Conv2D{InC: 256, OutC: 64, KH: 1, KW: 1, Stride: 1}, 1, 56, 56)
}

func BenchmarkConv7x7s2_3to64x224(b *testing.B) {
	benchConv(b, &Conv2D{InC: 3, OutC: 64, KH: 7, KW: 7, Stride: 2, Pad: 3}, 1, 224, 224)
}

func BenchmarkDepthwise3x3_144x56(b *testing.B) {
	benchConv(b, &Conv2D{InC: 144, OutC: 144, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 144}, 1, 56, 56)
}

func BenchmarkMaxPool3x3s2_64x112(b *testing.B) {
	x := New(1, 64, 112, 112)
	for b.Loop() {
		MaxPool2D(x, 3, 2, 1, false)
	}
}

func BenchmarkResizeBilinear_512x56to28(b *testing.B) {
	x := New(1, 512, 56, 56)
	for b.Loop() {
		ResizeBilinear(x, 28, 28, false)
	}
}

func BenchmarkResizePIL_481x321to224(b *testing.B) {
	src := hashImage(481, 321, 3)
	for b.Loop() {
		ResizePIL(src, 481, 321, 3, 224, 224)
	}
}

func BenchmarkReLU6_96x112(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	src := randSlice(r, 96*112*112)
	for i := range src {
		src[i] *= 4 // both clamps taken often
	}
	x := New(1, 96, 112, 112)
	for b.Loop() {
		copy(Data(x), src)
		ReLU6(x)
	}
}
