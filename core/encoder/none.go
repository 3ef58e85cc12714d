package encoder

import (
	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

func init() {
	Register("none", Info{
		Summary: "no encoder (the paper's PosENet alone): the RGB input is the only tap",
		Taps:    []Tap{{"rgb", 3, 1}},
	}, func(o Options) (Encoder, error) { return noEncoder{o.Normalize}, nil })
}

// noEncoder passes the image through: the readout then sees raw pixels.
// Init, Seed, Padding and Weights have nothing to act on.
type noEncoder struct{ normalize bool }

func (noEncoder) Name() string { return "none" }
func (noEncoder) Taps() []Tap  { return []Tap{{"rgb", 3, 1}} }

// Forward returns a copy of x (normalised when asked), so callers may modify
// the tap.
func (e noEncoder) Forward(x *tensor.Dense) ([]*tensor.Dense, error) {
	if err := checkInput("none", x, 1); err != nil {
		return nil, err
	}
	if e.normalize {
		y, err := NormalizeImageNet(x)
		return []*tensor.Dense{y}, err
	}
	n, c, h, w := nn.Dims4(x)
	y := nn.New(n, c, h, w)
	copy(nn.Data(y), nn.Data(x))
	return []*tensor.Dense{y}, nil
}
