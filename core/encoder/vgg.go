package encoder

import (
	"fmt"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

const vgg16URL = "https://download.pytorch.org/models/vgg16-397923af.pth"

// vgg16Cfg is torchvision's configuration "D": conv widths, 0 = 2×2 max-pool.
var vgg16Cfg = []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}

var vgg16Taps = []string{"relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"}

func init() {
	Register("vgg16", Info{
		Summary: "VGG16 (torchvision, no BN); taps relu1_2..relu5_3 before each pool (features 3,8,15,22,29)",
		Taps:    vggTaps(0),
		Weights: vgg16URL,
	}, newVGG16)
}

func vggTaps(width int) []Tap {
	var taps []Tap
	stride, c := 1, 0
	for _, v := range vgg16Cfg {
		if v == 0 {
			taps = append(taps, Tap{vgg16Taps[len(taps)], c, stride})
			stride *= 2
			continue
		}
		c = scale(v, width)
	}
	return taps
}

// vgg is torchvision's VGG16 feature stack. Padding replaces every conv's
// 1-pixel zero padding; the 2×2 pools have none. With PadNone each 3×3 conv
// shrinks its input by 2, so the taps of a 224 input are 220, 106, 47, 17
// and 2 pixels wide and the input must be at least 196 pixels.
type vgg struct {
	base
	blocks [][]*nn.Conv2D // the convs of each block; a pool follows all but the last
	head   [3]*nn.Linear  // classifier.0, .3, .6 when present
}

func newVGG16(opts Options) (Encoder, error) {
	p, err := newParams("vgg16", vgg16URL, opts)
	if err != nil {
		return nil, err
	}
	m := &vgg{base: newBase("vgg16", vggTaps(opts.Width), opts)}
	inC, idx := 3, 0
	var block []*nn.Conv2D
	for _, v := range vgg16Cfg {
		if v == 0 { // MaxPool2d
			m.blocks = append(m.blocks, block)
			block = nil
			idx++
			continue
		}
		outC := scale(v, opts.Width)
		block = append(block, p.conv(fmt.Sprintf("features.%d", idx), inC, outC, 3, 1, 1, true, opts.Padding))
		inC = outC
		idx += 2 // Conv2d, ReLU
	}
	if p.set != nil && p.set.Has("classifier.0.weight") {
		m.head[0] = p.linear("classifier.0", inC*7*7, 0)
		if m.head[0] != nil {
			m.head[1] = p.linear("classifier.3", m.head[0].Out, m.head[0].Out)
			m.head[2] = p.linear("classifier.6", m.head[0].Out, 0)
		}
	}
	if err := p.finish("vgg16"); err != nil {
		return nil, err
	}
	if m.head[0] != nil {
		return &vggClassifier{m}, nil
	}
	return m, nil
}

// sizes returns the tap sizes for an h×w input, or false when some tap (or
// a pool before it) would be empty.
func (m *vgg) sizes(h, w int) ([][2]int, bool) {
	var out [][2]int
	for i, b := range m.blocks {
		if i > 0 {
			h, w = h/2, w/2
		}
		for _, c := range b {
			if h < 1 || w < 1 || h+2*padOf(c) < c.KH || w+2*padOf(c) < c.KW {
				return nil, false
			}
			h, w = c.OutSize(h, w)
		}
		if h < 1 || w < 1 {
			return nil, false
		}
		out = append(out, [2]int{h, w})
	}
	return out, true
}

func (m *vgg) Forward(x *tensor.Dense) ([]*tensor.Dense, error) {
	a := m.get()
	taps, _, err := m.forward(a, x, m.normalize, false)
	m.done(a, taps)
	return taps, err
}

// forward runs the feature stack with its maps from a (nil: fresh); with
// pooled it also returns the output of the last pool (torchvision's
// model.features(x)).
func (m *vgg) forward(a *nn.Arena, x *tensor.Dense, normalize, pooled bool) ([]*tensor.Dense, *tensor.Dense, error) {
	y, err := checkedIn(a, "vgg16", x, m.sizes, normalize)
	if err != nil {
		return nil, nil, err
	}
	taps := make([]*tensor.Dense, 0, len(m.blocks))
	for i, b := range m.blocks {
		if i > 0 {
			y = nn.MaxPool2DIn(a, y, 2, 2, 0, false) // y was the last tap
		}
		for _, c := range b {
			z := c.ForwardActIn(a, y, nn.ActReLU)
			a.Release(y) // the input x is not the arena's: ignored
			y = z
		}
		taps = append(taps, y)
	}
	var last *tensor.Dense
	if pooled {
		_, _, h, w := nn.Dims4(y)
		if h < 2 || w < 2 {
			return nil, nil, fmt.Errorf("vgg16: relu5_3 is %dx%d, too small for the last pool", h, w)
		}
		last = nn.MaxPool2D(y, 2, 2, 0, false)
	}
	return taps, last, nil
}

// vggClassifier is a VGG16 whose classifier weights were loaded.
type vggClassifier struct{ *vgg }

// Classify runs torchvision's VGG16 forward on ImageNet-normalised x:
// features, adaptive average pool to 7×7, classifier (dropout is inactive).
func (m *vggClassifier) Classify(x *tensor.Dense) (*tensor.Dense, error) {
	_, y, err := m.forward(nil, x, true, true)
	if err != nil {
		return nil, err
	}
	y = adaptiveAvgPool(y, 7, 7)
	h := nn.ReLU(m.head[0].Forward(y))
	h = nn.ReLU(m.head[1].Forward(h))
	return m.head[2].Forward(h), nil // [N, 1000]
}

// adaptiveAvgPool is PyTorch's adaptive_avg_pool2d: output cell i averages
// input rows floor(i·H/oh) .. ceil((i+1)·H/oh)-1 (likewise for columns).
func adaptiveAvgPool(x *tensor.Dense, oh, ow int) *tensor.Dense {
	n, c, h, w := nn.Dims4(x)
	out := nn.New(n, c, oh, ow)
	xd, od := nn.Data(x), nn.Data(out)
	for pl := 0; pl < n*c; pl++ {
		src := xd[pl*h*w:]
		for i := 0; i < oh; i++ {
			y0, y1 := i*h/oh, ((i+1)*h+oh-1)/oh
			for j := 0; j < ow; j++ {
				x0, x1 := j*w/ow, ((j+1)*w+ow-1)/ow
				var s float32
				for y := y0; y < y1; y++ {
					for _, v := range src[y*w+x0 : y*w+x1] {
						s += v
					}
				}
				od[pl*oh*ow+i*ow+j] = s / float32((y1-y0)*(x1-x0))
			}
		}
	}
	return out
}
