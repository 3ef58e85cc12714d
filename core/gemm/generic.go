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
	cr0 := c[0*ldc : 0*ldc+4 : 0*ldc+4]
	if load {
		cr0[0] += c00
		cr0[1] += c01
		cr0[2] += c02
		cr0[3] += c03
	} else {
		cr0[0] = c00
		cr0[1] = c01
		cr0[2] = c02
		cr0[3] = c03
	}
	cr1 := c[1*ldc : 1*ldc+4 : 1*ldc+4]
	if load {
		cr1[0] += c10
		cr1[1] += c11
		cr1[2] += c12
		cr1[3] += c13
	} else {
		cr1[0] = c10
		cr1[1] = c11
		cr1[2] = c12
		cr1[3] = c13
	}
	cr2 := c[2*ldc : 2*ldc+4 : 2*ldc+4]
	if load {
		cr2[0] += c20
		cr2[1] += c21
		cr2[2] += c22
		cr2[3] += c23
	} else {
		cr2[0] = c20
		cr2[1] = c21
		cr2[2] = c22
		cr2[3] = c23
	}
}
