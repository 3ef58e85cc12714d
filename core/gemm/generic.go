package gemm

// genericKernel is the portable path (the only fast one under js/wasm, which
// has neither SIMD nor threads there): a 4×4 register tile.
var genericKernel = &kernel{mr: 4, nr: 4, fn: kernGeneric4x4}

func kernGeneric4x4(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
	a0 := a[:kc]
	a1 := a[lda : lda+kc]
	a2 := a[2*lda : 2*lda+kc]
	a3 := a[3*lda : 3*lda+kc]
	b = b[:4*kc]
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := range a0 {
		bb := b[4*p : 4*p+4 : 4*p+4]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		x := a0[p]
		c00 += x * b0
		c01 += x * b1
		c02 += x * b2
		c03 += x * b3
		x = a1[p]
		c10 += x * b0
		c11 += x * b1
		c12 += x * b2
		c13 += x * b3
		x = a2[p]
		c20 += x * b0
		c21 += x * b1
		c22 += x * b2
		c23 += x * b3
		x = a3[p]
		c30 += x * b0
		c31 += x * b1
		c32 += x * b2
		c33 += x * b3
	}
	store4(c[:4], c00, c01, c02, c03, load)
	store4(c[ldc:ldc+4], c10, c11, c12, c13, load)
	store4(c[2*ldc:2*ldc+4], c20, c21, c22, c23, load)
	store4(c[3*ldc:3*ldc+4], c30, c31, c32, c33, load)
}

func store4(c []float32, x0, x1, x2, x3 float32, load bool) {
	c = c[:4:4]
	if load {
		c[0] += x0
		c[1] += x1
		c[2] += x2
		c[3] += x3
		return
	}
	c[0], c[1], c[2], c[3] = x0, x1, x2, x3
}
