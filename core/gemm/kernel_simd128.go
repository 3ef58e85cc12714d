//go:build goexperiment.simd && wasm

package gemm

import (
	"simd/archsimd"
	"unsafe"
)

type f4 = archsimd.Float32x4

// simdKernel is the wasm SIMD128 path (Go 1.27, GOEXPERIMENT=simd): a 4×8
// tile in eight Float32x4 accumulators over A packed with every value
// repeated in four lanes (packA4), so each row's broadcast is one v128 load.
// Kernel alone in node: 28.9 GFLOP/s, against 18.8 for the former 6×8 over
// A in place, whose wasm spilled accumulators: V8 keeps 15 xmm registers
// and loads all operands of a loop turn before the arithmetic, so 8
// accumulators + 2 B + 4 A vectors fit where 12 + 2 + 6 did not.
// Each C element is still accumulated in p order with a separate multiply
// and add (wasm has no FMA), so the results are bit-identical to the
// generic kernel's.
var simdKernel = &kernel{mr: 4, nr: 8, strip: kern4x8, fn: tile(kern4x8), pack: packPanel8,
	edges: []edgeKernel{{4, kern4x4}}, packA: packA4, aStep: 16}

// simdKernelA reads A in place (25.5 GFLOP/s alone): for products with few
// column panels (Winograd's per-tile products, n = 4 to 49), where packing
// A would cost about as much as it saves.
var simdKernelA = &kernel{mr: 4, nr: 8, strip: kern4x8a, fn: tile(kern4x8a), pack: packPanel8,
	edges: []edgeKernel{{4, kern4x4a}}}

// tile is a strip kernel for one panel.
func tile(f stripFunc) kernFunc {
	return func(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
		f(kc, a, lda, b, 1, c, ldc, load)
	}
}

// packMinCols is the least n for which simdGemm packs A.
const packMinCols = 128

func simdGemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if n <= maxNarrow {
		gemmNarrow(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
		return
	}
	kn := simdKernel
	if n < packMinCols {
		kn = simdKernelA
	}
	kn.gemm(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

func registerPlatform() {
	register(&path{"simd128", simdGemm, simdKernel})
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

// packPanel8 copies a kc×8 block of B (stride ldb) to dst[p*8+j]
// (do-while: 1.23x the counted loop in node).
func packPanel8(dst, b []float32, ldb, kc int) {
	_, _ = dst[8*kc-1], b[(kc-1)*ldb+7]
	pd, ps := unsafe.Pointer(&dst[0]), unsafe.Pointer(&b[0])
	st := uintptr(ldb) * 4
	for n := kc; ; {
		st4(pd, ld4(ps))
		st4(unsafe.Add(pd, 16), ld4(unsafe.Add(ps, 16)))
		if n--; n == 0 {
			break
		}
		pd, ps = unsafe.Add(pd, 32), unsafe.Add(ps, st)
	}
}

// madd2 adds x·b0 and x·b1 to one tile row's two accumulators.
func madd2(c0, c1, x, b0, b1 f4) (f4, f4) {
	return c0.Add(x.Mul(b0)), c1.Add(x.Mul(b1))
}

// The kernels loop do-while style with a body of one block: the
// accumulators' phis then count as in-block uses, so Go's scheduler keeps
// each multiply next to its add instead of hoisting all of them (which
// spilled to its stack). Pointers advance after the exit test, so they
// never pass the operands.

// kern4x8 computes panels 4×8 tiles, 32 bytes apart in c, from packed A
// (a[(p*4+r)*4+l] = A[r][p], see packA4) and consecutive 8-wide packed B
// panels: one call per row strip, as a call per tile (its arguments go
// through Go's stack in memory) cost 10-15% of the product.
func kern4x8(kc int, a []float32, _ int, b []float32, panels int, c []float32, ldc int, load bool) {
	_, _, _ = a[16*kc-1], b[8*kc*panels-1], c[3*ldc+8*panels-1]
	pa0, pb, pc := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0])
	cs := uintptr(ldc) * 4
	for jp := panels; ; {
		pa := pa0
		var c00, c01, c10, c11, c20, c21, c30, c31 f4
		for n := kc; ; {
			b0, b1 := ld4(pb), ld4(unsafe.Add(pb, 16))
			c00, c01 = madd2(c00, c01, ld4(pa), b0, b1)
			c10, c11 = madd2(c10, c11, ld4(unsafe.Add(pa, 16)), b0, b1)
			c20, c21 = madd2(c20, c21, ld4(unsafe.Add(pa, 32)), b0, b1)
			c30, c31 = madd2(c30, c31, ld4(unsafe.Add(pa, 48)), b0, b1)
			if n--; n == 0 {
				break
			}
			pa, pb = unsafe.Add(pa, 64), unsafe.Add(pb, 32)
		}
		put8(pc, c00, c01, load)
		put8(unsafe.Add(pc, cs), c10, c11, load)
		put8(unsafe.Add(pc, 2*cs), c20, c21, load)
		put8(unsafe.Add(pc, 3*cs), c30, c31, load)
		if jp--; jp == 0 {
			break
		}
		pb, pc = unsafe.Add(pb, 32), unsafe.Add(pc, 32)
	}
}

// kern4x8a is kern4x8 over A in place (row stride lda). The two stay
// separate: one function with both inner loops ran the packed one 10% slower.
func kern4x8a(kc int, a []float32, lda int, b []float32, panels int, c []float32, ldc int, load bool) {
	_, _, _ = a[3*lda+kc-1], b[8*kc*panels-1], c[3*ldc+8*panels-1]
	pa0, pb, pc := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), unsafe.Pointer(&c[0])
	st, cs := uintptr(lda)*4, uintptr(ldc)*4
	for jp := panels; ; {
		pa := pa0
		var c00, c01, c10, c11, c20, c21, c30, c31 f4
		for n := kc; ; {
			b0, b1 := ld4(pb), ld4(unsafe.Add(pb, 16))
			c00, c01 = madd2(c00, c01, bcast(pa), b0, b1)
			c10, c11 = madd2(c10, c11, bcast(unsafe.Add(pa, st)), b0, b1)
			c20, c21 = madd2(c20, c21, bcast(unsafe.Add(pa, 2*st)), b0, b1)
			c30, c31 = madd2(c30, c31, bcast(unsafe.Add(pa, 3*st)), b0, b1)
			if n--; n == 0 {
				break
			}
			pa, pb = unsafe.Add(pa, 4), unsafe.Add(pb, 32)
		}
		put8(pc, c00, c01, load)
		put8(unsafe.Add(pc, cs), c10, c11, load)
		put8(unsafe.Add(pc, 2*cs), c20, c21, load)
		put8(unsafe.Add(pc, 3*cs), c30, c31, load)
		if jp--; jp == 0 {
			break
		}
		pb, pc = unsafe.Add(pb, 32), unsafe.Add(pc, 32)
	}
}

// put8 writes (or with load adds) v0, v1 to the eight values at p.
func put8(p unsafe.Pointer, v0, v1 f4, load bool) {
	put4(p, v0, load)
	put4(unsafe.Add(p, 16), v1, load)
}

// kern4x4 is kern4x8's edge kernel for a last panel of at most 4 columns.
func kern4x4(kc int, a []float32, _ int, b []float32, c []float32, ldc int, load bool) {
	_, _ = a[16*kc-1], b[4*kc-1]
	pa, pb := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	var c0, c1, c2, c3 f4
	for n := kc; ; {
		b0 := ld4(pb)
		c0 = c0.Add(ld4(pa).Mul(b0))
		c1 = c1.Add(ld4(unsafe.Add(pa, 16)).Mul(b0))
		c2 = c2.Add(ld4(unsafe.Add(pa, 32)).Mul(b0))
		c3 = c3.Add(ld4(unsafe.Add(pa, 48)).Mul(b0))
		if n--; n == 0 {
			break
		}
		pa, pb = unsafe.Add(pa, 64), unsafe.Add(pb, 16)
	}
	put4x4(c, ldc, load, c0, c1, c2, c3)
}

// kern4x4a is kern4x4 over A in place (row stride lda).
func kern4x4a(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool) {
	_, _ = a[3*lda+kc-1], b[4*kc-1]
	pa, pb := unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	st := uintptr(lda) * 4
	var c0, c1, c2, c3 f4
	for n := kc; ; {
		b0 := ld4(pb)
		c0 = c0.Add(bcast(pa).Mul(b0))
		c1 = c1.Add(bcast(unsafe.Add(pa, st)).Mul(b0))
		c2 = c2.Add(bcast(unsafe.Add(pa, 2*st)).Mul(b0))
		c3 = c3.Add(bcast(unsafe.Add(pa, 3*st)).Mul(b0))
		if n--; n == 0 {
			break
		}
		pa, pb = unsafe.Add(pa, 4), unsafe.Add(pb, 16)
	}
	put4x4(c, ldc, load, c0, c1, c2, c3)
}

// put4x4 writes (or with load adds) the 4×4 tile to c (row stride ldc).
func put4x4(c []float32, ldc int, load bool, c0, c1, c2, c3 f4) {
	_ = c[3*ldc+3]
	pc, cs := unsafe.Pointer(&c[0]), uintptr(ldc)*4
	put4(pc, c0, load)
	put4(unsafe.Add(pc, cs), c1, load)
	put4(unsafe.Add(pc, 2*cs), c2, load)
	put4(unsafe.Add(pc, 3*cs), c3, load)
}

// packA4 copies rows (<= 4) rows × kc of A (stride lda) to
// dst[(p*4+r)*4+l] = A[r][p] for the four lanes l, zeros for r >= rows: a
// v128 load then is the broadcast (wasm's load-and-splat is not exposed,
// and a scalar load plus splat costs an extra address and shuffle per row).
func packA4(dst, a []float32, lda, rows, kc int) {
	if rows < 4 {
		packA4Part(dst, a, lda, rows, kc)
		return
	}
	// All four rows per k step, do-while: 2.9x the row-by-row loop in node.
	_, _ = dst[16*kc-1], a[3*lda+kc-1]
	pd, pa := unsafe.Pointer(&dst[0]), unsafe.Pointer(&a[0])
	st := uintptr(lda) * 4
	for n := kc; ; {
		st4(pd, bcast(pa))
		st4(unsafe.Add(pd, 16), bcast(unsafe.Add(pa, st)))
		st4(unsafe.Add(pd, 32), bcast(unsafe.Add(pa, 2*st)))
		st4(unsafe.Add(pd, 48), bcast(unsafe.Add(pa, 3*st)))
		if n--; n == 0 {
			break
		}
		pd, pa = unsafe.Add(pd, 64), unsafe.Add(pa, 4)
	}
}

// packA4Part is packA4 for a last strip of fewer than 4 rows.
func packA4Part(dst, a []float32, lda, rows, kc int) {
	_ = dst[16*kc-1]
	d := unsafe.Pointer(&dst[0])
	for r := range 4 {
		dr := unsafe.Add(d, 16*r)
		if r >= rows {
			for p := range kc {
				st4(unsafe.Add(dr, 64*p), f4{})
			}
			continue
		}
		for p, v := range a[r*lda : r*lda+kc] {
			st4(unsafe.Add(dr, 64*p), archsimd.BroadcastFloat32x4(v))
		}
	}
}
