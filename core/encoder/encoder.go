// Package encoder holds the frozen CNN encoders whose features posprobe
// probes for position information. Every encoder yields named taps (like
// timm's features_only / feature_info): the feature maps of its stages, each
// with its channel count and stride relative to the input.
package encoder

import (
	"fmt"
	"slices"
	"strings"

	"github.com/posprobe/posprobe/core/netspec"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/weights"
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
	//
	// The taps belong to the caller: the encoder never touches them again
	// unless the caller hands them back with Recycle (see Recycler). The
	// intermediate maps of a pass are reused by the next pass (per call: a
	// Forward running concurrently on the same encoder gets memory of its
	// own), so repeated calls on one input size allocate little beyond the
	// taps, and nothing big once the taps are recycled.
	Forward(x *tensor.Dense) ([]*tensor.Dense, error)
}

// Classifier is an encoder whose classifier weights are present.
type Classifier interface {
	Encoder
	// Classify takes x [N,3,224,224] in [0,1], applies the model's own
	// preprocessing and returns [N,classes] logits.
	Classify(x *tensor.Dense) (*tensor.Dense, error)
}

// TopK returns the indices of the k largest values of v (a classifier's
// logits), largest first, ties in index order; all of them when k > len(v).
func TopK(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case v[a] > v[b]:
			return -1
		case v[a] < v[b]:
			return 1
		}
		return 0
	})
	return idx[:min(k, len(idx))]
}

// Options select an encoder's weights and variant.
type Options struct {
	Init      Init       // InitImageNet (default) or InitRandom
	Seed      uint64     // random init seed (default 0); math/rand/v2 PCG, same numbers on every platform
	Padding   nn.PadMode // replaces every zero padding of the encoder (default PadZero)
	Weights   string     // explicit weight file/folder
	DataDir   string     // POSPROBE_DATA
	Normalize bool       // ImageNet mean/std on the input of Forward
	Width     int        // base width for reduced test models (0 = the standard network)
	// Set, when not nil, is the ImageNet weights already in memory (the
	// browser has no files); Weights and DataDir are then not consulted.
	Set *weights.Set
	// Before, when set, replaces the input of the layers that produce tap
	// i (conv1: the image; fire3: pool1's output, ...) by what it returns,
	// for PermuteNet-style channel shuffles; it must leave x as it is.
	// Only squeezenet1.1 supports it; New rejects it for the others.
	Before func(tap int, x *tensor.Dense) *tensor.Dense
}

// Init is where an encoder's weights come from (netspec.Init, which the
// demo's UI names without linking this package).
type Init = netspec.Init

// The Init values.
const (
	InitImageNet = netspec.InitImageNet
	InitRandom   = netspec.InitRandom
)

// random reports whether o asks for random weights, and rejects unknown
// Init values.
func (o Options) random() (bool, error) {
	switch o.Init {
	case InitImageNet:
		return false, nil
	case InitRandom:
		return true, nil
	}
	return false, fmt.Errorf("unknown init %v (want %v or %v)", o.Init, InitImageNet, InitRandom)
}

// ImageNet channel statistics used by torchvision's preprocessing.
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// NormalizeImageNet returns a copy of x [N,3,H,W] with (x-mean)/std applied
// per channel.
func NormalizeImageNet(x *tensor.Dense) (*tensor.Dense, error) {
	return prepareIn(nil, x, true) // a nil arena allocates a fresh tensor
}

func errNormalizeChannels(c int) error {
	return fmt.Errorf("normalize: want 3 input channels, got %d", c)
}

// normalizeInto writes (src-mean)/std of planes planes of hw values to dst.
func normalizeInto(dst, src []float32, planes, hw int) {
	for i := 0; i < planes; i++ {
		m, s := ImageNetMean[i%3], ImageNetStd[i%3]
		for j := i * hw; j < (i+1)*hw; j++ {
			dst[j] = (src[j] - m) / s
		}
	}
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

// locateSet returns the ImageNet weight set of an encoder: Options.Set, or
// the file or folder weights.Locate finds, read by weights.Load (any format
// it knows: .pth, safetensors, .npy folder, TF.js).
func locateSet(name string, opts Options) (*weights.Set, error) {
	if opts.Set != nil {
		return opts.Set, nil
	}
	p, err := weights.Locate(name, opts.Weights, opts.DataDir)
	if err != nil {
		return nil, err
	}
	return weights.Load(p)
}

// loadWeights is locateSet for the torchvision families: without --weights
// and without a local copy the error says where the file comes from.
func loadWeights(name, url string, opts Options) (*weights.Set, error) {
	set, err := locateSet(name, opts)
	if err != nil {
		if opts.Weights == "" && opts.Set == nil {
			return nil, fmt.Errorf("%s: %v; the torchvision file is %s; or use --init random", name, err, url)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return set, nil
}

// params supplies a network's parameters by their torchvision names: from a
// weight set (shapes checked), or drawn from rng in construction order. The
// first error sticks; builders check it once at the end.
type params struct {
	set *weights.Set
	rng *Rand
	err error
}

func (p *params) get(name string, shape ...int) []float32 {
	if p.err != nil {
		return nil
	}
	d, err := p.set.Get(name, shape...)
	if err != nil {
		p.err = err
		return nil
	}
	return d
}

// conv returns a k×k Conv2D called name (torchvision's "<name>.weight",
// "<name>.bias"). Random weights: kaiming_normal(fan_out, relu), bias 0.
func (p *params) conv(name string, inC, outC, k, stride, pad int, bias bool, mode nn.PadMode) *nn.Conv2D {
	c := &nn.Conv2D{InC: inC, OutC: outC, KH: k, KW: k, Stride: stride, Pad: pad, Groups: 1, Mode: mode}
	if p.set != nil {
		c.W = p.get(name+".weight", outC, inC, k, k)
		if bias {
			c.B = p.get(name+".bias", outC)
		}
		return c
	}
	c.W = make([]float32, outC*inC*k*k)
	p.rng.KaimingNormalFanOut(c.W, outC*k*k)
	if bias {
		c.B = make([]float32, outC)
	}
	return c
}

// bn returns the inference-mode BatchNorm2d called name (eps 1e-5). Random:
// weight 1, bias 0, running mean 0 and variance 1, as torchvision builds it.
func (p *params) bn(name string, c int) *nn.BatchNorm {
	b := p.bnW(name+".", [4]string{"weight", "bias", "running_mean", "running_var"}, c, 1e-5)
	if p.set != nil && p.set.Has(name+".num_batches_tracked") {
		p.get(name + ".num_batches_tracked") // training bookkeeping, unused in inference
	}
	return b
}

// linear returns the Linear layer called name with in inputs. The number of
// outputs is read from the file when out is 0.
func (p *params) linear(name string, in, out int) *nn.Linear {
	if p.err != nil {
		return nil
	}
	if out == 0 {
		t, ok := p.set.Tensors[name+".weight"]
		if !ok || t.Dims() != 2 {
			p.err = fmt.Errorf("%s: no 2-d tensor %q", p.set.Source, name+".weight")
			return nil
		}
		out = t.Shape()[0]
	}
	l := &nn.Linear{In: in, Out: out}
	l.W = p.get(name+".weight", out, in)
	l.B = p.get(name+".bias", out)
	return l
}

// finish reports the first error and, for a weight file, tensors the network
// did not use (a sign of the wrong file for this architecture).
func (p *params) finish(name string) error {
	if p.err != nil {
		return fmt.Errorf("%s: %w", name, p.err)
	}
	if p.set != nil {
		if u := p.set.Unused(); len(u) > 0 {
			if len(u) > 5 {
				u = append(u[:5], fmt.Sprintf("... (%d in all)", len(u)))
			}
			return fmt.Errorf("%s: %s has tensors this architecture does not use: %s", name, p.set.Source, strings.Join(u, ", "))
		}
	}
	return nil
}

// newParams prepares the parameter source for an encoder: the weight file
// for ImageNet init, or the random stream (seed, name).
func newParams(name, url string, opts Options) (*params, error) {
	random, err := opts.random()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if random {
		return &params{rng: NewRand(opts.Seed, name)}, nil
	}
	set, err := loadWeights(name, url, opts)
	if err != nil {
		return nil, err
	}
	return &params{set: set}, nil
}

// scale returns the width-scaled channel count c·width/64 (width 0 = 64).
func scale(c, width int) int {
	if width == 0 {
		return c
	}
	return max(1, c*width/64)
}

// padOf is the padding a conv applies per side.
func padOf(c *nn.Conv2D) int { return c.Applied() }

// SizeError reports an input too small for every tap of an encoder to be
// non-empty (typically a network without padding).
type SizeError struct {
	Encoder string
	H, W    int // the input
	Min     int // the smallest square input that works
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("%s: input %dx%d is too small: with this padding every tap needs at least %dx%d pixels in",
		e.Encoder, e.H, e.W, e.Min, e.Min)
}

// checkSize validates x and that every tap of the network is non-empty for
// its size; sizes propagates an h×w input to the tap sizes.
func checkSize(name string, x *tensor.Dense, sizes func(h, w int) ([][2]int, bool)) error {
	if err := checkInput(name, x, 1); err != nil {
		return err
	}
	s := x.Shape()
	if _, ok := sizes(s[2], s[3]); ok {
		return nil
	}
	min := 1
	for min < 1<<14 {
		if _, ok := sizes(min, min); ok {
			break
		}
		min++
	}
	return &SizeError{Encoder: name, H: s[2], W: s[3], Min: min}
}
