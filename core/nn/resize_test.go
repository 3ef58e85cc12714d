package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// resizeBilinearRef is the one-expression ResizeBilinear that the separable
// one replaced; outputs must be bit-identical.
func resizeBilinearRef(xd []float32, n, c, h, w, oh, ow int, alignCorners bool) []float32 {
	ty, tx := bilinearTaps(h, oh, alignCorners), bilinearTaps(w, ow, alignCorners)
	od := make([]float32, n*c*oh*ow)
	for pl := 0; pl < n*c; pl++ {
		src := xd[pl*h*w : (pl+1)*h*w]
		dst := od[pl*oh*ow : (pl+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			r0, r1 := src[ty.i0[oy]*w:], src[ty.i1[oy]*w:]
			wy0, wy1 := ty.w0[oy], ty.w1[oy]
			row := dst[oy*ow : (oy+1)*ow]
			for ox := range row {
				a, b := tx.i0[ox], tx.i1[ox]
				wx0, wx1 := tx.w0[ox], tx.w1[ox]
				row[ox] = wy0*(wx0*r0[a]+wx1*r0[b]) + wy1*(wx0*r1[a]+wx1*r1[b])
			}
		}
	}
	return od
}

func TestResizeBilinearMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	sizes := [][4]int{{112, 112, 28, 28}, {55, 55, 28, 28}, {13, 13, 28, 28}, {27, 27, 28, 28},
		{7, 5, 224, 224}, {1, 1, 3, 4}, {5, 9, 1, 1}, {28, 28, 28, 28}, {3, 17, 10, 2}}
	for _, s := range sizes {
		for _, ac := range []bool{true, false} {
			h, w, oh, ow := s[0], s[1], s[2], s[3]
			n, c := 2, 3
			x := make([]float32, n*c*h*w)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			want := resizeBilinearRef(x, n, c, h, w, oh, ow, ac)
			got := Data(ResizeBilinear(FromData(x, n, c, h, w), oh, ow, ac))
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%dx%d -> %dx%d align %v: value %d is %v, want %v", h, w, oh, ow, ac, i, got[i], want[i])
				}
			}
		}
	}
	defer func() {
		if r := recover(); r == nil || fmt.Sprint(r) == "" {
			t.Error("wrong destination size accepted")
		}
	}()
	ResizeBilinearInto(make([]float32, 5), New(1, 1, 4, 4), 2, 2, true)
}

func BenchmarkResizeSqueezeTaps(b *testing.B) {
	for _, s := range [][2]int{{64, 111}, {128, 55}, {256, 27}, {512, 13}} {
		c, h := s[0], s[1]
		x := make([]float32, c*h*h)
		for i := range x {
			x[i] = float32(i % 13)
		}
		xt := FromData(x, 1, c, h, h)
		dst := make([]float32, c*28*28)
		b.Run(fmt.Sprintf("new/%dx%d", c, h), func(b *testing.B) {
			for b.Loop() {
				ResizeBilinearInto(dst, xt, 28, 28, true)
			}
		})
		b.Run(fmt.Sprintf("ref/%dx%d", c, h), func(b *testing.B) {
			for b.Loop() {
				resizeBilinearRef(x, 1, c, h, h, 28, 28, true)
			}
		})
	}
}
