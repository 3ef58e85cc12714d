package gemm

// naive is the reference path: C (+)= A·B with an i-k-j loop order.
func naive(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if !accumulate {
			clear(crow)
		}
		for p := 0; p < k; p++ {
			av := a[i*lda+p]
			brow := b[p*ldb : p*ldb+n]
			for j, bv := range brow {
				crow[j] += av * bv
			}
		}
	}
}
