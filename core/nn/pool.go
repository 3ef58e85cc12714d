package nn

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// poolOut is PyTorch's pooling output size; in ceil mode the last window must
// start inside the input or the left padding.
func poolOut(in, k, s, p int, ceil bool) int {
	num := in + 2*p - k
	if num < 0 {
		panic(fmt.Sprintf("nn: pooling window %d larger than input %d with padding %d", k, in, p))
	}
	var o int
	if ceil {
		o = (num+s-1)/s + 1
		if (o-1)*s >= in+p {
			o--
		}
	} else {
		o = num/s + 1
	}
	return o
}

func poolArgs(name string, k, stride, pad int) int {
	if k < 1 || pad < 0 || stride < 0 {
		panic(fmt.Sprintf("nn.%s: bad kernel %d / stride %d / padding %d", name, k, stride, pad))
	}
	if pad > k/2 {
		panic(fmt.Sprintf("nn.%s: padding %d exceeds half the kernel %d", name, pad, k))
	}
	if stride == 0 {
		return k
	}
	return stride
}

// MaxPool2D is PyTorch's max_pool2d with a k×k window (stride 0 means k);
// padding counts as -inf and NaN propagates.
func MaxPool2D(x *tensor.Dense, k, stride, pad int, ceil bool) *tensor.Dense {
	return MaxPool2DIn(nil, x, k, stride, pad, ceil)
}

// MaxPool2DIn is MaxPool2D with its output from a (see Arena).
func MaxPool2DIn(a *Arena, x *tensor.Dense, k, stride, pad int, ceil bool) *tensor.Dense {
	return poolPlanes(a, "MaxPool2D", x, k, stride, pad, ceil, func(dst, src []float32, h, w, oh, ow, s int) {
		maxPlane(dst, src, h, w, oh, ow, k, s, pad)
	})
}

// poolPlanes checks a k×k pooling of x, takes its output from a and fills
// it plane by plane with f (s: the stride).
func poolPlanes(a *Arena, name string, x *tensor.Dense, k, stride, pad int, ceil bool, f func(dst, src []float32, h, w, oh, ow, s int)) *tensor.Dense {
	s := poolArgs(name, k, stride, pad)
	n, c, h, w := Dims4(x)
	oh, ow := poolOut(h, k, s, pad, ceil), poolOut(w, k, s, pad, ceil)
	out := a.New(n, c, oh, ow)
	xd, od := Data(x), Data(out)
	parallelFor(n*c, n*c*oh*ow*k*k, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			f(od[pl*oh*ow:(pl+1)*oh*ow], xd[pl*h*w:(pl+1)*h*w], h, w, oh, ow, s)
		}
	})
	return out
}

// maxPlane max-pools one plane. Windows lying wholly inside the input (all
// but a rim of at most one output on each side for the usual poolings) take a
// loop without clipping; 3×3/2 (ResNet, SqueezeNet) and 2×2/2 (VGG, Darknet)
// get their own. max32 propagates NaN like PyTorch; the builtin compiles
// to branch-free code natively (see max32).
func maxPlane(dst, src []float32, h, w, oh, ow, k, s, pad int) {
	var v maxRowScratch // zeroed once per plane, not per row
	// Output columns [xa, xb) and rows [ya, yb) have unclipped windows.
	xa, ya := min((pad+s-1)/s, ow), min((pad+s-1)/s, oh)
	xb, yb := max(min((w+pad-k)/s+1, ow), xa), max(min((h+pad-k)/s+1, oh), ya)
	for oy := 0; oy < oh; oy++ {
		row := dst[oy*ow : (oy+1)*ow]
		if oy < ya || oy >= yb {
			maxClipped(row, src, h, w, oy, 0, ow, k, s, pad)
			continue
		}
		maxClipped(row, src, h, w, oy, 0, xa, k, s, pad)
		maxClipped(row, src, h, w, oy, xb, ow, k, s, pad)
		y := oy*s - pad
		x0 := xa*s - pad
		in := row[xa:xb]
		if len(in) == 0 {
			continue
		}
		switch {
		case k == 3 && s == 2:
			// Adjacent windows share a column: carry its max over.
			r0, r1, r2 := src[y*w+x0:(y+1)*w], src[(y+1)*w+x0:(y+2)*w], src[(y+2)*w+x0:(y+3)*w]
			r1, r2 = r1[:len(r0)], r2[:len(r0)]
			if maxRowVec(in, [][]float32{r0, r1, r2}, 3, 2, &v) > 0 {
				break
			}
			prev := max32(max32(r0[0], r1[0]), r2[0])
			for i := range in {
				j := 2*i + 2
				a := max32(max32(r0[j-1], r1[j-1]), r2[j-1])
				b := max32(max32(r0[j], r1[j]), r2[j])
				in[i] = max32(max32(prev, a), b)
				prev = b
			}
		case k == 2 && s == 2:
			r0, r1 := src[y*w+x0:(y+1)*w], src[(y+1)*w+x0:(y+2)*w]
			r1 = r1[:len(r0)]
			if maxRowVec(in, [][]float32{r0, r1}, 2, 2, &v) > 0 {
				break
			}
			for i := range in {
				j := 2 * i
				in[i] = max32(max32(r0[j], r0[j+1]), max32(r1[j], r1[j+1]))
			}
		default:
			for i := range in {
				xs := x0 + i*s
				m := src[y*w+xs]
				for yy := y; yy < y+k; yy++ {
					for _, v := range src[yy*w+xs : yy*w+xs+k] {
						m = max32(m, v)
					}
				}
				in[i] = m
			}
		}
	}
}

// maxClipped pools output columns [x0, x1) of row oy, clipping each window
// to the input (padding counts as -inf).
func maxClipped(row, src []float32, h, w, oy, xlo, xhi, k, s, pad int) {
	y0, y1 := max(oy*s-pad, 0), min(oy*s-pad+k, h)
	for ox := xlo; ox < xhi; ox++ {
		x0, x1 := max(ox*s-pad, 0), min(ox*s-pad+k, w)
		m := float32(math.Inf(-1))
		for y := y0; y < y1; y++ {
			for _, v := range src[y*w+x0 : y*w+x1] {
				m = max32(m, v)
			}
		}
		row[ox] = m
	}
}

// AvgPool2D is PyTorch's avg_pool2d with a k×k window (stride 0 means k).
// With countIncludePad the divisor counts padded cells (but never cells past
// the padding, which ceil mode can reach); without it only input cells count.
func AvgPool2D(x *tensor.Dense, k, stride, pad int, ceil, countIncludePad bool) *tensor.Dense {
	return AvgPool2DIn(nil, x, k, stride, pad, ceil, countIncludePad)
}

// AvgPool2DIn is AvgPool2D with its output from a (see Arena).
func AvgPool2DIn(a *Arena, x *tensor.Dense, k, stride, pad int, ceil, countIncludePad bool) *tensor.Dense {
	return poolPlanes(a, "AvgPool2D", x, k, stride, pad, ceil, func(dst, src []float32, h, w, oh, ow, s int) {
		for oy := 0; oy < oh; oy++ {
			ys := oy*s - pad
			ye := min(ys+k, h+pad)
			ph := ye - ys
			ys, ye = max(ys, 0), min(ye, h)
			for ox := 0; ox < ow; ox++ {
				xs := ox*s - pad
				xe := min(xs+k, w+pad)
				pw := xe - xs
				xs, xe = max(xs, 0), min(xe, w)
				div := ph * pw
				if !countIncludePad {
					div = (ye - ys) * (xe - xs)
				}
				var sum float32
				for y := ys; y < ye; y++ {
					for _, v := range src[y*w+xs : y*w+xe] {
						sum += v
					}
				}
				dst[oy*ow+ox] = sum / float32(div)
			}
		}
	})
}

// GlobalAvgPool averages each channel plane: [N,C,H,W] → [N,C,1,1].
func GlobalAvgPool(x *tensor.Dense) *tensor.Dense { return GlobalAvgPoolIn(nil, x) }

// GlobalAvgPoolIn is GlobalAvgPool with its output from a (see Arena).
func GlobalAvgPoolIn(a *Arena, x *tensor.Dense) *tensor.Dense {
	n, c, h, w := Dims4(x)
	out := a.New(n, c, 1, 1)
	xd, od := Data(x), Data(out)
	hw := h * w
	for pl := range od {
		var sum float64
		for _, v := range xd[pl*hw : (pl+1)*hw] {
			sum += float64(v)
		}
		od[pl] = float32(sum / float64(hw))
	}
	return out
}
