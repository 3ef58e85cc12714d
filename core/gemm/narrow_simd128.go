//go:build goexperiment.simd && wasm

package gemm

import "unsafe"

// maxNarrow is the widest product simdGemm computes as dot products.
const maxNarrow = 4

// gemmNarrow computes C (+)= A·B for n <= 4 (Winograd's per-tile products on
// 7×7 maps have n = 4) as dot products along k: B transposed into bt, each
// A row loaded four k steps at a time, no broadcasts. The 4×8 kernels would
// run a 4-wide edge tile with one multiply-add per broadcast (13% of a
// ResNet-18 pass). The four lanes are separate partial sums added at the
// end, so results differ from the generic kernel's in rounding (k-sized
// sums in another order; well within the 1e-5 the tests allow).
func gemmNarrow(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	kq := k / 4
	buf := getPacked(16 * kq)
	defer packedStock.put(buf)
	bt := *buf
	// bt[q*16+j*4+l] = B[4q+l][j], zero columns past n.
	for p := range 4 * kq {
		for j := range 4 {
			v := float32(0)
			if j < n {
				v = b[p*ldb+j]
			}
			bt[p/4*16+j*4+p%4] = v
		}
	}
	for i := 0; i < m; i += 2 {
		// An odd last row goes through the kernel twice and is stored once.
		s := dot2x4(kq, a[i*lda:], a[min(i+1, m-1)*lda:], bt)
		for r := range min(2, m-i) {
			row, out := a[(i+r)*lda:(i+r)*lda+k], c[(i+r)*ldc:(i+r)*ldc+n]
			for j := range out {
				v := s[r][j]
				for p := 4 * kq; p < k; p++ {
					v += row[p] * b[p*ldb+j]
				}
				if accumulate {
					v += out[j]
				}
				out[j] = v
			}
		}
	}
}

// dot2x4 is s[r][j] = Σ_p<4kq a_r[p]·bt-column j, for two A rows.
func dot2x4(kq int, a0, a1, bt []float32) (s [2][4]float32) {
	if kq == 0 {
		return s
	}
	_, _, _ = a0[4*kq-1], a1[4*kq-1], bt[16*kq-1]
	p0, p1, pb := unsafe.Pointer(&a0[0]), unsafe.Pointer(&a1[0]), unsafe.Pointer(&bt[0])
	var c00, c01, c02, c03, c10, c11, c12, c13 f4
	for n := kq; ; {
		x, y := ld4(p0), ld4(p1)
		b0, b1, b2, b3 := ld4(pb), ld4(unsafe.Add(pb, 16)), ld4(unsafe.Add(pb, 32)), ld4(unsafe.Add(pb, 48))
		c00, c01 = madd2(c00, c01, x, b0, b1)
		c02, c03 = madd2(c02, c03, x, b2, b3)
		c10, c11 = madd2(c10, c11, y, b0, b1)
		c12, c13 = madd2(c12, c13, y, b2, b3)
		if n--; n == 0 {
			break
		}
		p0, p1, pb = unsafe.Add(p0, 16), unsafe.Add(p1, 16), unsafe.Add(pb, 64)
	}
	s[0] = [4]float32{hsum(c00), hsum(c01), hsum(c02), hsum(c03)}
	s[1] = [4]float32{hsum(c10), hsum(c11), hsum(c12), hsum(c13)}
	return s
}

// hsum is the sum of v's lanes.
func hsum(v f4) float32 {
	return (v.GetElem(0) + v.GetElem(1)) + (v.GetElem(2) + v.GetElem(3))
}
