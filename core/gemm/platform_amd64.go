package gemm

import (
	"github.com/klauspost/cpuid/v2"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

func registerPlatform() {
	register(&path{"gonum", gonumGemm, nil})
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		register(&path{"avx2", avx2Kernel.gemm, avx2Kernel})
	}
	if cpuid.CPU.Supports(cpuid.AVX512F) {
		register(&path{"avx512", avx512Kernel.gemm, avx512Kernel})
	}
}

// gonumGemm uses gonum's Sgemm (its own SSE kernels and goroutines; it ignores
// SetThreads).
func gonumGemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	var beta float32
	if accumulate {
		beta = 1
	}
	blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
		blas32.General{Rows: m, Cols: k, Stride: lda, Data: a[:(m-1)*lda+k]},
		blas32.General{Rows: k, Cols: n, Stride: ldb, Data: b[:(k-1)*ldb+n]},
		beta,
		blas32.General{Rows: m, Cols: n, Stride: ldc, Data: c[:(m-1)*ldc+n]})
}
