//go:build goexperiment.simd && wasm

package gemm

import (
	"simd/archsimd"
	"unsafe"
)

type f4 = archsimd.Float32x4

// simdKernel is the wasm SIMD128 path (Go 1.27, GOEXPERIMENT=simd): a 6×8
// tile in twelve Float32x4 accumulators, which with the two B vectors and
// the broadcast A value keeps within the sixteen v128 registers of Go's wasm
// backend (8×8 would spill). Each C element is still accumulated in p order
// with a separate multiply and add (wasm has no FMA), so the results are
// bit-identical to the generic kernel's.
var simdKernel = &kernel{mr: 6, nr: 8, fn: kernSIMD6x8, pack: packPanel8,
	edges:    []edgeKernel{{4, kernSIMD6x4}},
	rowEdges: []rowEdge{{4, kernSIMD4x8}, {2, kernSIMD2x8}}}

func registerPlatform() {
	register(&path{"simd128", simdKernel.gemm, simdKernel})
}

// ld4 and st4 load and store four float32 at p (callers bounds-check once).
func ld4(p unsafe.Pointer) archsimd.Float32x4 {
	return archsimd.LoadFloat32x4Array((*[4]float32)(p))
}

func st4(p unsafe.Pointer, v archsimd.Float32x4) { v.StoreArray((*[4]float32)(p)) }

// bcast is the float32 at p in all four lanes.
func bcast(p unsafe.Pointer) archsimd.Float32x4 {
	return archsimd.BroadcastFloat32x4(*(*float32)(p))
}

// put4 writes (or with load adds) v to the four values at p.
func put4(p unsafe.Pointer, v archsimd.Float32x4, load bool) {
	if load {
		v = ld4(p).Add(v)
	}
	st4(p, v)
}

func kernSIMD6x8(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
	_, _, _ = a[5*lda+kc-1], b[8*kc-1], c[5*ldc+7]
	a0, b0p := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	st := uintptr(lda) * 4
	z := archsimd.BroadcastFloat32x4(0)
	c00, c01, c10, c11, c20, c21 := z, z, z, z, z, z
	c30, c31, c40, c41, c50, c51 := z, z, z, z, z, z
	// Two steps per loop turn: Go's wasm loops pay a dispatch per back edge.
	p := 0
	for ; p+2 <= kc; p += 2 {
		pa, pb := unsafe.Add(a0, 4*p), unsafe.Add(b0p, 32*p)
		c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 = step6x8(pa, pb, st,
			c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51)
		c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 = step6x8(unsafe.Add(pa, 4), unsafe.Add(pb, 32), st,
			c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51)
	}
	if p < kc {
		// Addresses from the base each step: a pointer advanced past the
		// last element would be invalid (checkptr).
		c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 = step6x8(unsafe.Add(a0, 4*p), unsafe.Add(b0p, 32*p), st,
			c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51)
	}
	pc, cs := unsafe.Pointer(&c[0]), uintptr(ldc)*4
	put4(pc, c00, load)
	put4(unsafe.Add(pc, 16), c01, load)
	put4(unsafe.Add(pc, cs), c10, load)
	put4(unsafe.Add(pc, cs+16), c11, load)
	put4(unsafe.Add(pc, 2*cs), c20, load)
	put4(unsafe.Add(pc, 2*cs+16), c21, load)
	put4(unsafe.Add(pc, 3*cs), c30, load)
	put4(unsafe.Add(pc, 3*cs+16), c31, load)
	put4(unsafe.Add(pc, 4*cs), c40, load)
	put4(unsafe.Add(pc, 4*cs+16), c41, load)
	put4(unsafe.Add(pc, 5*cs), c50, load)
	put4(unsafe.Add(pc, 5*cs+16), c51, load)
}

// step6x8 is one k step of the 6×8 tile: A column at pa (row stride st),
// packed B row at pb.
func step6x8(pa, pb unsafe.Pointer, st uintptr, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 f4) (f4, f4, f4, f4, f4, f4, f4, f4, f4, f4, f4, f4) {
	b0, b1 := ld4(pb), ld4(unsafe.Add(pb, 16))
	x := bcast(pa)
	c00, c01 = c00.Add(x.Mul(b0)), c01.Add(x.Mul(b1))
	x = bcast(unsafe.Add(pa, st))
	c10, c11 = c10.Add(x.Mul(b0)), c11.Add(x.Mul(b1))
	x = bcast(unsafe.Add(pa, 2*st))
	c20, c21 = c20.Add(x.Mul(b0)), c21.Add(x.Mul(b1))
	x = bcast(unsafe.Add(pa, 3*st))
	c30, c31 = c30.Add(x.Mul(b0)), c31.Add(x.Mul(b1))
	x = bcast(unsafe.Add(pa, 4*st))
	c40, c41 = c40.Add(x.Mul(b0)), c41.Add(x.Mul(b1))
	x = bcast(unsafe.Add(pa, 5*st))
	c50, c51 = c50.Add(x.Mul(b0)), c51.Add(x.Mul(b1))
	return c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51
}

// kernSIMD6x4 is the edge kernel for a last panel of at most 4 columns.
func kernSIMD6x4(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
	_, _, _ = a[5*lda+kc-1], b[4*kc-1], c[5*ldc+3]
	a0, b0p := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	st := uintptr(lda) * 4
	z := archsimd.BroadcastFloat32x4(0)
	c0, c1, c2, c3, c4, c5 := z, z, z, z, z, z
	for p := 0; p < kc; p++ {
		pa := unsafe.Add(a0, 4*p)
		b0 := ld4(unsafe.Add(b0p, 16*p))
		c0 = c0.Add(bcast(pa).Mul(b0))
		c1 = c1.Add(bcast(unsafe.Add(pa, st)).Mul(b0))
		c2 = c2.Add(bcast(unsafe.Add(pa, 2*st)).Mul(b0))
		c3 = c3.Add(bcast(unsafe.Add(pa, 3*st)).Mul(b0))
		c4 = c4.Add(bcast(unsafe.Add(pa, 4*st)).Mul(b0))
		c5 = c5.Add(bcast(unsafe.Add(pa, 5*st)).Mul(b0))
	}
	pc, cs := unsafe.Pointer(&c[0]), uintptr(ldc)*4
	put4(pc, c0, load)
	put4(unsafe.Add(pc, cs), c1, load)
	put4(unsafe.Add(pc, 2*cs), c2, load)
	put4(unsafe.Add(pc, 3*cs), c3, load)
	put4(unsafe.Add(pc, 4*cs), c4, load)
	put4(unsafe.Add(pc, 5*cs), c5, load)
}

// packPanel8 copies a kc×8 block of B (stride ldb) to dst[p*8+j].
func packPanel8(dst, b []float32, ldb, kc int) {
	_, _ = dst[8*kc-1], b[(kc-1)*ldb+7]
	d, s := unsafe.Pointer(&dst[0]), unsafe.Pointer(&b[0])
	st := uintptr(ldb) * 4
	for p := 0; p < kc; p++ {
		pd, ps := unsafe.Add(d, 32*p), unsafe.Add(s, uintptr(p)*st)
		st4(pd, ld4(ps))
		st4(unsafe.Add(pd, 16), ld4(unsafe.Add(ps, 16)))
	}
}

// kernSIMD4x8 and kernSIMD2x8 are the last row strip's kernels when 6 does
// not divide the rows (16, 64, 256 channels leave 4; 32, 128, 512 leave 2).
func kernSIMD4x8(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
	_, _, _ = a[3*lda+kc-1], b[8*kc-1], c[3*ldc+7]
	a0, b0p := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	st := uintptr(lda) * 4
	z := archsimd.BroadcastFloat32x4(0)
	c00, c01, c10, c11, c20, c21, c30, c31 := z, z, z, z, z, z, z, z
	for p := 0; p < kc; p++ {
		pa, pb := unsafe.Add(a0, 4*p), unsafe.Add(b0p, 32*p)
		b0, b1 := ld4(pb), ld4(unsafe.Add(pb, 16))
		x := bcast(pa)
		c00, c01 = c00.Add(x.Mul(b0)), c01.Add(x.Mul(b1))
		x = bcast(unsafe.Add(pa, st))
		c10, c11 = c10.Add(x.Mul(b0)), c11.Add(x.Mul(b1))
		x = bcast(unsafe.Add(pa, 2*st))
		c20, c21 = c20.Add(x.Mul(b0)), c21.Add(x.Mul(b1))
		x = bcast(unsafe.Add(pa, 3*st))
		c30, c31 = c30.Add(x.Mul(b0)), c31.Add(x.Mul(b1))
	}
	pc, cs := unsafe.Pointer(&c[0]), uintptr(ldc)*4
	put4(pc, c00, load)
	put4(unsafe.Add(pc, 16), c01, load)
	put4(unsafe.Add(pc, cs), c10, load)
	put4(unsafe.Add(pc, cs+16), c11, load)
	put4(unsafe.Add(pc, 2*cs), c20, load)
	put4(unsafe.Add(pc, 2*cs+16), c21, load)
	put4(unsafe.Add(pc, 3*cs), c30, load)
	put4(unsafe.Add(pc, 3*cs+16), c31, load)
}

func kernSIMD2x8(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
	_, _, _ = a[lda+kc-1], b[8*kc-1], c[ldc+7]
	a0, b0p := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	st := uintptr(lda) * 4
	z := archsimd.BroadcastFloat32x4(0)
	c00, c01, c10, c11 := z, z, z, z
	for p := 0; p < kc; p++ {
		pa, pb := unsafe.Add(a0, 4*p), unsafe.Add(b0p, 32*p)
		b0, b1 := ld4(pb), ld4(unsafe.Add(pb, 16))
		x := bcast(pa)
		c00, c01 = c00.Add(x.Mul(b0)), c01.Add(x.Mul(b1))
		x = bcast(unsafe.Add(pa, st))
		c10, c11 = c10.Add(x.Mul(b0)), c11.Add(x.Mul(b1))
	}
	pc, cs := unsafe.Pointer(&c[0]), uintptr(ldc)*4
	put4(pc, c00, load)
	put4(unsafe.Add(pc, 16), c01, load)
	put4(unsafe.Add(pc, cs), c10, load)
	put4(unsafe.Add(pc, cs+16), c11, load)
}
