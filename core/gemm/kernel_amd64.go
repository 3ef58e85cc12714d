package gemm

//go:generate sh -c "python3 gen_kernels.py > kernel_amd64.s"

// The assembly kernels read the mr rows of A in place (row r at a+r*lda) and
// a packed B panel b[p*nr+j]; they write the whole mr×nr tile of C (row
// stride ldc), adding to it when load is true.

//go:noescape
func kernAVX512(kc int, a *float32, lda int, b *float32, c *float32, ldc int, load bool)

//go:noescape
func kernAVX512x32(kc int, a *float32, lda int, b *float32, c *float32, ldc int, load bool)

//go:noescape
func kernAVX512x16(kc int, a *float32, lda int, b *float32, c *float32, ldc int, load bool)

//go:noescape
func kernAVX2x8(kc int, a *float32, lda int, b *float32, c *float32, ldc int, load bool)

//go:noescape
func kernAVX2(kc int, a *float32, lda int, b *float32, c *float32, ldc int, load bool)

// avx512Kernel: 8×48 tile = 24 zmm accumulators; 8 rows match the channel
// counts of the encoders (multiples of 8).
var avx512Kernel = &kernel{mr: 8, nr: 48, fn: func(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
	_, _, _ = a[7*lda+kc-1], b[48*kc-1], c[7*ldc+47]
	kernAVX512(kc, &a[0], lda, &b[0], &c[0], ldc, load)
}, edges: []edgeKernel{
	{16, func(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
		_, _, _ = a[7*lda+kc-1], b[16*kc-1], c[7*ldc+15]
		kernAVX512x16(kc, &a[0], lda, &b[0], &c[0], ldc, load)
	}},
	{32, func(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
		_, _, _ = a[7*lda+kc-1], b[32*kc-1], c[7*ldc+31]
		kernAVX512x32(kc, &a[0], lda, &b[0], &c[0], ldc, load)
	}},
}}

// avx2Kernel: 6×16 tile = 12 ymm accumulators.
var avx2Kernel = &kernel{mr: 6, nr: 16, fn: func(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
	_, _, _ = a[5*lda+kc-1], b[16*kc-1], c[5*ldc+15]
	kernAVX2(kc, &a[0], lda, &b[0], &c[0], ldc, load)
}, edges: []edgeKernel{
	{8, func(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
		_, _, _ = a[5*lda+kc-1], b[8*kc-1], c[5*ldc+7]
		kernAVX2x8(kc, &a[0], lda, &b[0], &c[0], ldc, load)
	}},
}}
