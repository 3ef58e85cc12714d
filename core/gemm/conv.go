package gemm

import "fmt"

// Conv computes one group of a 2-d convolution as a GEMM whose B operand, the
// im2col matrix, is packed straight from the image (never materialised):
//
//	out[o][oy·ow+ox] (+)= Σ w[o·ldw + (ch·kh+ky)·kw+kx] · in[ch][oy·s+ky][ox·s+kx]
//
// for o < m, an input in[c][h][wd] that is already padded (valid
// convolution), stride s ≥ 1, oh = (h-kh)/s+1, ow = (wd-kw)/s+1; out rows have
// stride ldo ≥ oh·ow. Paths without a packing kernel build the column matrix
// and call Sgemm. Inconsistent sizes panic, as in Sgemm.
func Conv(m int, w []float32, ldw int, in []float32, c, h, wd, kh, kw, s int, out []float32, ldo int, accumulate bool) {
	if c < 1 || kh < 1 || kw < 1 || s < 1 || h < kh || wd < kw {
		panic(fmt.Sprintf("gemm: conv with %d channels %dx%d, kernel %dx%d, stride %d", c, h, wd, kh, kw, s))
	}
	if len(in) < c*h*wd {
		panic(fmt.Sprintf("gemm: conv input has %d values, %dx%dx%d needs %d", len(in), c, h, wd, c*h*wd))
	}
	oh, ow := (h-kh)/s+1, (wd-kw)/s+1
	n, k := oh*ow, c*kh*kw
	if m <= 0 {
		return
	}
	check("w", w, m, k, ldw)
	check("out", out, m, n, ldo)
	flops.Add(2 * int64(m) * int64(n) * int64(k))
	cv := convB{in: in, h: h, w: wd, kh: kh, kw: kw, s: s, ow: ow}
	p := cur.Load()
	if p.kn != nil {
		p.kn.run(m, n, k, w, ldw, cv, out, ldo, accumulate)
		return
	}
	col, ok := colStock.get()
	if !ok {
		col = new([]float32)
	}
	if cap(*col) < k*n {
		*col = make([]float32, k*n)
	}
	cols := (*col)[:k*n]
	for q := 0; q < k; q++ {
		cv.row(cols[q*n:(q+1)*n], q, 0)
	}
	p.run(m, n, k, w, ldw, cols, n, out, ldo, accumulate)
	colStock.put(col)
}

var colStock stock[*[]float32]

// convB is the im2col matrix of a padded input, packed on demand.
type convB struct {
	in                  []float32
	h, w, kh, kw, s, ow int
}

// row writes columns [j0, j0+len(dst)) of im2col row q.
func (cv convB) row(dst []float32, q, j0 int) {
	kx, ky, ch := q%cv.kw, (q/cv.kw)%cv.kh, q/(cv.kw*cv.kh)
	plane := cv.in[ch*cv.h*cv.w : (ch+1)*cv.h*cv.w]
	oy, ox := j0/cv.ow, j0%cv.ow
	for x := 0; x < len(dst); {
		run := min(cv.ow-ox, len(dst)-x)
		base := (oy*cv.s+ky)*cv.w + ox*cv.s + kx
		if cv.s == 1 {
			copy(dst[x:x+run], plane[base:base+run])
		} else {
			seg := dst[x : x+run]
			for r := range seg {
				seg[r] = plane[base+r*cv.s]
			}
		}
		x += run
		ox = 0
		oy++
	}
}

func (cv convB) pack(kn *kernel, dst []float32, pc, kc, c0, nc int) {
	for j0 := 0; j0 < nc; j0 += kn.nr {
		wdt := min(kn.nr, nc-j0)
		_, nr := kn.panelKernel(wdt)
		pan := dst[(j0/kn.nr)*kc*kn.nr:][:kc*nr]
		for p := 0; p < kc; p++ {
			row := pan[p*nr : (p+1)*nr]
			cv.row(row[:wdt], pc+p, c0+j0)
			clear(row[wdt:])
		}
	}
}
