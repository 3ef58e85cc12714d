//go:build goexperiment.simd && wasm

package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestSIMDMatchesGeneric: the SIMD128 kernels (packed A and A in place)
// accumulate each element in the same order with the same roundings as the
// generic kernel, so they must agree with it to within 1e-5 relative (in
// practice bit for bit), including edge panels and partial row strips
// (convolutions: nn's TestSIMDMatchesScalar).
func TestSIMDMatchesGeneric(t *testing.T) {
	defer SetPath("")
	if err := SetPath("generic"); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	for it := 0; it < 60; it++ {
		m, n, k := 1+r.IntN(40), 1+r.IntN(70), 1+r.IntN(600)
		switch it % 4 {
		case 0:
			n += packMinCols // simdGemm's packed-A side
		case 1:
			n = 1 + r.IntN(maxNarrow) // its dot products
		}
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		c0 := randSlice(r, m*n)
		acc := it%2 == 1
		cg := append([]float32(nil), c0...)
		Sgemm(m, n, k, a, k, b, n, cg, n, acc)
		for name, run := range map[string]func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool){
			"simdGemm": simdGemm, "packed": simdKernel.gemm, "in place": simdKernelA.gemm} {
			cs := append([]float32(nil), c0...)
			run(m, n, k, a, k, b, n, cs, n, acc)
			cmpRel(t, fmt.Sprintf("%s %dx%dx%d", name, m, n, k), cg, cs)
		}
	}
}

func cmpRel(t *testing.T, what string, want, got []float32) {
	t.Helper()
	var mx float64
	for _, v := range want {
		mx = max(mx, math.Abs(float64(v)))
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > 1e-5*mx || got[i] != got[i] {
			t.Fatalf("%s: element %d simd128 %g generic %g", what, i, got[i], want[i])
		}
	}
}

// BenchmarkKernelSIMD times the 4×8 micro-kernel alone on L1-resident
// operands, beside the generic 3×4 one: the ceilings for the whole GEMM.
func BenchmarkKernelSIMD(b *testing.B) {
	for _, kn := range []*kernel{simdKernel, simdKernelA, genericKernel} {
		b.Run(map[*kernel]string{simdKernel: "simd4x8", simdKernelA: "simd4x8-in-place", genericKernel: "generic3x4"}[kn], func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			kc := kcBlock
			a, bp, c := randSlice(r, max(kn.mr, kn.aStep)*kc), randSlice(r, kn.nr*kc), make([]float32, kn.mr*kn.nr)
			// V8 starts in its baseline compiler and swaps in optimized code
			// in the background: run a while first.
			for t0 := time.Now(); time.Since(t0) < 200*time.Millisecond; {
				kn.fn(kc, a, kc, bp, c, kn.nr, true)
			}
			for b.Loop() {
				kn.fn(kc, a, kc, bp, c, kn.nr, true)
			}
			flop := 2 * float64(kn.mr*kn.nr) * float64(kc) * float64(b.N)
			b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
