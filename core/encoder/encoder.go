// Package encoder holds the frozen CNN encoders whose features posprobe
// probes for position information. Every encoder yields named taps (like
// timm's features_only / feature_info): the feature maps of its stages, each
// with its channel count and stride relative to the input.
package encoder

import (
	"fmt"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// Tap describes one feature map an encoder yields: its name, channel count,
// and stride (input pixels per output pixel, nominal: without padding the
// maps are a little smaller than H/Stride).
type Tap struct {
	Name     string
	Channels int
	Stride   int
}

// Encoder is a frozen network that maps an image batch to its taps.
type Encoder interface {
	Name() string
	Taps() []Tap
	// Forward takes x [N,3,H,W] in [0,1] (ImageNet-normalised inside when
	// Options.Normalize is set) and returns one [N,C,h,w] tensor per tap, in
	// the order of Taps. x is not modified.
	Forward(x *tensor.Dense) ([]*tensor.Dense, error)
}

// Classifier is an encoder whose classifier weights are present.
type Classifier interface {
	Encoder
	// Classify takes x [N,3,224,224] in [0,1], applies the model's own
	// preprocessing and returns [N,classes] logits.
	Classify(x *tensor.Dense) (*tensor.Dense, error)
}

// Options select an encoder's weights and variant.
type Options struct {
	Init      string     // "imagenet" (default) or "random"
	Seed      uint64     // random init seed (default 0); math/rand/v2 PCG, same numbers on every platform
	Padding   nn.PadMode // replaces every zero padding of the encoder (default PadZero)
	Weights   string     // explicit weight file/folder
	DataDir   string     // POSPROBE_DATA
	Normalize bool       // ImageNet mean/std on the input of Forward
	Width     int        // base width for reduced test models (0 = the standard network)
}

// Init values of Options.Init.
const (
	InitImageNet = "imagenet"
	InitRandom   = "random"
)

// random reports whether o asks for random weights, and rejects unknown
// Init values.
func (o Options) random() (bool, error) {
	switch o.Init {
	case "", InitImageNet:
		return false, nil
	case InitRandom:
		return true, nil
	}
	return false, fmt.Errorf("unknown init %q (want %q or %q)", o.Init, InitImageNet, InitRandom)
}

// ImageNet channel statistics used by torchvision's preprocessing.
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// NormalizeImageNet returns a copy of x [N,3,H,W] with (x-mean)/std applied
// per channel.
func NormalizeImageNet(x *tensor.Dense) (*tensor.Dense, error) {
	n, c, h, w, err := dims4(x)
	if err != nil {
		return nil, err
	}
	if c != 3 {
		return nil, fmt.Errorf("normalize: want 3 input channels, got %d", c)
	}
	src := nn.Data(x)
	out := nn.New(n, c, h, w)
	dst := nn.Data(out)
	hw := h * w
	for i := 0; i < n*c; i++ {
		m, s := ImageNetMean[i%3], ImageNetStd[i%3]
		for j := i * hw; j < (i+1)*hw; j++ {
			dst[j] = (src[j] - m) / s
		}
	}
	return out, nil
}

// dims4 checks that x is a float32 4-d tensor and returns its dimensions.
func dims4(x *tensor.Dense) (n, c, h, w int, err error) {
	if x == nil {
		return 0, 0, 0, 0, fmt.Errorf("input tensor is nil")
	}
	if _, ok := x.Data().([]float32); !ok {
		return 0, 0, 0, 0, fmt.Errorf("input tensor is %v, want float32", x.Dtype())
	}
	s := x.Shape()
	if len(s) != 4 {
		return 0, 0, 0, 0, fmt.Errorf("input shape %v, want [N,C,H,W]", s)
	}
	return s[0], s[1], s[2], s[3], nil
}

// checkInput validates an image batch for Forward: [N,3,H,W] with H and W at
// least min (the smallest size whose taps are all non-empty).
func checkInput(name string, x *tensor.Dense, min int) error {
	_, c, h, w, err := dims4(x)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if c != 3 {
		return fmt.Errorf("%s: input has %d channels, want 3 (RGB)", name, c)
	}
	if h < min || w < min {
		return fmt.Errorf("%s: input %dx%d is too small: this variant needs at least %dx%d", name, h, w, min, min)
	}
	return nil
}

// prepare returns the tensor the network sees: x itself, or a normalised
// copy when Normalize is set. Networks must not modify the returned tensor
// when it is x.
func prepare(x *tensor.Dense, normalize bool) (*tensor.Dense, error) {
	if normalize {
		return NormalizeImageNet(x)
	}
	return x, nil
}
