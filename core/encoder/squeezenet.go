package encoder

import (
	"fmt"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// fire is a SqueezeNet fire module: a 1×1 squeeze, then 1×1 and 3×3 expands
// side by side, every conv followed by ReLU.
type fire struct {
	squeeze, e1, e3 *nn.Conv2D
}

// squeezenet is SqueezeNet 1.1 as the ONNX model zoo ships it (converted from
// MXNet Gluon; tensors squeezenet0_convN, N = 0..25 in network order). conv0
// has no padding in any mode. With a padding mode the expand3×3 convs use it;
// with PadNone they are valid and the expand1×1 output is centre-cropped by one
// pixel per side so the two branches still concatenate. The max-pools use
// ceil mode as torchvision does (the ONNX graph floors; equal at 224 and at
// every size whose pool inputs are odd).
type squeezenet struct {
	base
	conv0      *nn.Conv2D
	fires      [8]fire
	classifier *nn.Conv2D                                   // conv25, 512→1000 1×1
	before     func(tap int, x *tensor.Dense) *tensor.Dense // Options.Before
}

func newSqueezeNet(opts Options) (Encoder, error) {
	const name = "squeezenet1.1"
	m := &squeezenet{base: newBase(name, registeredTaps(name, opts.Width), opts), before: opts.Before}
	m.inputSizes, m.pass = squareSizes(m.sizes), m.net
	p, err := sharedParams(name, opts)
	if err != nil {
		return nil, err
	}
	mode := opts.Padding
	wn := func(i int) (string, string) {
		return fmt.Sprintf("squeezenet0_conv%d_weight", i), fmt.Sprintf("squeezenet0_conv%d_bias", i)
	}
	sc := func(c int) int { return scale(c, opts.Width) }
	w, b := wn(0)
	m.conv0 = p.convW(w, b, 3, sc(64), 3, 2, 0, 1, mode, initKaimingUniform)
	in := sc(64)
	// (squeeze, expand) channels of fire2..fire9.
	cfg := [8][2]int{{16, 64}, {16, 64}, {32, 128}, {32, 128}, {48, 192}, {48, 192}, {64, 256}, {64, 256}}
	for k, c := range cfg {
		s, e := sc(c[0]), sc(c[1])
		w, b := wn(1 + 3*k)
		m.fires[k].squeeze = p.convW(w, b, in, s, 1, 1, 0, 1, mode, initKaimingUniform)
		w, b = wn(2 + 3*k)
		m.fires[k].e1 = p.convW(w, b, s, e, 1, 1, 0, 1, mode, initKaimingUniform)
		w, b = wn(3 + 3*k)
		m.fires[k].e3 = p.convW(w, b, s, e, 3, 1, 1, 1, mode, initKaimingUniform)
		in = 2 * e
	}
	w, b = wn(25)
	m.classifier = p.convW(w, b, in, 1000, 1, 1, 0, 1, mode, initNormal001)
	if err := p.finish(name); err != nil {
		return nil, err
	}
	return m, nil
}

// sizes propagates an input length through the network (both axes alike).
func (m *squeezenet) sizes(n int) ([]int, bool) {
	fire := func(n int) int { return convSize(n, 3, 1, padOf(m.fires[0].e3)) } // the expand3×3 path
	n = convSize(n, 3, 2, padOf(m.conv0))
	out := []int{n}
	n = fire(fire(poolSize(n, 3, 2, 0, true)))
	out = append(out, n)
	n = fire(fire(poolSize(n, 3, 2, 0, true)))
	out = append(out, n)
	n = fire(fire(poolSize(n, 3, 2, 0, true)))
	out = append(out, n)
	n = fire(fire(n))
	out = append(out, n)
	return out, n > 0
}

// net runs the layers on the checked, prepared input with their maps from a
// (nil: fresh).
func (m *squeezenet) net(a *nn.Arena, in *tensor.Dense) ([]*tensor.Dense, error) {
	y := m.conv0.ForwardActIn(a, m.input(0, in), nn.ActReLU)
	a.Release(in)
	taps := []*tensor.Dense{y}
	for k := range m.fires {
		if k == 0 || k == 2 || k == 4 {
			p := nn.MaxPool2DIn(a, y, 3, 2, 0, true)
			release(a, taps, y)
			y = p
		}
		in := y
		if k%2 == 0 { // fire2, 4, 6, 8 start the layers of taps 1..4
			in = m.input(1+k/2, y)
		}
		z := m.fires[k].forward(a, in, m.mode)
		release(a, taps, y)
		y = z
		if k == 1 || k == 3 || k == 5 || k == 7 {
			taps = append(taps, y)
		}
	}
	return taps, nil
}

// input is x, or what Options.Before makes of it as the input of tap's
// layers (not from the arena: the arena keeps x).
func (m *squeezenet) input(tap int, x *tensor.Dense) *tensor.Dense {
	if m.before == nil {
		return x
	}
	return m.before(tap, x)
}

// forward returns the module's output from a; it releases its own
// temporaries, never x.
func (f *fire) forward(a *nn.Arena, x *tensor.Dense, mode nn.PadMode) *tensor.Dense {
	s := f.squeeze.ForwardActIn(a, x, nn.ActReLU)
	if mode != nn.PadNone && mode != nn.PadFull { // no crop: the expands write the concatenation
		out := nn.ConcatConvsIn(a, s, nn.ActReLU, f.e1, f.e3)
		a.Release(s)
		return out
	}
	e1 := f.e1.ForwardActIn(a, s, nn.ActReLU)
	e3 := f.e3.ForwardActIn(a, s, nn.ActReLU)
	a.Release(s)
	if mode == nn.PadNone || mode == nn.PadFull { // e1 cropped or padded to e3's size
		_, _, h, w := nn.Dims4(e3)
		c := matchIn(a, e1, h, w)
		a.Release(e1)
		e1 = c
	}
	out := nn.ConcatIn(a, e1, e3)
	a.Release(e1, e3)
	return out
}

// Classify applies ImageNet mean/std to x, runs the whole network and returns
// the 1000 logits: conv25 + ReLU + global average pool (torchvision's head;
// the ReLU is in the ONNX graph too, and every shipped logit is ≥ 0).
func (m *squeezenet) Classify(x *tensor.Dense) (*tensor.Dense, error) {
	return m.logits(x, true)
}

func (m *squeezenet) logits(x *tensor.Dense, normalize bool) (*tensor.Dense, error) {
	taps, err := m.forward(nil, x, normalize)
	if err != nil {
		return nil, err
	}
	y := nn.GlobalAvgPool(nn.ReLU(m.classifier.Forward(taps[len(taps)-1])))
	n, c, _, _ := nn.Dims4(y)
	return y, y.Reshape(n, c)
}
