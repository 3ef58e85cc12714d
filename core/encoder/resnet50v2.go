package encoder

import (
	"fmt"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// preactUnit is MXNet Gluon's BottleneckV2: BN-ReLU on the input (shared by
// the shortcut projection), 1×1 conv, BN-ReLU, 3×3 conv with the stride,
// BN-ReLU, 1×1 conv, plus the shortcut. The two inner BNs are folded into
// the convs before them; the input BN cannot be (it follows a sum).
type preactUnit struct {
	bn1        *nn.BatchNorm
	c1, c2, c3 *nn.Conv2D
	down       *nn.Conv2D // 1×1 projection (first unit of a stage), or nil
}

// resnet50v2 is MXNet Gluon's resnet50_v2 as the ONNX model zoo ships it
// (tensors resnetv24_*): a BatchNorm on the input pixels, conv0 7×7/2 with
// BN-ReLU, max-pool 3/2/1, then stages of 3, 4, 6 units. The shared copy lacks
// stage 4 and the classifier, so the taps end at stage 3 (stride 16).
// Padding replaces the convs' zero padding; the max-pool keeps its -inf
// padding. With PadNone every 3×3 conv shrinks its input by 2 and the
// shortcut (identity or projection) takes the input cropped by one pixel per
// side, which keeps it exactly aligned with the valid 3×3 conv's centres,
// strided or not.
type resnet50v2 struct {
	base
	dataBN *nn.BatchNorm
	conv0  *nn.Conv2D
	stages [3][]preactUnit
}

func newResNet50V2(opts Options) (Encoder, error) {
	const name = "resnet50v2"
	p, err := sharedParams(name, opts)
	if err != nil {
		return nil, err
	}
	mode := opts.Padding
	bnSuffix := [4]string{"_gamma", "_beta", "_running_mean", "_running_var"}
	bn := func(n string, c int) *nn.BatchNorm { return p.bnW("resnetv24_"+n, bnSuffix, c, 1e-5) }
	conv := func(n string, inC, outC, k, stride, pad int) *nn.Conv2D {
		return p.convW("resnetv24_"+n+"_weight", "", inC, outC, k, stride, pad, 1, mode, initKaimingFanOut)
	}
	fold := func(b *nn.BatchNorm, c *nn.Conv2D) {
		if p.err == nil {
			b.FoldInto(c)
		}
	}
	sc := func(c int) int { return scale(c, opts.Width) }
	m := &resnet50v2{base: newBase(name, registeredTaps(name, opts.Width), opts)}
	m.inputSizes, m.pass = squareSizes(m.sizes), m.net
	m.dataBN = bn("batchnorm0", 3)
	m.conv0 = conv("conv0", 3, sc(64), 7, 2, 3)
	fold(bn("batchnorm1", sc(64)), m.conv0)
	in := sc(64)
	for s, units := range [3]int{3, 4, 6} {
		planes := sc(64 << s)
		ci := 0
		for u := 0; u < units; u++ {
			pre := fmt.Sprintf("stage%d_", s+1)
			stride := 1
			if s > 0 && u == 0 {
				stride = 2
			}
			var un preactUnit
			un.bn1 = bn(fmt.Sprintf("%sbatchnorm%d", pre, 3*u), in)
			un.c1 = conv(fmt.Sprintf("%sconv%d", pre, ci), in, planes, 1, 1, 0)
			fold(bn(fmt.Sprintf("%sbatchnorm%d", pre, 3*u+1), planes), un.c1)
			un.c2 = conv(fmt.Sprintf("%sconv%d", pre, ci+1), planes, planes, 3, stride, 1)
			fold(bn(fmt.Sprintf("%sbatchnorm%d", pre, 3*u+2), planes), un.c2)
			un.c3 = conv(fmt.Sprintf("%sconv%d", pre, ci+2), planes, 4*planes, 1, 1, 0)
			ci += 3
			if u == 0 {
				// Gluon creates the projection after the unit's three convs.
				un.down = conv(fmt.Sprintf("%sconv%d", pre, ci), in, 4*planes, 1, stride, 0)
				ci++
			}
			m.stages[s] = append(m.stages[s], un)
			in = 4 * planes
		}
	}
	// Stage 4's first conv and BNs, the final BN and the classifier bias are
	// in the file but the stage is incomplete.
	p.skip("resnetv24_stage4_", "resnetv24_batchnorm2_", "resnetv24_dense0_")
	if err := p.finish(name); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *resnet50v2) sizes(n int) ([]int, bool) {
	n = convSize(n, 7, 2, padOf(m.conv0))
	out := []int{n}
	n = poolSize(n, 3, 2, 1, false)
	for _, st := range m.stages {
		for _, u := range st {
			n = convSize(n, 3, u.c2.Stride, padOf(u.c2))
		}
		out = append(out, n)
	}
	return out, n > 0
}

// net runs the layers on the checked, prepared input with their maps from a
// (nil: fresh).
func (m *resnet50v2) net(a *nn.Arena, in *tensor.Dense) ([]*tensor.Dense, error) {
	bn := m.dataBN.Forward(a.Copy(in))
	a.Release(in)
	y := nn.ReLU(m.conv0.ForwardIn(a, bn))
	a.Release(bn)
	taps := []*tensor.Dense{y}
	y = nn.MaxPool2DIn(a, y, 3, 2, 1, false)
	for _, st := range m.stages {
		for i := range st {
			z := st[i].forward(a, y, m.mode)
			release(a, taps, y)
			y = z
		}
		taps = append(taps, y)
	}
	return taps, nil
}

// forward returns the unit's output from ar; it releases its own
// temporaries, never x.
func (u *preactUnit) forward(ar *nn.Arena, x *tensor.Dense, mode nn.PadMode) *tensor.Dense {
	a := nn.ReLU(u.bn1.Forward(ar.Copy(x)))
	h1 := nn.ReLU(u.c1.ForwardIn(ar, a))
	h2 := nn.ReLU(u.c2.ForwardIn(ar, h1))
	ar.Release(h1)
	h := u.c3.ForwardIn(ar, h2)
	ar.Release(h2)
	s := x
	if u.down != nil {
		s = a
	}
	var cropped, proj *tensor.Dense
	switch mode {
	case nn.PadNone:
		cropped = crop1In(ar, s)
		s = cropped
	case nn.PadFull: // one zero per side keeps the shortcut aligned with the grown 3x3 output
		_, _, h, w := nn.Dims4(s)
		cropped = padToIn(ar, s, h+2, w+2)
		s = cropped
	}
	if u.down != nil {
		proj = u.down.ForwardIn(ar, s)
		s = proj
	}
	nn.Add(h, s)
	ar.Release(a, cropped, proj)
	return h
}
