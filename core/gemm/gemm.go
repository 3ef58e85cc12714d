// Package gemm computes single-precision matrix products for the conv layers.
// Everything is row-major: C[m×n] (+)= A[m×k] · B[k×n].
package gemm

// Sgemm computes C = A·B (accumulate=false) or C += A·B (accumulate=true) for
// row-major A (m×k, leading dimension lda), B (k×n, ldb) and C (m×n, ldc).
func Sgemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if !accumulate {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] = 0
			}
		}
	}
	sgemmImpl(m, n, k, a, lda, b, ldb, c, ldc)
}
