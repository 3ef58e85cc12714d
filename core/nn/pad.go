package nn

import (
	"fmt"

	"github.com/posprobe/posprobe/core/netspec"
	"gorgonia.org/tensor"
)

// PadMode is how a layer fills the border it pads (netspec.PadMode, which
// the demo's UI names without linking this package).
type PadMode = netspec.PadMode

// The padding modes; netspec documents each.
const (
	PadZero      = netspec.PadZero
	PadNone      = netspec.PadNone
	PadReflect   = netspec.PadReflect
	PadReplicate = netspec.PadReplicate
	PadCircular  = netspec.PadCircular
	PadFull      = netspec.PadFull
)

// ParsePadMode is netspec.ParsePadMode.
func ParsePadMode(s string) (PadMode, error) { return netspec.ParsePadMode(s) }

// srcIndex maps a coordinate i of the padded axis (relative to the input's
// origin, so it may be negative or >= n) to the input index it copies, or -1
// for a zero. Reflect and circular keep folding for pads wider than the input,
// where PyTorch would refuse; inside PyTorch's limits the result is identical.
func srcIndex(i, n int, m PadMode) int {
	if i >= 0 && i < n {
		return i
	}
	switch m {
	case PadReplicate:
		if i < 0 {
			return 0
		}
		return n - 1
	case PadReflect:
		if n == 1 {
			return 0
		}
		p := 2 * (n - 1)
		i %= p
		if i < 0 {
			i += p
		}
		if i >= n {
			i = p - i
		}
		return i
	case PadCircular:
		i %= n
		if i < 0 {
			i += n
		}
		return i
	}
	return -1 // zero and full
}

// Pad2D pads the two spatial axes of x by t(op), b(ottom), l(eft), r(ight)
// like PyTorch's F.pad(x, (l, r, t, b), mode). PadNone returns x itself.
func Pad2D(x *tensor.Dense, t, b, l, r int, mode PadMode) *tensor.Dense {
	if mode == PadNone {
		return x
	}
	if t < 0 || b < 0 || l < 0 || r < 0 {
		panic(fmt.Sprintf("nn.Pad2D: negative padding %d,%d,%d,%d", t, b, l, r))
	}
	n, c, h, w := Dims4(x)
	oh, ow := h+t+b, w+l+r
	out := New(n, c, oh, ow)
	padPlanes(Data(out), Data(x), n*c, h, w, t, l, oh, ow, mode)
	return out
}

// padPlanes writes planes of src (h×w) into dst (oh×ow) at offset (t, l),
// filling the border according to mode.
func padPlanes(dst, src []float32, planes, h, w, t, l, oh, ow int, mode PadMode) {
	xs := make([]int, ow)
	for x := range xs {
		xs[x] = srcIndex(x-l, w, mode)
	}
	for p := 0; p < planes; p++ {
		sp := src[p*h*w : (p+1)*h*w]
		dp := dst[p*oh*ow : (p+1)*oh*ow]
		for y := 0; y < oh; y++ {
			row := dp[y*ow : (y+1)*ow]
			sy := srcIndex(y-t, h, mode)
			if sy < 0 {
				clear(row)
				continue
			}
			GatherRow(row, sp[sy*w:(sy+1)*w], xs)
		}
	}
}

// GatherRow sets dst[i] = src[idx[i]], or 0 where idx[i] < 0 (a padded
// column): one row of a padded plane or of an im2col matrix.
func GatherRow(dst, src []float32, idx []int) {
	for i, j := range idx {
		if j < 0 {
			dst[i] = 0
		} else {
			dst[i] = src[j]
		}
	}
}
