package encoder

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// mbv2Config is the inverted-residual table of the paper and torchvision:
// expansion t, output channels c, repeats n, stride of the first repeat s.
var mbv2Config = [7][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}

// mbv2TapBlocks are the blocks (1-based, torchvision features[i]) whose
// outputs are tapped: the last map at strides 2, 4, 8 and 16, each just before
// the next stride-2 block; the stride-32 tap is the final 1×1 conv (head).
var mbv2TapBlocks = []int{1, 3, 6, 13}

// invRes is an inverted residual block with folded BNs: optional 1×1
// expansion (ReLU6), 3×3 depthwise (ReLU6), linear 1×1 projection, and an
// identity shortcut when stride is 1 and channels are kept.
type invRes struct {
	expand, dw, project *nn.Conv2D
	residual            bool
}

// mobilenetv2 is MobileNetV2 1.0 as the ONNX model zoo's mobilenetv2-7 graph
// stores it (BatchNorms folded into the conv biases; tensors conv_N in graph
// order). The classifier matrix is missing from the shared copy, so it is an
// encoder only. With PadNone the depthwise convs are valid and the identity
// shortcut is centre-cropped by one pixel per side; the net then shrinks by
// 2 px per block and needs a very large input (checkSize reports the minimum).
type mobilenetv2 struct {
	base
	stem   *nn.Conv2D
	blocks []invRes
	head   *nn.Conv2D
}

func newMobileNetV2(opts Options) (Encoder, error) {
	const name = "mobilenetv2"
	p, err := sharedParams(name, opts)
	if err != nil {
		return nil, err
	}
	// The graph numbers its nodes; the convs are the conv_N tensors in
	// increasing N (activations and adds take the numbers in between).
	var ids []int
	if p.set != nil {
		for _, n := range p.set.Names() {
			if s, ok := strings.CutPrefix(n, "conv_"); ok {
				if s, ok := strings.CutSuffix(s, "_weight"); ok {
					if i, err := strconv.Atoi(s); err == nil {
						ids = append(ids, i)
					}
				}
			}
		}
		sort.Ints(ids)
	}
	next := 0
	mode := opts.Padding
	conv := func(inC, outC, k, stride, groups int) *nn.Conv2D {
		var w, b string
		if p.set != nil {
			if next >= len(ids) {
				if p.err == nil {
					p.err = fmt.Errorf("%s: only %d conv_N_weight tensors, MobileNetV2 has 52 convs", p.set.Source, len(ids))
				}
				next++
				return nil
			}
			w, b = fmt.Sprintf("conv_%d_weight", ids[next]), fmt.Sprintf("conv_%d_bias", ids[next])
		} else {
			b = "bias"
		}
		next++
		// Fresh torchvision model: kaiming_normal_(fan_out) convs, BN at
		// identity statistics folded in (weights / sqrt(1+eps), bias 0).
		c := p.convW(w, b, inC, outC, k, stride, (k-1)/2, groups, mode, initKaimingFanOut)
		if p.set == nil {
			bn := p.bnW("", [4]string{}, outC, 1e-5)
			bn.FoldInto(c)
		}
		return c
	}
	sc := func(c int) int { return scale(c, opts.Width) }
	m := &mobilenetv2{base: newBase(name, registeredTaps(name, opts.Width), opts)}
	m.inputSizes, m.pass = squareSizes(m.sizes), m.net
	in := sc(32)
	m.stem = conv(3, in, 3, 2, 1)
	for _, cfg := range mbv2Config {
		t, c, n, s := cfg[0], sc(cfg[1]), cfg[2], cfg[3]
		for r := 0; r < n; r++ {
			stride := s
			if r > 0 {
				stride = 1
			}
			var b invRes
			hid := in * t
			if t != 1 {
				b.expand = conv(in, hid, 1, 1, 1)
			}
			b.dw = conv(hid, hid, 3, stride, hid)
			b.project = conv(hid, c, 1, 1, 1)
			b.residual = stride == 1 && in == c
			m.blocks = append(m.blocks, b)
			in = c
		}
	}
	m.head = conv(in, sc(1280), 1, 1, 1)
	if p.set != nil && p.err == nil && next != len(ids) {
		p.err = fmt.Errorf("%s: %d conv_N_weight tensors, MobileNetV2 has %d convs", p.set.Source, len(ids), next)
	}
	p.skip("gemm_") // the classifier's bias (its matrix is absent)
	if err := p.finish(name); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *mobilenetv2) sizes(n int) ([]int, bool) {
	n = convSize(n, 3, 2, padOf(m.stem))
	var out []int
	for i, b := range m.blocks {
		n = convSize(n, 3, b.dw.Stride, padOf(b.dw))
		if len(out) < len(mbv2TapBlocks) && i+1 == mbv2TapBlocks[len(out)] {
			out = append(out, n)
		}
	}
	out = append(out, n)
	return out, n > 0
}

// net runs the layers on the checked, prepared input with their maps from a
// (nil: fresh).
func (m *mobilenetv2) net(a *nn.Arena, in *tensor.Dense) ([]*tensor.Dense, error) {
	y := nn.ReLU6(m.stem.ForwardIn(a, in))
	a.Release(in)
	taps := make([]*tensor.Dense, 0, len(mbv2TapBlocks)+1)
	for i, b := range m.blocks {
		z := b.forward(a, y, m.mode)
		release(a, taps, y)
		y = z
		if len(taps) < len(mbv2TapBlocks) && i+1 == mbv2TapBlocks[len(taps)] {
			taps = append(taps, y)
		}
	}
	head := nn.ReLU6(m.head.ForwardIn(a, y))
	release(a, taps, y)
	taps = append(taps, head)
	return taps, nil
}

// forward returns the block's output from a; it releases its own
// temporaries, never x.
func (b *invRes) forward(a *nn.Arena, x *tensor.Dense, mode nn.PadMode) *tensor.Dense {
	h := x
	if b.expand != nil {
		h = nn.ReLU6(b.expand.ForwardIn(a, h))
	}
	d := nn.ReLU6(b.dw.ForwardIn(a, h))
	if h != x {
		a.Release(h)
	}
	p := b.project.ForwardIn(a, d)
	a.Release(d)
	if b.residual {
		s := x
		if mode == nn.PadNone || mode == nn.PadFull {
			_, _, h, w := nn.Dims4(p)
			s = matchIn(a, x, h, w)
		}
		nn.Add(p, s)
		if s != x {
			a.Release(s)
		}
	}
	return p
}
