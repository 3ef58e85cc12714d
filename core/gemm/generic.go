package gemm

import "unsafe"

// genericKernel is the portable path, the only fast one under js/wasm (no
// SIMD, one thread there). A 3×4 tile measured best in node among 1×8 to 8×2
// (12 accumulators keep within the registers the wasm engine maps well); the
// loads use unsafe offsets after one bounds check per call, which removes the
// per-step checks the compiler keeps for the strided A rows.
var genericKernel = &kernel{mr: 3, nr: 4, fn: kernGeneric3x4, pack: packPanel4}

func kernGeneric3x4(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
	_, _ = a[2*lda+kc-1], b[4*kc-1]
	a0, b0p := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	st := uintptr(lda) * 4
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	for p := 0; p < kc; p++ {
		// Addresses from the base each step: a pointer advanced past the
		// last element would be invalid (checkptr).
		pa, pb := unsafe.Add(a0, 4*p), unsafe.Add(b0p, 16*p)
		b0 := *(*float32)(unsafe.Add(pb, 0))
		b1 := *(*float32)(unsafe.Add(pb, 4))
		b2 := *(*float32)(unsafe.Add(pb, 8))
		b3 := *(*float32)(unsafe.Add(pb, 12))
		x0 := *(*float32)(unsafe.Add(pa, 0))
		c00 += x0 * b0
		c01 += x0 * b1
		c02 += x0 * b2
		c03 += x0 * b3
		x1 := *(*float32)(unsafe.Add(pa, 1*st))
		c10 += x1 * b0
		c11 += x1 * b1
		c12 += x1 * b2
		c13 += x1 * b3
		x2 := *(*float32)(unsafe.Add(pa, 2*st))
		c20 += x2 * b0
		c21 += x2 * b1
		c22 += x2 * b2
		c23 += x2 * b3
	}
	put1x4(c[0:4], c00, c01, c02, c03, load)
	put1x4(c[ldc:ldc+4], c10, c11, c12, c13, load)
	put1x4(c[2*ldc:2*ldc+4], c20, c21, c22, c23, load)
}

// put1x4 writes (or with load adds) v0..v3 to cr[0:4].
func put1x4(cr []float32, v0, v1, v2, v3 float32, load bool) {
	cr = cr[:4:4]
	if load {
		cr[0] += v0
		cr[1] += v1
		cr[2] += v2
		cr[3] += v3
	} else {
		cr[0], cr[1], cr[2], cr[3] = v0, v1, v2, v3
	}
}
