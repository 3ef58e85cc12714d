package onnx

import (
	"fmt"
	"slices"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/gemm"
	"github.com/posprobe/posprobe/core/nn"
)

// Padding surgery (Net.padding other than PadZero) rewrites the padding that
// injects values into the maps:
//   - every Conv's pads (explicit or auto_pad SAME): none drops them (auto_pad
//     becomes VALID), reflect/replicate/circular keep their size and fill
//     them by that rule instead of zeros;
//   - AveragePool's pads when count_include_pad=1 (they average in zeros),
//     by the same rule.
//
// MaxPool's padding (-inf) and AveragePool's with count_include_pad=0 add no
// value to the border and stay, as in the built-in encoders. When maps of
// different sizes then meet in an Add/Sub/Mul/Div or a channel Concat, all
// are centre-cropped to the smallest height and width (matchSizes; sides of
// 1 broadcast in the element-wise ops).

// convSpec is a Conv node's geometry after surgery.
type convSpec struct {
	kh, kw, sh, sw, dh, dw int
	pads                   [4]int // top, left, bottom, right
	autoPad                string // "", SAME_UPPER, SAME_LOWER
	mode                   nn.PadMode
}

// resolvePads returns the pads for an h×w input (auto_pad SAME computes them).
func (c *convSpec) resolvePads(h, w int) [4]int {
	if c.autoPad == "" {
		return c.pads
	}
	same := func(in, k, s, d int) (int, int) {
		out := (in + s - 1) / s
		total := max((out-1)*s+(k-1)*d+1-in, 0)
		if c.autoPad == "SAME_LOWER" {
			return total - total/2, total / 2
		}
		return total / 2, total - total/2
	}
	t, b := same(h, c.kh, c.sh, c.dh)
	l, r := same(w, c.kw, c.sw, c.dw)
	return [4]int{t, l, b, r}
}

func readGeometry(n *Node, surgery nn.PadMode, kh, kw int) (*convSpec, error) {
	a := attrs{n}
	c := &convSpec{kh: kh, kw: kw, sh: 1, sw: 1, dh: 1, dw: 1, mode: nn.PadZero}
	st, err := a.intsN("strides", []int{1, 1}, 1)
	if err != nil {
		return nil, err
	}
	d, err := a.intsN("dilations", []int{1, 1}, 1)
	if err != nil {
		return nil, err
	}
	p, err := a.intsN("pads", []int{0, 0, 0, 0}, 0)
	if err != nil {
		return nil, err
	}
	if len(st) != 2 || len(d) != 2 || len(p) != 4 {
		return nil, fmt.Errorf("only 2-d operation is supported (strides %v, dilations %v, pads %v)", st, d, p)
	}
	c.sh, c.sw, c.dh, c.dw = st[0], st[1], d[0], d[1]
	c.pads = [4]int{p[0], p[1], p[2], p[3]}
	switch ap := a.str("auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
	case "VALID":
		c.pads = [4]int{}
	case "SAME_UPPER", "SAME_LOWER":
		c.autoPad = ap
	default:
		return nil, fmt.Errorf("auto_pad %q is not supported", ap)
	}
	switch surgery {
	case nn.PadZero:
	case nn.PadNone:
		c.pads, c.autoPad = [4]int{}, ""
	default:
		c.mode = surgery
	}
	return c, nil
}

// compileConv builds a Conv step on nn.Conv2D (GEMM, Winograd, depthwise
// kernels) where the geometry allows, else on an explicit pad and a general
// im2col with dilation.
func compileConv(net *Net, st *step) error {
	n := st.node
	w := constInput(net, st, 1)
	if w == nil || w.isInt || len(w.shape) != 4 {
		return fmt.Errorf("the weight must be a 4-d float initializer (only 2-d convolution is supported)")
	}
	var bias []float32
	if b := constInput(net, st, 2); b != nil {
		if b.isInt || b.size() != w.shape[0] {
			return fmt.Errorf("bias of %d values for %d output channels", b.size(), w.shape[0])
		}
		bias = b.f
	} else if len(st.in) > 2 && st.in[2] >= 0 {
		return fmt.Errorf("the bias must be an initializer")
	}
	oc, cg, kh, kw := w.shape[0], w.shape[1], w.shape[2], w.shape[3]
	if ks, ok := (attrs{n}).ints("kernel_shape"); ok && (len(ks) != 2 || ks[0] != int64(kh) || ks[1] != int64(kw)) {
		return fmt.Errorf("kernel_shape %v does not match the weight %v", ks, w.shape)
	}
	g := int((attrs{n}).int("group", 1))
	if g < 1 || oc%g != 0 || g > 1<<20 {
		return fmt.Errorf("group %d does not divide %d output channels", g, oc)
	}
	spec, err := readGeometry(n, net.padding, kh, kw)
	if err != nil {
		return err
	}
	conv := &nn.Conv2D{InC: cg * g, OutC: oc, KH: kh, KW: kw, Stride: spec.sh, Groups: g, Mode: nn.PadZero, W: w.f, B: bias}
	if err := conv.Check(); err != nil {
		return err
	}
	p := spec.pads
	square := spec.sh == spec.sw && spec.dh == 1 && spec.dw == 1
	if square && spec.autoPad == "" && p[0] == p[1] && p[1] == p[2] && p[2] == p[3] {
		conv.Pad, conv.Mode = p[0], spec.mode // one nn.Conv2D does it all
		st.run = func(r *runCtx, in []*value) ([]*value, error) {
			x, err := image4(in[0], conv.InC)
			if err != nil {
				return nil, err
			}
			oh, ow := conv.OutSize(x.shape[2], x.shape[3])
			if oh < 1 || ow < 1 || (conv.Mode != nn.PadZero && conv.Pad >= min(x.shape[2], x.shape[3])) {
				return nil, tooSmall(x, kh, kw, net.padding)
			}
			return []*value{fromDense(conv.ForwardIn(r.a, dense(x)))}, nil
		}
		return nil
	}
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		x, err := image4(in[0], conv.InC)
		if err != nil {
			return nil, err
		}
		pads := spec.resolvePads(x.shape[2], x.shape[3])
		xp, err := r.pad4(x, pads, spec.mode)
		if err != nil {
			return nil, err
		}
		h, w := xp.shape[2], xp.shape[3]
		ekh, ekw := (kh-1)*spec.dh+1, (kw-1)*spec.dw+1
		if h < ekh || w < ekw {
			return nil, tooSmall(xp, ekh, ekw, net.padding)
		}
		var y *value
		if square {
			y = fromDense(conv.ForwardIn(r.a, dense(xp)))
		} else {
			y = r.convGeneral(xp, conv, spec)
		}
		if xp != x {
			r.release(xp)
		}
		return []*value{y}, nil
	}
	return nil
}

// tooSmall explains a map too small for a conv: without padding maps shrink
// at every conv, so the input must be larger.
func tooSmall(x *value, kh, kw int, surgery nn.PadMode) error {
	hint := ""
	if surgery == nn.PadNone {
		hint = "; with --padding none every conv shrinks the maps: use a larger --size"
	}
	return fmt.Errorf("a %dx%d map is too small for this %dx%d conv%s", x.shape[2], x.shape[3], kh, kw, hint)
}

// image4 checks that v is a float [N,C,H,W] map with c channels (c 0: any).
func image4(v *value, c int) (*value, error) {
	if v == nil || v.isInt || len(v.shape) != 4 {
		return nil, fmt.Errorf("want a 4-d float input, got shape %v", shapeOf(v))
	}
	if c > 0 && v.shape[1] != c {
		return nil, fmt.Errorf("input has %d channels, want %d", v.shape[1], c)
	}
	return v, nil
}

func shapeOf(v *value) []int {
	if v == nil {
		return nil
	}
	return v.shape
}

// release gives a temporary value of this step back to the arena.
func (r *runCtx) release(v *value) {
	if v.buf != nil {
		v.buf.refs--
		if v.buf.refs == 0 {
			r.a.Release(v.buf.t)
		}
	}
}

// pad4 pads the spatial axes of x by pads (top, left, bottom, right) with
// mode (PadZero: zeros); x itself when there is nothing to pad.
func (r *runCtx) pad4(x *value, pads [4]int, mode nn.PadMode) (*value, error) {
	if pads == [4]int{} {
		return x, nil
	}
	t, l, b, rt := pads[0], pads[1], pads[2], pads[3]
	h, w := x.shape[2], x.shape[3]
	if mode == nn.PadReflect && (max(t, b) >= h || max(l, rt) >= w) {
		return nil, fmt.Errorf("reflect padding %v needs an input larger than %dx%d", pads, h, w)
	}
	if mode == nn.PadCircular && (max(t, b) > h || max(l, rt) > w) {
		return nil, fmt.Errorf("circular padding %v needs an input of at least its size, got %dx%d", pads, h, w)
	}
	if mode == nn.PadNone {
		mode = nn.PadZero
	}
	p := nn.Pad2D(dense(x), t, b, l, rt, mode)
	out := r.newF(x.shape[0], x.shape[1], h+t+b, w+l+rt)
	copy(out.f, nn.Data(p))
	return out, nil
}

// convGeneral is a convolution with any strides and dilations over an already
// padded input: im2col per group, then one GEMM.
func (r *runCtx) convGeneral(x *value, c *nn.Conv2D, s *convSpec) *value {
	n, ci, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	ekh, ekw := (c.KH-1)*s.dh+1, (c.KW-1)*s.dw+1
	oh, ow := (h-ekh)/s.sh+1, (w-ekw)/s.sw+1
	out := r.newF(n, c.OutC, oh, ow)
	g := c.Groups
	cg, og := ci/g, c.OutC/g
	kk := cg * c.KH * c.KW
	col := make([]float32, kk*oh*ow)
	for b := 0; b < n; b++ {
		for gi := 0; gi < g; gi++ {
			src := x.f[(b*ci+gi*cg)*h*w:]
			for ch := 0; ch < cg; ch++ {
				for ky := 0; ky < c.KH; ky++ {
					for kx := 0; kx < c.KW; kx++ {
						row := col[((ch*c.KH+ky)*c.KW+kx)*oh*ow:]
						for oy := 0; oy < oh; oy++ {
							sr := src[ch*h*w+(oy*s.sh+ky*s.dh)*w+kx*s.dw:]
							for ox := 0; ox < ow; ox++ {
								row[oy*ow+ox] = sr[ox*s.sw]
							}
						}
					}
				}
			}
			dst := out.f[(b*c.OutC+gi*og)*oh*ow : (b*c.OutC+(gi+1)*og)*oh*ow]
			for o := 0; o < og; o++ {
				bv := float32(0)
				if c.B != nil {
					bv = c.B[gi*og+o]
				}
				for i := range dst[o*oh*ow : (o+1)*oh*ow] {
					dst[o*oh*ow+i] = bv
				}
			}
			gemm.Sgemm(og, oh*ow, kk, c.W[gi*og*kk:], kk, col, oh*ow, dst, oh*ow, true)
		}
	}
	return out
}

// compilePool builds MaxPool and AveragePool.
func compilePool(net *Net, st *step, isMax bool) error {
	n := st.node
	a := attrs{n}
	ks, err := a.intsN("kernel_shape", nil, 1)
	if err != nil {
		return err
	}
	if len(ks) != 2 {
		return fmt.Errorf("kernel_shape %v: only 2-d pooling is supported", ks)
	}
	if d, _ := a.intsN("dilations", []int{1, 1}, 1); !slices.Equal(d, []int{1, 1}) {
		return fmt.Errorf("dilations %v are not supported", d)
	}
	if isMax && len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return fmt.Errorf("the Indices output is not supported")
	}
	ceil := a.int("ceil_mode", 0) != 0
	include := a.int("count_include_pad", 0) != 0
	surgery := net.padding
	if isMax || !include {
		surgery = nn.PadZero // -inf or excluded padding adds no value: kept
	}
	spec, err := readGeometry(n, surgery, ks[0], ks[1])
	if err != nil {
		return err
	}
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		x, err := image4(in[0], 0)
		if err != nil {
			return nil, err
		}
		pads := spec.resolvePads(x.shape[2], x.shape[3])
		xp := x
		if spec.mode != nn.PadZero && spec.mode != nn.PadNone { // surgery: fill, then pool unpadded
			if xp, err = r.pad4(x, pads, spec.mode); err != nil {
				return nil, err
			}
			pads = [4]int{}
		}
		y, err := r.pool(xp, spec, pads, ceil, isMax, include)
		if xp != x {
			r.release(xp)
		}
		if err != nil {
			return nil, err
		}
		return []*value{y}, nil
	}
	return nil
}

func (r *runCtx) pool(x *value, s *convSpec, p [4]int, ceil, isMax, include bool) (*value, error) {
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, ow := encoder.PoolSize(h, s.kh, s.sh, p[0], p[2], ceil), encoder.PoolSize(w, s.kw, s.sw, p[1], p[3], ceil)
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("input %dx%d is smaller than the %dx%d window", h, w, s.kh, s.kw)
	}
	k := s.kh
	if s.kh == s.kw && s.sh == s.sw && p[0] == p[1] && p[1] == p[2] && p[2] == p[3] && p[0] <= k/2 {
		if isMax {
			return fromDense(nn.MaxPool2DIn(r.a, dense(x), k, s.sh, p[0], ceil)), nil
		}
		return fromDense(nn.AvgPool2DIn(r.a, dense(x), k, s.sh, p[0], ceil, include)), nil
	}
	out := r.newF(n, c, oh, ow)
	for pl := 0; pl < n*c; pl++ {
		src := x.f[pl*h*w : (pl+1)*h*w]
		dst := out.f[pl*oh*ow : (pl+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			y0 := oy*s.sh - p[0]
			y1 := min(y0+s.kh, h+p[2])
			for ox := 0; ox < ow; ox++ {
				x0 := ox*s.sw - p[1]
				x1 := min(x0+s.kw, w+p[3])
				div := (y1 - y0) * (x1 - x0) // window within input + padding
				ya, yb, xa, xb := max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
				if !include {
					div = (yb - ya) * (xb - xa)
				}
				acc := float32(0)
				if isMax {
					acc = float32(negInf)
				}
				for yy := ya; yy < yb; yy++ {
					for xx := xa; xx < xb; xx++ {
						v := src[yy*w+xx]
						if isMax {
							if v > acc || v != v {
								acc = v
							}
						} else {
							acc += v
						}
					}
				}
				if !isMax {
					acc /= float32(max(div, 1))
				}
				dst[oy*ow+ox] = acc
			}
		}
	}
	return out, nil
}
