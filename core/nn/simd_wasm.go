//go:build goexperiment.simd && wasm

package nn

import (
	"math"
	"simd/archsimd"
	"unsafe"
)

// SIMD128 versions of the hot elementwise, pooling, depthwise and Winograd
// transform loops for wasm built with Go 1.27 and GOEXPERIMENT=simd. Each
// hook does a prefix (a multiple of four values) and returns its length; the
// scalar loop it sits in does the rest, and simd_scalar.go's versions return
// 0 elsewhere. Every lane does the scalar code's operations in its order, so
// the results are the scalar path's bit for bit, but for the sign of a zero
// (wasm's max(-0, +0) is +0; a zero-padded depthwise window adds w·0).

type f4 = archsimd.Float32x4

// simdOn lets the tests run the scalar loops in this build for comparison.
var simdOn = true

// simdBuild: the hooks here may do work (and want scratch memory).
const simdBuild = true

func ld(p unsafe.Pointer) f4 { return archsimd.LoadFloat32x4Array((*[4]float32)(p)) }

func st(p unsafe.Pointer, v f4) { v.StoreArray((*[4]float32)(p)) }

func bc(x float32) f4 { return archsimd.BroadcastFloat32x4(x) }

// at is the address of s[i] (no bounds check: the callers check the last
// element they touch once).
func at(s []float32, i int) unsafe.Pointer {
	return unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), 4*i)
}

func reluVec(d []float32) int {
	if !simdOn {
		return 0
	}
	n := len(d) &^ 3
	z := bc(0)
	for i := 0; i < n; i += 4 {
		p := at(d, i)
		st(p, ld(p).Max(z)) // f32x4.max propagates NaN
	}
	return n
}

func relu6Vec(d []float32) int {
	if !simdOn {
		return 0
	}
	n := len(d) &^ 3
	z, six := bc(0), bc(6)
	for i := 0; i < n; i += 4 {
		p := at(d, i)
		st(p, ld(p).Max(z).Min(six))
	}
	return n
}

func fillVec(d []float32, v float32) int {
	if !simdOn {
		return 0
	}
	n := len(d) &^ 3
	x := bc(v)
	for i := 0; i < n; i += 4 {
		st(at(d, i), x)
	}
	return n
}

// clampOf is the lower and upper bound that act clamps to.
func clampOf(act Act) (lo, hi f4) {
	switch act {
	case ActReLU:
		return bc(0), bc(float32(math.Inf(1)))
	case ActReLU6:
		return bc(0), bc(6)
	}
	return bc(float32(math.Inf(-1))), bc(float32(math.Inf(1)))
}

// biasActVec does d[i] = act(d[i] + v) in one pass (f32x4.max/min keep NaN).
func biasActVec(d []float32, v float32, act Act) int {
	if !simdOn {
		return 0
	}
	n := len(d) &^ 3
	x := bc(v)
	lo, hi := clampOf(act)
	for i := 0; i < n; i += 4 {
		p := at(d, i)
		st(p, ld(p).Add(x).Max(lo).Min(hi))
	}
	return n
}

// addVec does dst[i] += src[i].
func addVec(dst, src []float32) int {
	if !simdOn {
		return 0
	}
	n := min(len(dst), len(src)) &^ 3
	for i := 0; i < n; i += 4 {
		p := at(dst, i)
		st(p, ld(p).Add(ld(at(src, i))))
	}
	return n
}

// maxRowScratch is maxRowVec's buffer of vertical maxima: passed in, as a
// local array would be zeroed on every row.
type maxRowScratch [256 + 8]float32

// maxRowVec computes row[i] = max over the k×k window at column 2i of rows
// rs[0..k) for the 3×3/2 and 2×2/2 pools (rows of equal length), per chunk
// of columns: the vertical maxima v, then in place the horizontal ones
// v[j] = max(v[j..j+k)) with unaligned loads (no shuffles needed), then the
// even columns. It returns how many outputs it wrote (all), or 0 for other
// windows. v is scratch (any contents).
func maxRowVec(row []float32, rs [][]float32, k, s int, v *maxRowScratch) int {
	if !simdOn || s != 2 || (k != 3 && k != 2) {
		return 0
	}
	r0, r1 := rs[0], rs[1][:len(rs[0])]
	r2 := r1
	if k == 3 {
		r2 = rs[2][:len(r0)]
	}
	const chunk = 126 // outputs per chunk: 2·126+1 columns fit v
	pv := unsafe.Pointer(&v[0])
	for o0 := 0; o0 < len(row); o0 += chunk {
		o1 := min(o0+chunk, len(row))
		c0, cols := 2*o0, 2*(o1-o0)+k-2 // columns of the rows read for outputs [o0, o1)
		nv := min((cols+3)&^3, (len(r0)-c0)&^3)
		for j := 0; j < nv; j += 4 {
			m := ld(at(r0, c0+j)).Max(ld(at(r1, c0+j)))
			if k == 3 {
				m = m.Max(ld(at(r2, c0+j)))
			}
			st(unsafe.Add(pv, 4*j), m)
		}
		for j := nv; j < cols; j++ {
			m := max32(r0[c0+j], r1[c0+j])
			if k == 3 {
				m = max32(m, r2[c0+j])
			}
			v[j] = m
		}
		// v[j] for j < cols is set; lanes past it only feed unused outputs.
		for j := 0; j < 2*(o1-o0); j += 4 {
			q := unsafe.Add(pv, 4*j)
			m := ld(q).Max(ld(unsafe.Add(q, 4)))
			if k == 3 {
				m = m.Max(ld(unsafe.Add(q, 8)))
			}
			st(q, m)
		}
		gatherStrided(row[o0:o1], v[:2*(o1-o0)], 2)
	}
	return len(row)
}

// dw3x3RowVec computes a depthwise 3×3 output row with stride s from input
// rows r0, r1, r2 (each (len(row)-1)·s+3 long). Stride 2 computes the
// stride-1 sums, twice the work but four lanes at once, and keeps the even
// ones.
func dw3x3RowVec(row, r0, r1, r2, wk []float32, bv float32, s int) int {
	if !simdOn {
		return 0
	}
	switch s {
	case 1:
		return dw3x3Row1(row, r0, r1, r2, wk, bv)
	case 2:
		var t [240]float32
		done := 0
		for done < len(row) {
			cnt := min(len(row)-done, len(t)/2) // outputs; stride-1 positions 2·i
			np := (2*cnt - 1 + 3) &^ 3
			if rest := len(r0) - 2*done; np+2 > rest {
				np = (rest - 2) &^ 3 // every position reads two columns on
				cnt = min(cnt, np/2)
			}
			if cnt <= 0 {
				break
			}
			c := 2 * done
			dw3x3Row1(t[:np], r0[c:], r1[c:], r2[c:], wk, bv)
			out := row[done : done+cnt]
			for i := range out {
				out[i] = t[2*i]
			}
			done += cnt
		}
		return done
	}
	return 0
}

// dw3x3Row1 is the stride-1 row for the multiple of four leading outputs.
func dw3x3Row1(row, r0, r1, r2, wk []float32, bv float32) int {
	n := len(row) &^ 3
	if n == 0 {
		return 0
	}
	_, _, _, _, _ = row[n-1], r0[n+1], r1[n+1], r2[n+1], wk[8]
	b := bc(bv)
	w0, w1, w2, w3, w4 := bc(wk[0]), bc(wk[1]), bc(wk[2]), bc(wk[3]), bc(wk[4])
	w5, w6, w7, w8 := bc(wk[5]), bc(wk[6]), bc(wk[7]), bc(wk[8])
	for x := 0; x < n; x += 4 {
		p0, p1, p2 := at(r0, x), at(r1, x), at(r2, x)
		acc := b.Add(w0.Mul(ld(p0))).Add(w1.Mul(ld(unsafe.Add(p0, 4)))).Add(w2.Mul(ld(unsafe.Add(p0, 8))))
		acc = acc.Add(w3.Mul(ld(p1))).Add(w4.Mul(ld(unsafe.Add(p1, 4)))).Add(w5.Mul(ld(unsafe.Add(p1, 8))))
		acc = acc.Add(w6.Mul(ld(p2))).Add(w7.Mul(ld(unsafe.Add(p2, 4)))).Add(w8.Mul(ld(unsafe.Add(p2, 8))))
		st(at(row, x), acc)
	}
	return n
}

// dw3x3ZeroVec is the zero-padded depthwise 3×3 plane (stride 1 or 2)
// through a padded copy of the plane in *buf, split into column phases for
// stride 2 (even columns, odd columns), so that every tap reads contiguous
// values: the clipped rim windows (dwClipped, a term at a time) cost as much
// as the interior on MobileNet's 7×7 and 14×14 planes. A row's last vector
// overlaps the one before it rather than leaving a scalar tail.
func dw3x3ZeroVec(out, plane, wk []float32, bv float32, h, w, oh, ow, s, p int, buf *[]float32, act Act) bool {
	if !simdOn || s > 2 || ow < 4 {
		return false
	}
	wq := ow + 3 - s // columns per phase row: taps reach ow+1 (s = 1) or ow (s = 2)
	ny := (oh-1)*s + 3
	n := s * ny * wq
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	q := (*buf)[:n]
	for y := 0; y < ny; y++ {
		sy := y - p
		if sy < 0 || sy >= h {
			for ph := 0; ph < s; ph++ {
				clear(q[(ph*ny+y)*wq:][:wq])
			}
			continue
		}
		src := plane[sy*w : (sy+1)*w]
		d := q[y*wq:][:wq]
		if s == 1 && p == 1 && w >= 4 {
			padRow1(d, src)
			continue
		}
		if s == 2 && p == 1 {
			if o := q[(ny+y)*wq:][:wq]; splitRow1(d, o, src) {
				continue
			}
		}
		for ph := 0; ph < s; ph++ {
			gatherPhase(q[(ph*ny+y)*wq:][:wq], src, s, ph-p)
		}
	}
	_ = out[oh*ow-1]
	// Taps kx = 0, 1, 2 of a row start t1, t2 bytes after tap 0: the next
	// columns (s = 1), or the odd phase and the next even column (s = 2).
	t1, t2 := uintptr(4), uintptr(8)
	if s == 2 {
		t1, t2 = uintptr(4*ny*wq), 4
	}
	rs := uintptr(4 * wq)
	b := bc(bv)
	w0, w1, w2, w3, w4 := bc(wk[0]), bc(wk[1]), bc(wk[2]), bc(wk[3]), bc(wk[4])
	w5, w6, w7, w8 := bc(wk[5]), bc(wk[6]), bc(wk[7]), bc(wk[8])
	lo, hi := clampOf(act)
	q0 := at(q, 0)
	for oy := 0; oy < oh; oy++ {
		p0 := unsafe.Add(q0, uintptr(oy*s)*rs)
		p1, p2 := unsafe.Add(p0, rs), unsafe.Add(p0, 2*rs)
		o := at(out, oy*ow)
		for x := 0; x < ow; x += 4 {
			x = min(x, ow-4)
			j := uintptr(4 * x)
			a, c, e := unsafe.Add(p0, j), unsafe.Add(p1, j), unsafe.Add(p2, j)
			acc := b.Add(w0.Mul(ld(a))).Add(w1.Mul(ld(unsafe.Add(a, t1)))).Add(w2.Mul(ld(unsafe.Add(a, t2))))
			acc = acc.Add(w3.Mul(ld(c))).Add(w4.Mul(ld(unsafe.Add(c, t1)))).Add(w5.Mul(ld(unsafe.Add(c, t2))))
			acc = acc.Add(w6.Mul(ld(e))).Add(w7.Mul(ld(unsafe.Add(e, t1)))).Add(w8.Mul(ld(unsafe.Add(e, t2))))
			st(unsafe.Add(o, j), acc.Max(lo).Min(hi)) // NaN stays NaN

		}
	}
	return true
}

// padRow1 writes 0, src, 0 into d (len(src)+2 values, len(src) >= 4), four
// values at a time with an overlapping last vector.
func padRow1(d, src []float32) {
	n := len(src)
	_, _ = d[n+1], src[n-1]
	d[0], d[n+1] = 0, 0
	ps, pd := at(src, 0), at(d, 1)
	for x := 0; x < n; x += 4 {
		x = min(x, n-4)
		st(unsafe.Add(pd, 4*x), ld(unsafe.Add(ps, 4*x)))
	}
}

// oddLo and oddHi pick the odd float32 lanes, like evenLo and evenHi.
var oddLo, oddHi = archsimd.LoadInt8x16Array(&[16]int8{4, 5, 6, 7, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1}),
	archsimd.LoadInt8x16Array(&[16]int8{-1, -1, -1, -1, -1, -1, -1, -1, 4, 5, 6, 7, 12, 13, 14, 15})

// splitRow1 writes the even and odd column phases of src padded with one
// zero on each side: e[i] = src[2i-1], o[i] = src[2i] (zeros outside src),
// eight source values per step. It reports false (nothing written) when e
// and o are not (len(src)+3)/2 long.
func splitRow1(e, o, src []float32) bool {
	n := len(src)
	m := (n + 3) / 2
	if len(e) != m || len(o) != m {
		return false
	}
	i := 0
	if n >= 8 {
		lo, hi, olo, ohi := evenLo, evenHi, oddLo, oddHi
		ps := at(src, 0)
		for ; 2*i+8 <= n; i += 4 {
			a, b := ldb(unsafe.Add(ps, 8*i)), ldb(unsafe.Add(ps, 8*i+16))
			a.LookupOrZero(lo).Or(b.LookupOrZero(hi)).StoreArray((*[16]int8)(at(o, i)))
			a.LookupOrZero(olo).Or(b.LookupOrZero(ohi)).StoreArray((*[16]int8)(at(e, i+1)))
		}
	}
	e[0] = 0
	for j := max(i, 0); j < m; j++ {
		o[j] = 0
		if 2*j < n {
			o[j] = src[2*j]
		}
		if j > i || i == 0 {
			if j == 0 {
				continue
			}
			e[j] = 0
			if 2*j-1 < n {
				e[j] = src[2*j-1]
			}
		}
	}
	// e[i] (i > 0) was written by the last vector step: e[i] = src[2i-1].
	return true
}

// winoInCols43 is the column pass of the F(4x4,3x3) input transform over
// the six tile rows r[i*we:(i+1)*we], in place.
func winoInCols43(r []float32, we int) int {
	if !simdOn {
		return 0
	}
	n := we &^ 3
	if n == 0 {
		return 0
	}
	_ = r[5*we+n-1]
	four, five, two := bc(4), bc(5), bc(2)
	s := 4 * uintptr(we)
	for j := 0; j < n; j += 4 {
		p := at(r, j)
		d0, d1, d2 := ld(p), ld(unsafe.Add(p, s)), ld(unsafe.Add(p, 2*s))
		d3, d4, d5 := ld(unsafe.Add(p, 3*s)), ld(unsafe.Add(p, 4*s)), ld(unsafe.Add(p, 5*s))
		a, b := d4.Sub(four.Mul(d2)), d3.Sub(four.Mul(d1))
		c, e := d4.Sub(d2), two.Mul(d3.Sub(d1))
		st(p, four.Mul(d0).Sub(five.Mul(d2)).Add(d4))
		st(unsafe.Add(p, s), a.Add(b))
		st(unsafe.Add(p, 2*s), a.Sub(b))
		st(unsafe.Add(p, 3*s), c.Add(e))
		st(unsafe.Add(p, 4*s), c.Sub(e))
		st(unsafe.Add(p, 5*s), four.Mul(d1).Sub(five.Mul(d3)).Add(d5))
	}
	return n
}

// winoOutCols43 is the column pass of the F(4x4,3x3) output transform: four
// output rows y0..y3 (bias bv added) from six rows r[i*n:(i+1)*n].
func winoOutCols43(y0, y1, y2, y3, r []float32, n int, bv float32) int {
	if !simdOn {
		return 0
	}
	cnt := len(y0) &^ 3
	if cnt == 0 {
		return 0
	}
	_, _, _, _, _ = y0[cnt-1], y1[cnt-1], y2[cnt-1], y3[cnt-1], r[5*n+cnt-1]
	b, two, four, eight := bc(bv), bc(2), bc(4), bc(8)
	s := 4 * uintptr(n)
	for x := 0; x < cnt; x += 4 {
		p := at(r, x)
		m0, m1, m2 := ld(p), ld(unsafe.Add(p, s)), ld(unsafe.Add(p, 2*s))
		m3, m4, m5 := ld(unsafe.Add(p, 3*s)), ld(unsafe.Add(p, 4*s)), ld(unsafe.Add(p, 5*s))
		sm, d := m1.Add(m2), m1.Sub(m2)
		s2, d2 := m3.Add(m4), m3.Sub(m4)
		st(at(y0, x), b.Add(m0).Add(sm).Add(s2))
		st(at(y1, x), b.Add(d).Add(two.Mul(d2)))
		st(at(y2, x), b.Add(sm).Add(four.Mul(s2)))
		st(at(y3, x), b.Add(d).Add(eight.Mul(d2)).Add(m5))
	}
	return cnt
}

// lerpVec does o[j] = l0*a[j] + l1*b[j] (a and b at least as long as o).
func lerpVec(o, a, b []float32, l0, l1 float32) int {
	if !simdOn {
		return 0
	}
	n := len(o) &^ 3
	if n == 0 {
		return 0
	}
	_, _, _ = o[n-1], a[n-1], b[n-1]
	w0, w1 := bc(l0), bc(l1)
	for j := 0; j < n; j += 4 {
		st(at(o, j), w0.Mul(ld(at(a, j))).Add(w1.Mul(ld(at(b, j)))))
	}
	return n
}

// winoOutRow43 is the row pass of the F(4x4,3x3) output transform for four
// tiles at a time: their six products m[xi] are contiguous at o + xi·st (one
// vector each), the four outputs per tile come out as one vector per output
// position and go to row[4·tile + k] lane by lane (no shuffles in the API).
func winoOutRow43(row []float32, o unsafe.Pointer, st uintptr, tw int) int {
	if !simdOn {
		return 0
	}
	cnt := tw &^ 3
	if cnt == 0 {
		return 0
	}
	_ = row[4*cnt-1]
	two, four, eight := bc(2), bc(4), bc(8)
	for tx := 0; tx < cnt; tx += 4 {
		q := unsafe.Add(o, 4*tx)
		m0, m1, m2 := ld(q), ld(unsafe.Add(q, st)), ld(unsafe.Add(q, 2*st))
		m3, m4, m5 := ld(unsafe.Add(q, 3*st)), ld(unsafe.Add(q, 4*st)), ld(unsafe.Add(q, 5*st))
		s, d := m1.Add(m2), m1.Sub(m2)
		s2, d2 := m3.Add(m4), m3.Sub(m4)
		w0 := m0.Add(s).Add(s2)
		w1 := d.Add(two.Mul(d2))
		w2 := s.Add(four.Mul(s2))
		w3 := d.Add(eight.Mul(d2)).Add(m5)
		w := (*[16]float32)(row[4*tx : 4*tx+16])
		w[0], w[1], w[2], w[3] = w0.GetElem(0), w1.GetElem(0), w2.GetElem(0), w3.GetElem(0)
		w[4], w[5], w[6], w[7] = w0.GetElem(1), w1.GetElem(1), w2.GetElem(1), w3.GetElem(1)
		w[8], w[9], w[10], w[11] = w0.GetElem(2), w1.GetElem(2), w2.GetElem(2), w3.GetElem(2)
		w[12], w[13], w[14], w[15] = w0.GetElem(3), w1.GetElem(3), w2.GetElem(3), w3.GetElem(3)
	}
	return cnt
}

// evenLo and evenHi pick the even float32 lanes of a vector into lanes 0-1
// or 2-3 of an i8x16.swizzle (index -1: a zero byte).
var evenLo, evenHi = archsimd.LoadInt8x16Array(&[16]int8{0, 1, 2, 3, 8, 9, 10, 11, -1, -1, -1, -1, -1, -1, -1, -1}),
	archsimd.LoadInt8x16Array(&[16]int8{-1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 2, 3, 8, 9, 10, 11})

func ldb(p unsafe.Pointer) archsimd.Int8x16 { return archsimd.LoadInt8x16Array((*[16]int8)(p)) }

// gatherStridedVec does d[i] = src[2i] for stride 2 (other strides: 0), four
// at a time: the even lanes of two loads, swizzled and merged.
func gatherStridedVec(d, src []float32, s int) int {
	if !simdOn || s != 2 {
		return 0
	}
	n := min(len(d), len(src)/2) &^ 3
	if n == 0 {
		return 0
	}
	_, _ = d[n-1], src[2*n-1]
	lo, hi := evenLo, evenHi
	for i := 0; i < n; i += 4 {
		p := at(src, 2*i)
		v := ldb(p).LookupOrZero(lo).Or(ldb(unsafe.Add(p, 16)).LookupOrZero(hi))
		v.StoreArray((*[16]int8)(at(d, i)))
	}
	return n
}
