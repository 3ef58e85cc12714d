package nn

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// linearTaps holds, per output index, the two source indices and weights of a
// 1-d linear interpolation.
type linearTaps struct {
	i0, i1 []int
	w0, w1 []float32
}

// bilinearTaps follows PyTorch's upsample_bilinear2d (CPU, no antialias, no
// scale_factor): float32 scale, source index clamped at 0 for half-pixel centres.
func bilinearTaps(in, out int, alignCorners bool) linearTaps {
	t := linearTaps{make([]int, out), make([]int, out), make([]float32, out), make([]float32, out)}
	var scale float32
	if alignCorners {
		if out > 1 {
			scale = float32(in-1) / float32(out-1)
		}
	} else {
		scale = float32(in) / float32(out)
	}
	for d := 0; d < out; d++ {
		// Measured against torch 1.13: the source index is formed in double
		// from the float32 scale; rounding it to float32 costs up to 7e-6
		// (224→28) where torch agrees to 2.4e-7.
		var src float64
		if alignCorners {
			src = float64(scale) * float64(d)
		} else {
			src = float64(scale)*(float64(d)+0.5) - 0.5
			if src < 0 {
				src = 0
			}
		}
		i0 := min(int(src), in-1)
		l1 := float32(min(max(src-float64(i0), 0), 1))
		t.i0[d] = i0
		t.i1[d] = i0
		if i0 < in-1 {
			t.i1[d] = i0 + 1
		}
		t.w0[d], t.w1[d] = 1-l1, l1
	}
	return t
}

// ResizeBilinear resizes the spatial axes of x to oh×ow like PyTorch's
// F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=alignCorners).
func ResizeBilinear(x *tensor.Dense, oh, ow int, alignCorners bool) *tensor.Dense {
	n, c, _, _ := Dims4(x)
	out := New(n, c, oh, ow)
	ResizeBilinearInto(Data(out), x, oh, ow, alignCorners)
	return out
}

// ResizeBilinearInto is ResizeBilinear writing its [N,C,oh,ow] result into
// dst, which must hold exactly that many values.
//
// Each output is wy0·(wx0·r0[a]+wx1·r0[b]) + wy1·(wx0·r1[a]+wx1·r1[b]) in
// float32; the inner (horizontal) sums are computed once per source row
// that some output reads and kept when upsampling (13 -> 28: a third of the
// work), with the same roundings as the one-expression form.
func ResizeBilinearInto(dst []float32, x *tensor.Dense, oh, ow int, alignCorners bool) {
	n, c, h, w := Dims4(x)
	if oh < 1 || ow < 1 || h < 1 || w < 1 {
		panic(fmt.Sprintf("nn.ResizeBilinear: %dx%d -> %dx%d", h, w, oh, ow))
	}
	if len(dst) != n*c*oh*ow {
		panic(fmt.Sprintf("nn.ResizeBilinearInto: destination holds %d values, want %d", len(dst), n*c*oh*ow))
	}
	ty, tx := bilinearTaps(h, oh, alignCorners), bilinearTaps(w, ow, alignCorners)
	need := make([]bool, h) // source rows some output reads
	for oy := 0; oy < oh; oy++ {
		need[ty.i0[oy]], need[ty.i1[oy]] = true, true
	}
	rows := 0
	for _, ok := range need {
		if ok {
			rows++
		}
	}
	xd := Data(x)
	if rows >= oh {
		// Downscaling: no source row is shared, the kept sums would only
		// cost a pass more.
		parallelFor(n*c, n*c*oh*ow*4, func(lo, hi int) {
			for pl := lo; pl < hi; pl++ {
				src := xd[pl*h*w : (pl+1)*h*w]
				out := dst[pl*oh*ow : (pl+1)*oh*ow]
				for oy := 0; oy < oh; oy++ {
					r0, r1 := src[ty.i0[oy]*w:][:w], src[ty.i1[oy]*w:][:w]
					wy0, wy1 := ty.w0[oy], ty.w1[oy]
					row := out[oy*ow : (oy+1)*ow]
					i0, i1, w0, w1 := tx.i0[:len(row)], tx.i1[:len(row)], tx.w0[:len(row)], tx.w1[:len(row)]
					for ox := range row {
						a, b := i0[ox], i1[ox]
						wx0, wx1 := w0[ox], w1[ox]
						row[ox] = wy0*(wx0*r0[a]+wx1*r0[b]) + wy1*(wx0*r1[a]+wx1*r1[b])
					}
				}
			}
		})
		return
	}
	parallelFor(n*c, n*c*oh*ow*4, func(lo, hi int) {
		tmp := make([]float32, h*ow) // horizontal sums of the needed rows
		for pl := lo; pl < hi; pl++ {
			src := xd[pl*h*w : (pl+1)*h*w]
			for y, ok := range need {
				if !ok {
					continue
				}
				r, t := src[y*w:(y+1)*w], tmp[y*ow:(y+1)*ow]
				i0, i1, w0, w1 := tx.i0[:len(t)], tx.i1[:len(t)], tx.w0[:len(t)], tx.w1[:len(t)]
				for ox := range t {
					t[ox] = w0[ox]*r[i0[ox]] + w1[ox]*r[i1[ox]]
				}
			}
			out := dst[pl*oh*ow : (pl+1)*oh*ow]
			for oy := 0; oy < oh; oy++ {
				h0, h1 := tmp[ty.i0[oy]*ow:][:ow], tmp[ty.i1[oy]*ow:][:ow]
				wy0, wy1 := ty.w0[oy], ty.w1[oy]
				row := out[oy*ow : (oy+1)*ow]
				h0, h1 = h0[:len(row)], h1[:len(row)]
				for ox := lerpVec(row, h0, h1, wy0, wy1); ox < len(row); ox++ {
					row[ox] = wy0*h0[ox] + wy1*h1[ox]
				}
			}
		}
	})
}

// pilPrecision is Pillow's fixed-point precision for 8-bit resampling
// (PRECISION_BITS in libImaging/Resample.c: 32 - 8 - 2).
const pilPrecision = 22

// pilCoeffs reproduces Pillow's precompute_coeffs + normalize_coeffs_8bpc for
// the BILINEAR (triangle, support 1) filter: for each output index the first
// source index, the tap count and the fixed-point weights.
func pilCoeffs(in, out int) (bounds []int, ksize int, kk []int32) {
	scale := float64(in) / float64(out)
	filterscale := max(scale, 1.0) // the support widens when downscaling
	support := 1.0 * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, 2*out)
	kk = make([]int32, out*ksize)
	k := make([]float64, ksize)
	for xx := 0; xx < out; xx++ {
		center := (float64(xx) + 0.5) * scale
		ss := 1.0 / filterscale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), in) - xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			t := math.Abs((float64(x+xmin) - center + 0.5) * ss)
			wv := 0.0
			if t < 1 {
				wv = 1 - t
			}
			k[x] = wv
			ww += wv
		}
		for x := 0; x < ksize; x++ {
			v := 0.0
			if x < xmax && ww != 0 {
				v = k[x] / ww
			} else if x < xmax {
				v = k[x]
			}
			if v < 0 {
				kk[xx*ksize+x] = int32(-0.5 + v*(1<<pilPrecision))
			} else {
				kk[xx*ksize+x] = int32(0.5 + v*(1<<pilPrecision))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return bounds, ksize, kk
}

func pilClip8(v int32) uint8 {
	if v >= 255<<pilPrecision {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> pilPrecision)
}

// pilRow is ResizePIL's horizontal pass of one row of ch-channel pixels.
func pilRow(out, in []uint8, ch int, bounds []int, ksize int, kk []int32) {
	const half = int32(1 << (pilPrecision - 1))
	for xx := 0; xx < len(out)/ch; xx++ {
		xmin, n := bounds[2*xx], bounds[2*xx+1]
		k := kk[xx*ksize : xx*ksize+n]
		px := in[xmin*ch : (xmin+n)*ch]
		if ch == 3 { // RGB: the three sums in one pass over the taps
			s0, s1, s2 := half, half, half
			for x, kv := range k {
				p := px[3*x : 3*x+3 : 3*x+3]
				s0 += int32(p[0]) * kv
				s1 += int32(p[1]) * kv
				s2 += int32(p[2]) * kv
			}
			o := out[3*xx : 3*xx+3 : 3*xx+3]
			o[0], o[1], o[2] = pilClip8(s0), pilClip8(s1), pilClip8(s2)
			continue
		}
		for c := 0; c < ch; c++ {
			ss := half
			for x, kv := range k {
				ss += int32(px[x*ch+c]) * kv
			}
			out[xx*ch+c] = pilClip8(ss)
		}
	}
}

// ResizePIL resizes 8-bit interleaved pixels (w×h, ch channels per pixel) to
// ow×oh like Pillow 9's Image.resize(size, BILINEAR) on an "L"/"RGB" image:
// an antialiased triangle filter whose support grows with the downscale
// factor, fixed-point weights, a horizontal then a vertical pass, each rounded
// to 8 bits. Channels are independent (no RGBA premultiplication). It panics
// if src is shorter than w*h*ch.
func ResizePIL(src []uint8, w, h, ch, ow, oh int) []uint8 {
	if w < 1 || h < 1 || ch < 1 || ow < 1 || oh < 1 || len(src) < w*h*ch {
		panic(fmt.Sprintf("nn.ResizePIL: %d bytes for %dx%dx%d -> %dx%d", len(src), w, h, ch, ow, oh))
	}
	src = src[:w*h*ch]
	if w == ow && h == oh {
		return append([]uint8(nil), src...)
	}
	cur, cw := src, w
	if ow != w {
		bounds, ksize, kk := pilCoeffs(w, ow)
		// Only rows the vertical pass reads are needed, but with a full-height
		// box that is every row, so resample them all.
		tmp := make([]uint8, ow*h*ch)
		parallelFor(h, ow*h*ch*ksize, func(lo, hi int) {
			for y := lo; y < hi; y++ {
				pilRow(tmp[y*ow*ch:(y+1)*ow*ch], cur[y*w*ch:(y+1)*w*ch], ch, bounds, ksize, kk)
			}
		})
		cur, cw = tmp, ow
	}
	if oh != h {
		bounds, ksize, kk := pilCoeffs(h, oh)
		tmp := make([]uint8, cw*oh*ch)
		rowLen := cw * ch
		parallelFor(oh, rowLen*oh*ksize, func(lo, hi int) {
			acc := make([]int32, rowLen)
			for yy := lo; yy < hi; yy++ {
				ymin, ymax := bounds[2*yy], bounds[2*yy+1]
				for i := range acc {
					acc[i] = 1 << (pilPrecision - 1)
				}
				// Source row by source row: sequential reads without bounds
				// checks; integer sums, so the order changes nothing.
				for y, kv := range kk[yy*ksize : yy*ksize+ymax] {
					row := cur[(y+ymin)*rowLen:][:len(acc)]
					for i := pilAccVec(acc, row, kv); i < len(row); i++ {
						acc[i] += int32(row[i]) * kv
					}
				}
				outRow := tmp[yy*rowLen:][:len(acc)]
				for i, ss := range acc {
					outRow[i] = pilClip8(ss)
				}
			}
		})
		cur = tmp
	}
	return cur
}
