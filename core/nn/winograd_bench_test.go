package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// winoBenchShapes are the 3×3 stride-1 layers of SqueezeNet 1.1 (expand)
// and VGG16, plus small ones near the cut-offs of winogradFits and
// winoTile.
var winoBenchShapes = []struct {
	name         string
	ci, co, h, w int
}{
	{"sq_16to64x55", 16, 64, 55, 55},
	{"sq_32to128x27", 32, 128, 27, 27},
	{"sq_48to192x13", 48, 192, 13, 13},
	{"sq_64to256x13", 64, 256, 13, 13},
	{"vgg_3to64x224", 3, 64, 224, 224},
	{"vgg_64to64x224", 64, 64, 224, 224},
	{"vgg_256to256x56", 256, 256, 56, 56},
	{"vgg_512to512x28", 512, 512, 28, 28},
	{"vgg_512to512x14", 512, 512, 14, 14},
	{"small_2to64x56", 2, 64, 56, 56},
	{"small_3to64x56", 3, 64, 56, 56},
	{"small_4to64x56", 4, 64, 56, 56},
	{"small_8to64x56", 8, 64, 56, 56},
	{"small_64to4x56", 64, 4, 56, 56},
	{"small_64to8x56", 64, 8, 56, 56},
	{"small_256to256x3", 256, 256, 3, 3},
	{"small_256to256x4", 256, 256, 4, 4},
	{"small_256to256x2", 256, 256, 2, 2},
	{"small_256to256x6", 256, 256, 6, 6},
	{"small_256to256x8", 256, 256, 8, 8},
	{"small_256to256x10", 256, 256, 10, 10},
	{"small_64to64x8", 64, 64, 8, 8},
	{"small_64to64x10", 64, 64, 10, 10},
}

// BenchmarkWinograd times each layer with the direct path (off) and the
// Winograd path with 2×2 (f23) and 4×4 (f43) output tiles, one after the
// other; GFLOP/s counts the direct MACs.
func BenchmarkWinograd(b *testing.B) {
	prev := Winograd()
	defer SetWinograd(prev)
	for _, s := range winoBenchShapes {
		c := &Conv2D{InC: s.ci, OutC: s.co, KH: 3, KW: 3, Stride: 1, Pad: 1}
		r := rand.New(rand.NewPCG(3, 4))
		c.W = randSlice(r, c.OutC*c.InC*9)
		c.B = randSlice(r, c.OutC)
		x := FromData(randSlice(r, c.InC*s.h*s.w), 1, c.InC, s.h, s.w)
		flop := 2 * float64(c.OutC*s.h*s.w*c.InC*9)
		for _, m := range []int{0, 2, 4} {
			b.Run(fmt.Sprintf("%s/%s", s.name, map[int]string{0: "off", 2: "f23", 4: "f43"}[m]), func(b *testing.B) {
				a := NewArena()
				oh, ow := c.OutSize(s.h, s.w)
				out := a.New(1, c.OutC, oh, ow)
				pass := func() {
					if m > 0 {
						c.winogradM(a, out, x, m, ActNone) // bypasses winogradFits' cut-offs
						return
					}
					SetWinograd(false)
					a.Reset(nil)
					c.ForwardIn(a, x)
				}
				pass()
				b.ResetTimer()
				for b.Loop() {
					pass()
				}
				b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkWinogradTransform times the weight transform of a 512->512 3×3
// layer (ResNet-18's and VGG16's largest), which the first pass through a
// layer pays.
func BenchmarkWinogradTransform(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	c := &Conv2D{InC: 512, OutC: 512, KH: 3, KW: 3, Pad: 1}
	c.W = randSlice(r, c.OutC*c.InC*9)
	for _, m := range []int{2, 4} {
		b.Run(fmt.Sprint("m", m), func(b *testing.B) {
			for b.Loop() {
				c.transformWeights(m)
			}
		})
	}
}
