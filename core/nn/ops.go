package nn

import (
	"fmt"
	"math"
	"slices"

	"gorgonia.org/tensor"
)

// Concat joins 4-d tensors of equal N, H, W along channels.
func Concat(xs ...*tensor.Dense) *tensor.Dense { return ConcatIn(nil, xs...) }

// ConcatIn is Concat with its output from a (see Arena).
func ConcatIn(a *Arena, xs ...*tensor.Dense) *tensor.Dense {
	if len(xs) == 0 {
		panic("nn.Concat: no tensors")
	}
	n, _, h, w := Dims4(xs[0])
	total := 0
	for _, x := range xs {
		xn, xc, xh, xw := Dims4(x)
		if xn != n || xh != h || xw != w {
			panic(fmt.Sprintf("nn.Concat: shape %v does not match %v outside channels", x.Shape(), xs[0].Shape()))
		}
		total += xc
	}
	out := a.New(n, total, h, w)
	od := Data(out)
	hw := h * w
	off := 0
	for b := 0; b < n; b++ {
		for _, x := range xs {
			_, xc, _, _ := Dims4(x)
			off += copy(od[off:], Data(x)[b*xc*hw:(b+1)*xc*hw])
		}
	}
	return out
}

// Add adds src to dst element-wise in place and returns dst.
func Add(dst, src *tensor.Dense) *tensor.Dense {
	if !slices.Equal(dst.Shape(), src.Shape()) {
		panic(fmt.Sprintf("nn.Add: shapes %v and %v differ", dst.Shape(), src.Shape()))
	}
	d, s := Data(dst), Data(src)
	for i := addVec(d, s); i < len(s); i++ {
		d[i] += s[i]
	}
	return dst
}

// CenterCrop cuts the central h×w window like torchvision's center_crop
// (offsets rounded half to even, as Python's round does).
func CenterCrop(x *tensor.Dense, h, w int) *tensor.Dense { return CenterCropIn(nil, x, h, w) }

// CenterCropIn is CenterCrop with its output from a (see Arena).
func CenterCropIn(a *Arena, x *tensor.Dense, h, w int) *tensor.Dense {
	n, c, ih, iw := Dims4(x)
	if h < 1 || w < 1 || h > ih || w > iw {
		panic(fmt.Sprintf("nn.CenterCrop: %dx%d crop of a %dx%d input", h, w, ih, iw))
	}
	top := int(math.RoundToEven(float64(ih-h) / 2))
	left := int(math.RoundToEven(float64(iw-w) / 2))
	out := a.New(n, c, h, w)
	xd, od := Data(x), Data(out)
	for pl := 0; pl < n*c; pl++ {
		src := xd[pl*ih*iw:]
		dst := od[pl*h*w:]
		for y := 0; y < h; y++ {
			copy(dst[y*w:(y+1)*w], src[(y+top)*iw+left:])
		}
	}
	return out
}

// Linear is a fully connected layer: y = x·Wᵀ + B, W [Out, In], B [Out] or nil.
type Linear struct {
	In, Out int
	W, B    []float32
}

// Forward maps x [N, In] (or any shape with N·In values, e.g. [N,In,1,1]) to
// a new [N, Out] tensor.
func (l *Linear) Forward(x *tensor.Dense) *tensor.Dense {
	if len(l.W) != l.In*l.Out || (l.B != nil && len(l.B) != l.Out) {
		panic(fmt.Sprintf("nn.Linear: %d weights / %d biases for %d -> %d", len(l.W), len(l.B), l.In, l.Out))
	}
	xd := Data(x)
	n := x.Shape()[0]
	if n*l.In != len(xd) {
		panic(fmt.Sprintf("nn.Linear: input shape %v, want [N,%d]", x.Shape(), l.In))
	}
	out := New(n, l.Out)
	od := Data(out)
	for b := 0; b < n; b++ {
		in := xd[b*l.In : (b+1)*l.In]
		for o := 0; o < l.Out; o++ {
			wr := l.W[o*l.In : (o+1)*l.In]
			var s float32
			for i, v := range in {
				s += v * wr[i]
			}
			if l.B != nil {
				s += l.B[o]
			}
			od[b*l.Out+o] = s
		}
	}
	return out
}

// Softmax turns x into probabilities in place (max-subtracted for stability)
// and returns x.
func Softmax(x []float32) []float32 {
	if len(x) == 0 {
		return x
	}
	m := slices.Max(x)
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		x[i] = float32(e)
		sum += e
	}
	for i := range x {
		x[i] = float32(float64(x[i]) / sum)
	}
	return x
}
