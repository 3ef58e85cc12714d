package encoder

import (
	"fmt"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// torchvision ResNet v1 configurations (V1 ImageNet weights).
var resnets = []struct {
	name       string
	bottleneck bool
	blocks     [4]int
	url        string
}{
	{"resnet18", false, [4]int{2, 2, 2, 2}, "https://download.pytorch.org/models/resnet18-f37072fd.pth"},
	{"resnet50", true, [4]int{3, 4, 6, 3}, "https://download.pytorch.org/models/resnet50-0676ba61.pth"},
	{"resnet152", true, [4]int{3, 8, 36, 3}, "https://download.pytorch.org/models/resnet152-394f9c45.pth"},
}

func init() {
	for _, r := range resnets {
		r := r
		Register(r.name, Info{
			Summary: fmt.Sprintf("%s (torchvision v1, BN folded); taps stem (after relu, before maxpool), layer1..layer4", r.name),
			Taps:    resnetTaps(r.bottleneck, 0),
			Weights: r.url,
		}, func(o Options) (Encoder, error) { return newResNet(r.name, r.bottleneck, r.blocks, r.url, o) })
	}
}

// resnetTaps: the stem tap is taken after conv1-bn1-relu and before the
// max-pool (timm's "act1", stride 2), so every tap is a conv output and the
// pool's own border handling stays out of it.
func resnetTaps(bottleneck bool, width int) []Tap {
	exp := 1
	if bottleneck {
		exp = 4
	}
	taps := []Tap{{"stem", scale(64, width), 2}}
	for i, planes := range []int{64, 128, 256, 512} {
		taps = append(taps, Tap{fmt.Sprintf("layer%d", i+1), scale(planes, width) * exp, 4 << i})
	}
	return taps
}

// block is a BasicBlock or Bottleneck with its BatchNorms folded into the
// convs. torchvision puts a bottleneck's stride on its 3×3 conv (v1.5).
type block struct {
	convs []*nn.Conv2D // 2 (basic) or 3 (bottleneck); ReLU after all but the last
	down  *nn.Conv2D   // 1×1 projection shortcut, or nil for identity
}

// resnet is torchvision's ResNet v1 up to layer4. Padding replaces the zero
// padding of every conv; the stem max-pool keeps PyTorch's implicit -inf
// padding (a padding_mode only exists for convs, and -inf padding adds no
// value to the border). With PadNone each 3×3 conv shrinks its input by 2,
// so the shortcut is centre-cropped to the main path (nn.CenterCrop, as
// torchvision's center_crop). ResNets then need large inputs: see
// checkSize's error for the minimum.
type resnet struct {
	base
	stem   *nn.Conv2D
	layers [4][]block
	fc     *nn.Linear // when present in the weight file
}

func newResNet(name string, bottleneck bool, nblocks [4]int, url string, opts Options) (Encoder, error) {
	p, err := newParams(name, url, opts)
	if err != nil {
		return nil, err
	}
	pad := opts.Padding
	// convBN builds conv (no bias) + BN and folds the BN into the conv.
	convBN := func(cname, bname string, inC, outC, k, stride, padding int) *nn.Conv2D {
		c := p.conv(cname, inC, outC, k, stride, padding, false, pad)
		b := p.bn(bname, outC)
		if p.err != nil {
			return c
		}
		b.FoldInto(c)
		return c
	}
	m := &resnet{base: newBase(name, resnetTaps(bottleneck, opts.Width), opts)}
	m.inputSizes, m.pass = m.sizes, m.net
	inC := scale(64, opts.Width)
	m.stem = convBN("conv1", "bn1", 3, inC, 7, 2, 3)
	exp := 1
	if bottleneck {
		exp = 4
	}
	for l := 0; l < 4; l++ {
		planes := scale(64<<l, opts.Width)
		for i := 0; i < nblocks[l]; i++ {
			pre := fmt.Sprintf("layer%d.%d.", l+1, i)
			stride := 1
			if l > 0 && i == 0 {
				stride = 2
			}
			var b block
			if bottleneck {
				b.convs = []*nn.Conv2D{
					convBN(pre+"conv1", pre+"bn1", inC, planes, 1, 1, 0),
					convBN(pre+"conv2", pre+"bn2", planes, planes, 3, stride, 1),
					convBN(pre+"conv3", pre+"bn3", planes, planes*exp, 1, 1, 0),
				}
			} else {
				b.convs = []*nn.Conv2D{
					convBN(pre+"conv1", pre+"bn1", inC, planes, 3, stride, 1),
					convBN(pre+"conv2", pre+"bn2", planes, planes, 3, 1, 1),
				}
			}
			if stride != 1 || inC != planes*exp {
				b.down = convBN(pre+"downsample.0", pre+"downsample.1", inC, planes*exp, 1, stride, 0)
			}
			inC = planes * exp
			m.layers[l] = append(m.layers[l], b)
		}
	}
	if p.set != nil && p.set.Has("fc.weight") {
		m.fc = p.linear("fc", inC, 0)
	}
	if err := p.finish(name); err != nil {
		return nil, err
	}
	if m.fc != nil {
		return &resnetClassifier{m}, nil
	}
	return m, nil
}

// convOK reports whether c has a non-empty output for an h×w input.
func convOK(c *nn.Conv2D, h, w int) bool {
	p := padOf(c)
	return h >= 1 && w >= 1 && h+2*p >= c.KH && w+2*p >= c.KW
}

// sizes returns the tap sizes for an h×w input, or false when some layer's
// output would be empty.
func (m *resnet) sizes(h, w int) ([][2]int, bool) {
	if !convOK(m.stem, h, w) {
		return nil, false
	}
	h, w = m.stem.OutSize(h, w)
	out := [][2]int{{h, w}}
	h, w = (h-1)/2+1, (w-1)/2+1
	for _, layer := range m.layers {
		for _, b := range layer {
			bh, bw := h, w
			for _, c := range b.convs {
				if !convOK(c, bh, bw) {
					return nil, false
				}
				bh, bw = c.OutSize(bh, bw)
			}
			sh, sw := h, w
			if b.down != nil {
				sh, sw = b.down.OutSize(h, w)
			}
			if bh < 1 || bw < 1 || (bh > sh) != (bw > sw) {
				return nil, false
			}
			h, w = bh, bw
		}
		out = append(out, [2]int{h, w})
	}
	return out, true
}

// net runs the layers on the checked, prepared input with their maps from a
// (nil: fresh).
func (m *resnet) net(a *nn.Arena, in *tensor.Dense) ([]*tensor.Dense, error) {
	y := nn.ReLU(m.stem.ForwardIn(a, in))
	a.Release(in)
	taps := []*tensor.Dense{y}
	y = nn.MaxPool2DIn(a, y, 3, 2, 1, false)
	for _, layer := range m.layers {
		for _, b := range layer {
			z := b.forward(a, y)
			release(a, taps, y)
			y = z
		}
		taps = append(taps, y)
	}
	return taps, nil
}

// forward returns the block's output from a; it releases its own
// temporaries, never x.
func (b *block) forward(a *nn.Arena, x *tensor.Dense) *tensor.Dense {
	y := x
	for i, c := range b.convs {
		z := c.ForwardIn(a, y)
		if i < len(b.convs)-1 {
			nn.ReLU(z)
		}
		if y != x {
			a.Release(y)
		}
		y = z
	}
	s := x
	if b.down != nil {
		s = b.down.ForwardIn(a, x)
	}
	_, _, h, w := nn.Dims4(y)
	if _, _, sh, sw := nn.Dims4(s); sh != h || sw != w {
		c := matchIn(a, s, h, w) // PadNone crops the shortcut, PadFull pads it
		if s != x {
			a.Release(s)
		}
		s = c
	}
	nn.ReLU(nn.Add(y, s))
	if s != x {
		a.Release(s)
	}
	return y
}

// resnetClassifier is a ResNet whose fc weights were loaded.
type resnetClassifier struct{ *resnet }

// Classify runs torchvision's forward on ImageNet-normalised x: layer4,
// global average pool, fc.
func (m *resnetClassifier) Classify(x *tensor.Dense) (*tensor.Dense, error) {
	taps, err := m.forward(nil, x, true)
	if err != nil {
		return nil, err
	}
	return m.fc.Forward(nn.GlobalAvgPool(taps[len(taps)-1])), nil
}
