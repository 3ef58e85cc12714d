package gemm

import (
	"math/rand/v2"
	"testing"

	"github.com/posprobe/posprobe/internal/proc"
)

// BenchmarkKernelAVX512 times the micro-kernel alone on L1/L2-resident
// operands: the ceiling for the whole GEMM.
func BenchmarkKernelAVX512(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	kc := kcBlock
	a, bp, c := randSlice(r, 8*kc), randSlice(r, 48*kc), make([]float32, 8*48)
	cpu0 := proc.CPUSeconds()
	for b.Loop() {
		avx512Kernel.fn(kc, a, kc, bp, c, 48, true)
	}
	flop := 2 * 8 * 48 * float64(kc) * float64(b.N)
	b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(flop/(proc.CPUSeconds()-cpu0)/1e9, "GFLOP/cpu-s")
}
