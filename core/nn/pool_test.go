package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveMaxPool is the direct definition: every window clipped to the input.
func naiveMaxPool(x []float32, planes, h, w, oh, ow, k, s, pad int) []float32 {
	out := make([]float32, planes*oh*ow)
	for pl := 0; pl < planes; pl++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				m := float32(math.Inf(-1))
				for y := oy*s - pad; y < oy*s-pad+k; y++ {
					for xx := ox*s - pad; xx < ox*s-pad+k; xx++ {
						if y < 0 || y >= h || xx < 0 || xx >= w {
							continue
						}
						if v := x[(pl*h+y)*w+xx]; v > m || v != v {
							m = v
						}
					}
				}
				out[(pl*oh+oy)*ow+ox] = m
			}
		}
	}
	return out
}

// TestMaxPoolMatchesNaive covers the specialised interiors (3×3/2, 2×2/2),
// the generic one and the clipped rim, in floor and ceil mode, with NaNs.
func TestMaxPoolMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ k, s, pad int }{
		{3, 2, 0}, {3, 2, 1}, {2, 2, 0}, {2, 2, 1}, {3, 1, 1}, {5, 3, 2}, {1, 1, 0}, {4, 0, 2},
	} {
		for _, ceil := range []bool{false, true} {
			for _, hw := range [][2]int{{7, 9}, {13, 12}, {5, 4}, {tc.k, tc.k + 1}} {
				h, w := hw[0], hw[1]
				x := randSlice(r, 2*h*w)
				x[r.IntN(len(x))] = float32(math.NaN())
				got := Data(MaxPool2D(FromData(x, 1, 2, h, w), tc.k, tc.s, tc.pad, ceil))
				s := tc.s
				if s == 0 {
					s = tc.k
				}
				oh, ow := poolOut(h, tc.k, s, tc.pad, ceil), poolOut(w, tc.k, s, tc.pad, ceil)
				want := naiveMaxPool(x, 2, h, w, oh, ow, tc.k, s, tc.pad)
				for i := range want {
					if got[i] != want[i] && !(got[i] != got[i] && want[i] != want[i]) {
						t.Fatalf("k%d s%d p%d ceil=%v %dx%d: out[%d] = %v, want %v", tc.k, tc.s, tc.pad, ceil, h, w, i, got[i], want[i])
					}
				}
			}
		}
	}
}
