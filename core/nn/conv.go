package nn

import (
	"fmt"
	"runtime"

	"github.com/posprobe/posprobe/core/gemm"
	"gorgonia.org/tensor"
)

// Conv2D is a 2-d convolution (PyTorch nn.Conv2d without dilation).
// W is [OutC, InC/Groups, KH, KW]; B is [OutC] or nil. Pad is the nominal
// padding on every side, applied according to Mode; PadNone means no padding.
// Stride 0 counts as 1.
type Conv2D struct {
	InC, OutC, KH, KW, Stride, Pad, Groups int
	Mode                                   PadMode
	W, B                                   []float32
}

func (c *Conv2D) stride() int {
	if c.Stride < 1 {
		return 1
	}
	return c.Stride
}

func (c *Conv2D) groups() int {
	if c.Groups < 1 {
		return 1
	}
	return c.Groups
}

// pad is the padding actually applied on each side: KH-1 in PadFull mode
// for a conv that pads at all.
func (c *Conv2D) pad() int {
	switch {
	case c.Mode == PadNone:
		return 0
	case c.Mode == PadFull && c.Pad > 0:
		return c.KH - 1
	}
	return c.Pad
}

// Applied is the padding c applies on each side (0 for PadNone, KH-1 for
// PadFull on a conv whose nominal padding is not 0).
func (c *Conv2D) Applied() int { return c.pad() }

// Check reports an inconsistent configuration (channels not divisible by the
// groups, weights or bias of the wrong length).
func (c *Conv2D) Check() error {
	g := c.groups()
	switch {
	case c.InC < 1 || c.OutC < 1 || c.KH < 1 || c.KW < 1:
		return fmt.Errorf("conv: bad sizes in=%d out=%d kernel=%dx%d", c.InC, c.OutC, c.KH, c.KW)
	case c.Pad < 0:
		return fmt.Errorf("conv: negative padding %d", c.Pad)
	case c.InC%g != 0 || c.OutC%g != 0:
		return fmt.Errorf("conv: channels in=%d out=%d not divisible by groups=%d", c.InC, c.OutC, g)
	case len(c.W) != c.OutC*(c.InC/g)*c.KH*c.KW:
		return fmt.Errorf("conv: weight has %d values, want %d (%dx%dx%dx%d)",
			len(c.W), c.OutC*(c.InC/g)*c.KH*c.KW, c.OutC, c.InC/g, c.KH, c.KW)
	case c.B != nil && len(c.B) != c.OutC:
		return fmt.Errorf("conv: bias has %d values, want %d", len(c.B), c.OutC)
	case c.Mode < PadZero || c.Mode > PadFull:
		return fmt.Errorf("conv: unknown padding mode %d", int(c.Mode))
	case c.Mode == PadFull && c.KH != c.KW:
		return fmt.Errorf("conv: full padding needs a square kernel, not %dx%d", c.KH, c.KW)
	}
	return nil
}

// OutSize is the output height and width for an h×w input.
func (c *Conv2D) OutSize(h, w int) (int, int) {
	p, s := c.pad(), c.stride()
	return (h+2*p-c.KH)/s + 1, (w+2*p-c.KW)/s + 1
}

// Act is an activation that ForwardActIn applies to a convolution's output
// as it is written (fused into the SIMD kernels or while it is in cache)
// instead of in a pass of its own.
type Act int

const (
	ActNone  Act = iota
	ActReLU      // as ReLU
	ActReLU6     // as ReLU6
)

// apply does act on d in place.
func (act Act) apply(d []float32) {
	switch act {
	case ActReLU:
		relu(d)
	case ActReLU6:
		relu6(d)
	}
}

// Forward convolves x [N,InC,H,W] and returns a new [N,OutC,OH,OW] tensor.
// It panics on a configuration or shape error (see Check): those are
// programming errors of the model builder, not bad user input.
func (c *Conv2D) Forward(x *tensor.Dense) *tensor.Dense { return c.ForwardIn(nil, x) }

// ForwardIn is Forward with the output and the scratch memory taken from a
// (see Arena); a nil a allocates them.
func (c *Conv2D) ForwardIn(a *Arena, x *tensor.Dense) *tensor.Dense {
	return c.ForwardActIn(a, x, ActNone)
}

// ForwardActIn is ForwardIn followed by the activation act (ReLU(c.ForwardIn(a,
// x)) for ActReLU), with the same results.
func (c *Conv2D) ForwardActIn(a *Arena, x *tensor.Dense, act Act) *tensor.Dense {
	n, oh, ow := c.outShape(x)
	out := a.New(n, c.OutC, oh, ow)
	c.forwardTo(a, out, x, act)
	return out
}

// outShape checks c and its input x and returns the output's N, OH, OW.
func (c *Conv2D) outShape(x *tensor.Dense) (n, oh, ow int) {
	if err := c.Check(); err != nil {
		panic("nn." + err.Error())
	}
	n, ci, h, w := Dims4(x)
	if ci != c.InC {
		panic(fmt.Sprintf("nn.conv: input has %d channels, layer wants %d", ci, c.InC))
	}
	if p := c.pad(); h+2*p < c.KH || w+2*p < c.KW {
		panic(fmt.Sprintf("nn.conv: %dx%d input (padding %d) smaller than the %dx%d kernel", h, w, p, c.KH, c.KW))
	}
	oh, ow = c.OutSize(h, w)
	return n, oh, ow
}

// ConcatConvsIn runs every conv of cs on x and returns their outputs, act
// applied, concatenated along channels (ConcatIn of the ForwardActIn
// results): for one image each conv writes its channels of the result
// directly, with no copy.
func ConcatConvsIn(a *Arena, x *tensor.Dense, act Act, cs ...*Conv2D) *tensor.Dense {
	n, oh, ow := cs[0].outShape(x)
	total := 0
	for _, c := range cs {
		if m, h, w := c.outShape(x); m != n || h != oh || w != ow {
			panic(fmt.Sprintf("nn.ConcatConvsIn: outputs %dx%d and %dx%d differ", oh, ow, h, w))
		}
		total += c.OutC
	}
	if n != 1 {
		outs := make([]*tensor.Dense, len(cs))
		for i, c := range cs {
			outs[i] = c.ForwardActIn(a, x, act)
		}
		y := ConcatIn(a, outs...)
		a.Release(outs...)
		return y
	}
	out := a.New(1, total, oh, ow)
	d := Data(out)
	for _, c := range cs {
		c.forwardTo(a, FromData(d[:c.OutC*oh*ow], 1, c.OutC, oh, ow), x, act)
		d = d[c.OutC*oh*ow:]
	}
	return out
}

// forwardTo writes the convolution of x, act applied, into out; outShape
// has checked them.
func (c *Conv2D) forwardTo(a *Arena, out, x *tensor.Dense, act Act) {
	n, ci, h, w := Dims4(x)
	p, s, g := c.pad(), c.stride(), c.groups()
	_, _, oh, ow := Dims4(out)
	if c.winogradFits(oh, ow) {
		c.winograd(a, out, x, act)
		return
	}
	xd, od := Data(x), Data(out)
	hp, wp := h+2*p, w+2*p
	ohw := oh * ow
	cg, og := ci/g, c.OutC/g
	kk := cg * c.KH * c.KW

	direct := c.KH == 1 && c.KW == 1 && s == 1
	// im2col writes zero padding itself, so zero-padded GEMM convs skip the
	// padded copy of the input.
	zeroCols := p > 0 && c.Mode.Zeros() && cg > 1 && !direct
	// Likewise the depthwise 3×3 loop clips its border windows itself.
	zeroDW := p > 0 && c.Mode.Zeros() && cg == 1 && c.KH == 3 && c.KW == 3
	var padded []float32
	if p > 0 && !zeroCols && !zeroDW {
		var pool *[]float32
		padded, pool = a.buf(scratchPad, ci*hp*wp)
		if pool != nil {
			defer putBuf(pool)
		}
	}
	// The column matrix is built for bands of output rows so its size stays
	// bounded (a 64-channel 224×224 layer would need 115 MB at once) and the
	// band being multiplied stays in cache.
	band := oh
	if !direct {
		band = max(1, min(oh, colBandValues/(ci*c.KH*c.KW*ow)))
	}
	var col []float32
	if cg > 1 && !direct {
		var pool *[]float32
		col, pool = a.buf(scratchCol, ci*c.KH*c.KW*band*ow)
		if pool != nil {
			defer putBuf(pool)
		}
	}
	// Strided GEMM convs gather from column phases of the input (see
	// phaseSplit): the column rows become copies.
	var phases []float32
	ph := phaseGeom{s: s}
	if s > 1 && cg > 1 && !direct {
		ph.h, ph.w, ph.p = h, w, 0
		if padded != nil {
			ph.h, ph.w = hp, wp
		} else if zeroCols {
			ph.p = p
		}
		ph.wq = (ph.w + 2*ph.p + s - 1) / s
		var pool *[]float32
		phases, pool = a.buf(scratchPhase, ci*s*ph.h*ph.wq)
		if pool != nil {
			defer putBuf(pool)
		}
	}
	for b := 0; b < n; b++ {
		src := xd[b*ci*h*w : (b+1)*ci*h*w]
		if padded != nil {
			pd := padded
			parallelFor(ci, ci*hp*wp, func(lo, hi int) {
				padPlanes(pd[lo*hp*wp:hi*hp*wp], src[lo*h*w:hi*h*w], hi-lo, h, w, p, p, hp, wp, c.Mode)
			})
			src = pd
		}
		dst := od[b*c.OutC*ohw : (b+1)*c.OutC*ohw]
		if cg == 1 {
			if zeroDW {
				c.depthwise3x3Zero(a, dst, src, h, w, oh, ow, p, act)
			} else {
				c.depthwise(dst, src, hp, wp, oh, ow, act)
			}
			continue
		}
		// dst starts as the bias so the GEMM can accumulate onto it, unless
		// the bias goes in after it (see biasLate).
		early := c.B != nil && !(biasLate && kk <= gemmBlockK)
		if early {
			for o, bv := range c.B {
				plane := dst[o*ohw : (o+1)*ohw]
				for i := fillVec(plane, bv); i < len(plane); i++ {
					plane[i] = bv
				}
			}
		}
		if direct { // 1×1 stride 1: the (padded) input already is the column matrix
			for gi := 0; gi < g; gi++ {
				gemm.Sgemm(og, ohw, kk, c.W[gi*og*kk:], kk, src[gi*kk*ohw:], ohw, dst[gi*og*ohw:], ohw, early)
			}
			c.finish(dst, 0, oh, ow, act, !early)
			continue
		}
		if phases != nil {
			pin := src
			parallelFor(ci, ci*ph.h*ph.w, func(lo, hi int) {
				phaseSplit(phases, pin, lo, hi, ph, c.KH, c.KW, oh)
			})
		}
		for y0 := 0; y0 < oh; y0 += band {
			y1 := min(y0+band, oh)
			cols := (y1 - y0) * ow
			cm := col[:ci*c.KH*c.KW*cols]
			if phases != nil {
				im2colPhased(cm, phases, ci, ph, c.KH, c.KW, y0, y1, ow)
			} else if zeroCols {
				im2colZero(cm, src, ci, h, w, c.KH, c.KW, s, p, y0, y1, ow)
			} else {
				im2col(cm, src, ci, hp, wp, c.KH, c.KW, s, y0, y1, ow)
			}
			for gi := 0; gi < g; gi++ {
				gemm.Sgemm(og, cols, kk, c.W[gi*og*kk:], kk, cm[gi*kk*cols:], cols,
					dst[gi*og*ohw+y0*ow:], ohw, early)
			}
			c.finish(dst, y0, y1, ow, act, !early)
		}
	}
}

// biasLate: the GEMM convs add the bias after the GEMM, with the activation,
// instead of filling the output with it first (a pass over the output less)
// where that gives the same floats: in WebAssembly the GEMM kernels add each
// k-block's sum to C once (core/gemm, blocks of gemmBlockK), so over a single
// block bias + Σ and Σ + bias are the same addition. Natively the kernels
// may fuse multiply-adds into C, so the bias stays first there.
var biasLate = runtime.GOARCH == "wasm"

// gemmBlockK is core/gemm's k block (kcBlock); TestBiasLateExact fails if
// the kernels stop adding a block's sum to C in one step.
const gemmBlockK = 256

// finish adds the bias (when bias) and applies act to output rows [y0, y1)
// of every output plane of dst.
func (c *Conv2D) finish(dst []float32, y0, y1, ow int, act Act, bias bool) {
	if !bias && act == ActNone {
		return
	}
	ohw := len(dst) / c.OutC
	for o := 0; o < c.OutC; o++ {
		seg := dst[o*ohw+y0*ow : o*ohw+y1*ow]
		if bias && c.B != nil {
			bv := c.B[o]
			i := biasActVec(seg, bv, act)
			for j := i; j < len(seg); j++ {
				seg[j] += bv
			}
			seg = seg[i:]
		}
		act.apply(seg)
	}
}

// colBandValues bounds the im2col buffer (in float32 values, 4 MB); a
// variable so tests can force many bands.
var colBandValues = 1 << 20

// im2col writes the column matrix [C·KH·KW, (y1-y0)·OW] of output rows
// [y0, y1) of a valid convolution over an already padded input [C, H, W].
func im2col(col, src []float32, ch, h, w, kh, kw, s, y0, y1, ow int) {
	cols := (y1 - y0) * ow
	parallelFor(ch, ch*kh*kw*cols, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			plane := src[c*h*w : (c+1)*h*w]
			for ky := 0; ky < kh; ky++ {
				for kx := 0; kx < kw; kx++ {
					row := col[((c*kh+ky)*kw+kx)*cols:][:cols]
					for oy := y0; oy < y1; oy++ {
						in := plane[(oy*s+ky)*w+kx:]
						r := row[(oy-y0)*ow : (oy-y0+1)*ow]
						if s == 1 {
							copy(r, in[:ow])
							continue
						}
						for ox := range r {
							r[ox] = in[ox*s]
						}
					}
				}
			}
		}
	})
}

// phaseGeom describes the input of a strided convolution split into column
// phases: h×w planes with p zeros left and right, stride s, wq columns per
// phase.
type phaseGeom struct{ h, w, p, s, wq int }

// phaseSplit writes channels [lo, hi) of src [C, h, w] as column phases into
// q: q[((c·s+r)·h+y)·wq+i] is column s·i+r of row y of the plane padded with
// p zeros left and right. Only the rows and phases that a kh×kw kernel
// reads for oh output rows are written.
func phaseSplit(q, src []float32, lo, hi int, g phaseGeom, kh, kw, oh int) {
	s := g.s
	for c := lo; c < hi; c++ {
		for y := 0; y < g.h; y++ {
			used := false
			for ky := 0; ky < kh && !used; ky++ {
				t := y + g.p - ky
				used = t >= 0 && t%s == 0 && t/s < oh
			}
			if !used {
				continue
			}
			sr := src[(c*g.h+y)*g.w:][:g.w]
			for r := 0; r < min(s, kw); r++ {
				gatherPhase(q[((c*s+r)*g.h+y)*g.wq:][:g.wq], sr, s, r-g.p)
			}
		}
	}
}

// gatherPhase sets d[i] = src[s·i+o], or 0 where that index lies outside
// src: phase o mod s of a row shifted by -o (padding o zeros on the left).
func gatherPhase(d, src []float32, s, o int) {
	// i in [ia, ib) reads inside src.
	ia := min(max(0, (s-1-o)/s), len(d))
	ib := ia
	if len(src)-1-o >= 0 {
		ib = max(min(len(d), (len(src)-1-o)/s+1), ia)
	}
	clear(d[:ia])
	clear(d[ib:])
	gatherStrided(d[ia:ib], src[min(ia*s+o, len(src)):], s)
}

// gatherStrided sets d[i] = src[i·s].
func gatherStrided(d, src []float32, s int) {
	if len(d) == 0 {
		return
	}
	if s == 1 {
		copy(d, src)
		return
	}
	i := gatherStridedVec(d, src, s)
	if len(d) == i {
		return
	}
	src = src[:(len(d)-1)*s+1]
	for ; i+4 <= len(d); i += 4 {
		r := (*[4]float32)(d[i : i+4])
		r[0], r[1], r[2], r[3] = src[i*s], src[(i+1)*s], src[(i+2)*s], src[(i+3)*s]
	}
	for ; i < len(d); i++ {
		d[i] = src[i*s]
	}
}

// im2colPhased is im2col of a strided convolution from the column phases q
// (see phaseSplit): row (c, ky, kx) of the column matrix reads phase kx mod s
// from column kx/s on, so each output row is one copy (zeros where the input
// row lies in the padding).
func im2colPhased(col, q []float32, ch int, g phaseGeom, kh, kw, y0, y1, ow int) {
	cols := (y1 - y0) * ow
	s := g.s
	parallelFor(ch, ch*kh*kw*cols, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for kx := 0; kx < kw; kx++ {
				pl := q[(c*s+kx%s)*g.h*g.wq:][:g.h*g.wq]
				i0 := kx / s
				for ky := 0; ky < kh; ky++ {
					row := col[((c*kh+ky)*kw+kx)*cols:][:cols]
					for oy := y0; oy < y1; oy++ {
						r := row[(oy-y0)*ow : (oy-y0+1)*ow]
						iy := oy*s + ky - g.p
						if iy < 0 || iy >= g.h {
							clear(r)
							continue
						}
						copy(r, pl[iy*g.wq+i0:])
					}
				}
			}
		}
	})
}

// im2colZero is im2col over an unpadded input [C, H, W] with p zeros on
// every side: each column row is a run of zeros, a copy (stride 1) or gather,
// and zeros again.
func im2colZero(col, src []float32, ch, h, w, kh, kw, s, p, y0, y1, ow int) {
	cols := (y1 - y0) * ow
	parallelFor(ch, ch*kh*kw*cols, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			plane := src[c*h*w : (c+1)*h*w]
			for kx := 0; kx < kw; kx++ {
				// Output columns [xa, xb) read inside the input: ox*s+kx-p in [0, w).
				xa := min(max(0, (p-kx+s-1)/s), ow)
				xb := max(min(ow, (w-1+p-kx)/s+1), xa)
				if w-1+p-kx < 0 {
					xb = xa
				}
				for ky := 0; ky < kh; ky++ {
					row := col[((c*kh+ky)*kw+kx)*cols:][:cols]
					for oy := y0; oy < y1; oy++ {
						r := row[(oy-y0)*ow : (oy-y0+1)*ow]
						iy := oy*s + ky - p
						if iy < 0 || iy >= h {
							clear(r)
							continue
						}
						clear(r[:xa])
						clear(r[xb:])
						if xa == xb {
							continue
						}
						x0 := xa*s + kx - p
						in := plane[iy*w+x0 : (iy+1)*w]
						mid := r[xa:xb]
						if s == 1 {
							copy(mid, in)
							continue
						}
						for i := range mid {
							mid[i] = in[i*s]
						}
					}
				}
			}
		}
	})
}

// depthwise handles one input channel per group (InC/Groups == 1) with a
// direct loop: a GEMM with k = KH·KW would be mostly overhead.
func (c *Conv2D) depthwise(dst, src []float32, h, w, oh, ow int, act Act) {
	s := c.stride()
	ohw := oh * ow
	kk := c.KH * c.KW
	parallelFor(c.OutC, c.OutC*ohw*kk, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			plane, out, wk, bv := c.dwPlane(dst, src, o, h*w, ohw)
			if c.KH == 3 && c.KW == 3 {
				dw3x3(out, plane, wk, bv, w, oh, ow, s)
				act.apply(out)
				continue
			}
			for i := range out {
				out[i] = bv
			}
			for ky := 0; ky < c.KH; ky++ {
				for kx := 0; kx < c.KW; kx++ {
					wv := wk[ky*c.KW+kx]
					for oy := 0; oy < oh; oy++ {
						in := plane[(oy*s+ky)*w+kx:]
						r := out[oy*ow : (oy+1)*ow]
						for ox := range r {
							r[ox] += wv * in[ox*s]
						}
					}
				}
			}
			act.apply(out)
		}
	})
}

// dwPlane returns output channel o's input plane (hw values), output plane
// (ohw), kernel and bias for the depthwise loops.
func (c *Conv2D) dwPlane(dst, src []float32, o, hw, ohw int) (plane, out, wk []float32, bv float32) {
	mult := c.OutC / c.groups() // output channels per input channel
	kk := c.KH * c.KW
	if c.B != nil {
		bv = c.B[o]
	}
	return src[(o/mult)*hw:][:hw], dst[o*ohw : (o+1)*ohw], c.W[o*kk : (o+1)*kk], bv
}

// dw3x3 is the depthwise 3×3 plane kernel (MobileNet's case): one pass over
// the output with the nine weights in registers.
func dw3x3(out, plane, wk []float32, bv float32, w, oh, ow, s int) {
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := wk[0], wk[1], wk[2], wk[3], wk[4], wk[5], wk[6], wk[7], wk[8]
	span := (ow-1)*s + 3
	for oy := 0; oy < oh; oy++ {
		r0 := plane[oy*s*w:][:span]
		r1 := plane[(oy*s+1)*w:][:span]
		r2 := plane[(oy*s+2)*w:][:span]
		row := out[oy*ow : (oy+1)*ow]
		for ox := dw3x3RowVec(row, r0, r1, r2, wk, bv, s); ox < len(row); ox++ {
			i := ox * s
			row[ox] = bv + w0*r0[i] + w1*r0[i+1] + w2*r0[i+2] +
				w3*r1[i] + w4*r1[i+1] + w5*r1[i+2] +
				w6*r2[i] + w7*r2[i+1] + w8*r2[i+2]
		}
	}
}

// depthwise3x3Zero is the depthwise 3×3 conv with p zeros of padding read
// from the unpadded planes [C, H, W]: dw3x3 on the interior, windows clipped
// to the input on the rim (the skipped terms are exact zeros).
func (c *Conv2D) depthwise3x3Zero(a *Arena, dst, src []float32, h, w, oh, ow, p int, act Act) {
	s := c.stride()
	ohw := oh * ow
	// Output columns [xa, xb) and rows [ya, yb) have windows inside the input.
	xa, ya := min((p+s-1)/s, ow), min((p+s-1)/s, oh)
	xb, yb := xa, ya
	if w+p-3 >= 0 {
		xb = max(min((w+p-3)/s+1, ow), xa)
	}
	if h+p-3 >= 0 {
		yb = max(min((h+p-3)/s+1, oh), ya)
	}
	// The SIMD path's padded plane: from a for the first chunk of planes.
	var scr []float32
	if simdBuild {
		var pool *[]float32
		scr, pool = a.buf(scratchPad, 2*(oh*s+2)*(ow+2))
		if pool != nil {
			defer putBuf(pool)
		}
	}
	parallelFor(c.OutC, c.OutC*ohw*9, func(lo, hi int) {
		var pbuf []float32
		if lo == 0 {
			pbuf = scr
		}
		for o := lo; o < hi; o++ {
			plane, out, wk, bv := c.dwPlane(dst, src, o, h*w, ohw)
			if dw3x3ZeroVec(out, plane, wk, bv, h, w, oh, ow, s, p, &pbuf, act) {
				continue
			}
			if ya < yb && xa < xb {
				// dw3x3 over the interior block, reading the plane from the
				// first interior window's corner.
				off := (ya*s-p)*w + xa*s - p
				for oy := ya; oy < yb; oy++ {
					dw3x3(out[oy*ow+xa:oy*ow+xb], plane[off+(oy-ya)*s*w:], wk, bv, w, 1, xb-xa, s)
				}
			}
			for oy := 0; oy < oh; oy++ {
				if oy >= ya && oy < yb && xa < xb {
					dwClipped(out, plane, wk, bv, h, w, ow, s, p, oy, 0, xa)
					dwClipped(out, plane, wk, bv, h, w, ow, s, p, oy, xb, ow)
					continue
				}
				dwClipped(out, plane, wk, bv, h, w, ow, s, p, oy, 0, ow)
			}
			act.apply(out)
		}
	})
}

// dwClipped computes outputs [x0, x1) of row oy of a zero-padded depthwise
// 3×3 conv term by term, skipping taps outside the input.
func dwClipped(out, plane, wk []float32, bv float32, h, w, ow, s, p, oy, x0, x1 int) {
	y := oy*s - p
	kya, kyb := max(0, -y), min(3, h-y)
	for ox := x0; ox < x1; ox++ {
		x := ox*s - p
		kxa, kxb := max(0, -x), min(3, w-x)
		sum := bv
		for ky := kya; ky < kyb; ky++ {
			in := plane[(y+ky)*w:]
			for kx := kxa; kx < kxb; kx++ {
				sum += wk[ky*3+kx] * in[x+kx]
			}
		}
		out[oy*ow+ox] = sum
	}
}
