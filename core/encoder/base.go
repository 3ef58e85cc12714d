package encoder

import (
	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// base is what every built-in network keeps besides its layers: its name,
// its taps at the built width, the padding mode that replaces its convs'
// zero padding, whether it normalises the input, and its arenas.
type base struct {
	name      string
	taps      []Tap
	mode      nn.PadMode
	normalize bool
	workspace

	// For Forward, where the network sets them: the sizes of its maps for an
	// input (false when one is empty), and its layers from the checked,
	// prepared input to the taps.
	inputSizes func(h, w int) ([][2]int, bool)
	pass       func(a *nn.Arena, in *tensor.Dense) ([]*tensor.Dense, error)
}

func newBase(name string, taps []Tap, opts Options) base {
	return base{name: name, taps: taps, mode: opts.Padding, normalize: opts.Normalize}
}

func (b *base) Name() string { return b.name }
func (b *base) Taps() []Tap  { return b.taps }

// Forward runs the network with its maps from a pooled arena, which goes
// back afterwards with everything but the taps reusable.
func (b *base) Forward(x *tensor.Dense) ([]*tensor.Dense, error) {
	a := b.get()
	taps, err := b.forward(a, x, b.normalize)
	b.done(a, taps)
	return taps, err
}

// forward checks x against the network's sizes, prepares it (normalised
// when normalize) and runs the layers, with the maps from a (nil: fresh).
func (b *base) forward(a *nn.Arena, x *tensor.Dense, normalize bool) ([]*tensor.Dense, error) {
	in, err := checkedIn(a, b.name, x, b.inputSizes, normalize)
	if err != nil {
		return nil, err
	}
	return b.pass(a, in)
}

// registeredTaps is the Info.Taps registered under name, narrowed to width
// (see scale) for reduced-width networks.
func registeredTaps(name string, width int) []Tap {
	info, _ := Lookup(name)
	taps := make([]Tap, len(info.Taps))
	for i, t := range info.Taps {
		taps[i] = Tap{t.Name, scale(t.Channels, width), t.Stride}
	}
	return taps
}
