package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConv compares Conv on every path with a direct float64 convolution:
// odd sizes, strides, rectangular kernels, strided weights and outputs,
// accumulate on and off, 1 and 2 threads, and a layer big enough to cross
// the cache blocks.
func TestConv(t *testing.T) {
	defer SetThreads(0)
	type cs struct{ m, c, h, w, kh, kw, s int }
	cases := []cs{
		{1, 1, 1, 1, 1, 1, 1}, {7, 3, 9, 11, 3, 3, 1}, {9, 5, 12, 7, 3, 2, 2}, {17, 2, 13, 13, 5, 5, 3},
		{8, 4, 6, 6, 1, 1, 1}, {3, 1, 30, 20, 7, 7, 2}, {16, 3, 10, 10, 10, 10, 1},
		{24, 40, 20, 19, 3, 3, 1}, // k = 360 > one k block; n = 306 panels
		{10, 3, 70, 70, 3, 3, 1},  // n = 4624: several column tasks
	}
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for i, tc := range cases {
			SetThreads(1 + i%2)
			acc := i%3 == 1
			oh, ow := (tc.h-tc.kh)/tc.s+1, (tc.w-tc.kw)/tc.s+1
			k, n := tc.c*tc.kh*tc.kw, oh*ow
			ldw, ldo := k+i%3, n+2*(i%2)
			w := randSlice(r, tc.m*ldw)
			in := randSlice(r, tc.c*tc.h*tc.w)
			out := randSlice(r, tc.m*ldo)
			orig := append([]float32(nil), out...)
			Conv(tc.m, w, ldw, in, tc.c, tc.h, tc.w, tc.kh, tc.kw, tc.s, out, ldo, acc)
			for o := 0; o < tc.m; o++ {
				for j := 0; j < ldo; j++ {
					got := float64(out[o*ldo+j])
					if j >= n {
						if out[o*ldo+j] != orig[o*ldo+j] {
							t.Fatalf("case %v: padding of out row %d changed", tc, o)
						}
						continue
					}
					oy, ox := j/ow, j%ow
					var want, scale float64
					if acc {
						want, scale = float64(orig[o*ldo+j]), math.Abs(float64(orig[o*ldo+j]))
					}
					for ch := 0; ch < tc.c; ch++ {
						for ky := 0; ky < tc.kh; ky++ {
							for kx := 0; kx < tc.kw; kx++ {
								x := float64(w[o*ldw+(ch*tc.kh+ky)*tc.kw+kx]) * float64(in[(ch*tc.h+oy*tc.s+ky)*tc.w+ox*tc.s+kx])
								want += x
								scale += math.Abs(x)
							}
						}
					}
					if math.Abs(got-want) > tol*scale+1e-30 || math.IsNaN(got) {
						t.Fatalf("%s case %v acc=%v: out[%d][%d]=%g want %g", Path(), tc, acc, o, j, got, want)
					}
				}
			}
		}
	})
}
