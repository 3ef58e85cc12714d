// Package readout is the paper's position-encoding module: the encoder's
// taps resized to Size x Size and concatenated, then depth-1 hidden
// [conv CxC - BN - ReLU] layers, a conv C->1, BN(1), sigmoid, and a bilinear
// upsample to OutSize x OutSize. It trains with SGD on cached features and
// is saved in a small self-describing file.
package readout

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/posprobe/posprobe/core/gemm"
)

// Config is the readout's architecture.
type Config struct {
	Taps    []string `json:"taps,omitempty"` // encoder taps used, by name (empty: all)
	Kernel  int      `json:"kernel"`         // 1, 3, 5 or 7
	Pad     int      `json:"pad"`            // zero padding of every readout conv
	Depth   int      `json:"depth"`          // conv layers (1 = the paper's single layer)
	Size    int      `json:"size"`           // taps are resized to Size x Size (28)
	OutSize int      `json:"out_size"`       // prediction size (224)
}

// DefaultConfig is the paper's Table 1 readout: one 3x3 conv, no padding,
// on 28x28 features, predicting 224x224.
func DefaultConfig() Config { return Config{Kernel: 3, Pad: 0, Depth: 1, Size: 28, OutSize: 224} }

// Validate checks the numbers and that the maps stay non-empty.
func (c Config) Validate() error {
	switch {
	case c.Kernel != 1 && c.Kernel != 3 && c.Kernel != 5 && c.Kernel != 7:
		return fmt.Errorf("readout kernel %d: want 1, 3, 5 or 7", c.Kernel)
	case c.Pad < 0 || c.Pad > 8:
		return fmt.Errorf("readout padding %d: want 0..8", c.Pad)
	case c.Depth < 1 || c.Depth > 8:
		return fmt.Errorf("readout depth %d: want 1..8", c.Depth)
	case c.Size < 1 || c.Size > 1024:
		return fmt.Errorf("readout feature size %d: want 1..1024", c.Size)
	case c.OutSize < 1 || c.OutSize > 4096:
		return fmt.Errorf("readout output size %d: want 1..4096", c.OutSize)
	}
	if s := c.mapSize(c.Depth); s < 1 {
		return fmt.Errorf("readout: %d layers of %dx%d convs with padding %d shrink %dx%d features to nothing",
			c.Depth, c.Kernel, c.Kernel, c.Pad, c.Size, c.Size)
	}
	return nil
}

// mapSize is the side of the map after n conv layers.
func (c Config) mapSize(n int) int { return c.Size + n*(2*c.Pad-c.Kernel+1) }

// MaxChannels bounds the input channels a readout may have.
const MaxChannels = 1 << 14

// conv is a stride-1 convolution with zero padding, weights [OutC,InC,K,K].
type conv struct {
	InC, OutC, K, Pad int
	W, B              []float32
}

// bn is a batch norm over OutC channels.
type bn struct {
	Gamma, Beta, Mean, Var []float32
}

const (
	bnEps      = 1e-5
	bnMomentum = 0.1
)

// layer is conv -> BN -> (ReLU for hidden layers, sigmoid for the last).
type layer struct {
	conv conv
	bn   bn
	h, w int // input map size
}

// Readout is a trained (or freshly initialised) position readout.
type Readout struct {
	Config   Config
	Channels int // input channels C
	Meta     Meta
	layers   []*layer
}

// New returns a readout for c input channels with Xavier-uniform conv
// weights (gain 1) drawn from seed, zero biases, BN weight 1, bias 0,
// running mean 0, variance 1 (PyTorch's defaults).
func New(cfg Config, channels int, seed uint64) (*Readout, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if channels < 1 || channels > MaxChannels {
		return nil, fmt.Errorf("readout: %d input channels (want 1..%d)", channels, MaxChannels)
	}
	if cfg.Depth > 1 && int64(channels)*int64(channels)*int64(cfg.Kernel*cfg.Kernel) > 1<<28 {
		return nil, fmt.Errorf("readout: %d hidden layers of %d channels are too big", cfg.Depth-1, channels)
	}
	r := &Readout{Config: cfg, Channels: channels}
	rng := rand.New(rand.NewPCG(seed, 0x726561646f7574))
	s := cfg.Size
	for i := 0; i < cfg.Depth; i++ {
		out := channels
		if i == cfg.Depth-1 {
			out = 1
		}
		k := cfg.Kernel
		l := &layer{conv: conv{InC: channels, OutC: out, K: k, Pad: cfg.Pad,
			W: make([]float32, out*channels*k*k), B: make([]float32, out)}, h: s, w: s}
		a := math.Sqrt(6 / float64((channels+out)*k*k))
		for j := range l.conv.W {
			l.conv.W[j] = float32((2*rng.Float64() - 1) * a)
		}
		l.bn = bn{Gamma: make([]float32, out), Beta: make([]float32, out), Mean: make([]float32, out), Var: make([]float32, out)}
		for j := 0; j < out; j++ {
			l.bn.Gamma[j], l.bn.Var[j] = 1, 1
		}
		r.layers = append(r.layers, l)
		s = s + 2*cfg.Pad - k + 1
	}
	return r, nil
}

// param is one named parameter tensor (PyTorch names and shapes).
type param struct {
	Name  string
	Shape []int
	Data  []float32
	state bool // running statistics: saved, not trained
}

// params lists the parameters in file order.
func (r *Readout) params() []param {
	var ps []param
	for i, l := range r.layers {
		pre := fmt.Sprintf("hidden.%d.", i)
		if i == len(r.layers)-1 {
			pre = ""
		}
		c := l.conv
		ps = append(ps,
			param{Name: pre + "conv.weight", Shape: []int{c.OutC, c.InC, c.K, c.K}, Data: c.W},
			param{Name: pre + "conv.bias", Shape: []int{c.OutC}, Data: c.B},
			param{Name: pre + "bn.weight", Shape: []int{c.OutC}, Data: l.bn.Gamma},
			param{Name: pre + "bn.bias", Shape: []int{c.OutC}, Data: l.bn.Beta},
			param{Name: pre + "bn.running_mean", Shape: []int{c.OutC}, Data: l.bn.Mean, state: true},
			param{Name: pre + "bn.running_var", Shape: []int{c.OutC}, Data: l.bn.Var, state: true},
		)
	}
	return ps
}

// NumParams is the number of trainable values.
func (r *Readout) NumParams() int {
	n := 0
	for _, p := range r.params() {
		if !p.state {
			n += len(p.Data)
		}
	}
	return n
}

// LowSize is the side of the map before the final upsample.
func (r *Readout) LowSize() int { return r.Config.mapSize(r.Config.Depth) }

// FeatureLen is the length of one image's features, C*Size*Size.
func (r *Readout) FeatureLen() int { return r.Channels * r.Config.Size * r.Config.Size }

// Predict maps one image's features [C,Size,Size] to the OutSize x OutSize
// position map (row-major) with BN in eval mode (running statistics).
func (r *Readout) Predict(feat []float32) ([]float32, error) {
	if len(feat) != r.FeatureLen() {
		return nil, fmt.Errorf("readout: got %d feature values, want %d (C=%d x %dx%d)",
			len(feat), r.FeatureLen(), r.Channels, r.Config.Size, r.Config.Size)
	}
	x := feat
	var ws workspace
	for i, l := range r.layers {
		z := make([]float32, l.conv.OutC*l.outH()*l.outW())
		l.conv.forward(x, l.h, l.w, z, &ws)
		r.activate(i, z)
		x = z
	}
	return r.upsample(x), nil
}

// activate applies layer i's BN (running statistics) and its ReLU, or the
// sigmoid for the last layer, to its conv output z in place.
func (r *Readout) activate(i int, z []float32) {
	l := r.layers[i]
	hw := l.outH() * l.outW()
	for o := 0; o < l.conv.OutC; o++ {
		sc := l.bn.Gamma[o] / float32(math.Sqrt(float64(l.bn.Var[o])+bnEps))
		sh := l.bn.Beta[o] - l.bn.Mean[o]*sc
		zz := z[o*hw : (o+1)*hw]
		for j, v := range zz {
			v = v*sc + sh
			if i == len(r.layers)-1 {
				zz[j] = sigmoid(v)
			} else {
				zz[j] = max(v, 0)
			}
		}
	}
}

// upsample maps the last layer's output to the OutSize x OutSize map.
func (r *Readout) upsample(x []float32) []float32 {
	s := r.LowSize()
	up := newUpsampler(s, r.Config.OutSize)
	out := make([]float32, r.Config.OutSize*r.Config.OutSize)
	up.forward(x, out, make([]float32, s*r.Config.OutSize))
	return out
}

// stackable tells whether a and b can share one GEMM in PredictMany:
// single-layer readouts of the same input and conv geometry.
func stackable(a, b *Readout) bool {
	return a.Config.Depth == 1 && b.Config.Depth == 1 && a.Channels == b.Channels &&
		a.Config.Size == b.Config.Size && a.Config.Kernel == b.Config.Kernel && a.Config.Pad == b.Config.Pad
}

// PredictMany is Predict of every readout of rs on the same features. The
// single-layer readouts of one input and conv geometry (the demo's five
// targets) are computed with one GEMM whose rows are all their (ij, o)
// rows, so the features are packed once and the kernel gets a taller A;
// the others run Predict. Each result is Predict's up to float rounding.
func PredictMany(rs []*Readout, feat []float32) ([][]float32, error) {
	out := make([][]float32, len(rs))
	done := make([]bool, len(rs))
	var ws workspace
	for i, r := range rs {
		if done[i] {
			continue
		}
		group := []int{i}
		for j := i + 1; j < len(rs); j++ {
			if !done[j] && stackable(r, rs[j]) {
				group = append(group, j)
			}
		}
		if len(group) == 1 {
			p, err := r.Predict(feat)
			if err != nil {
				return nil, err
			}
			out[i], done[i] = p, true
			continue
		}
		if len(feat) != r.FeatureLen() {
			return nil, fmt.Errorf("readout: got %d feature values, want %d (C=%d x %dx%d)",
				len(feat), r.FeatureLen(), r.Channels, r.Config.Size, r.Config.Size)
		}
		l := r.layers[0]
		c := l.conv
		hw, rows := l.h*l.w, c.K*c.K*c.OutC
		// The stacked weights [(g, ij, o), c] and the GEMM's output.
		ws.wr = grow(ws.wr, len(group)*rows*c.InC)
		for g, j := range group {
			rs[j].layers[0].conv.rearranged(ws.wr[g*rows*c.InC : (g+1)*rows*c.InC])
		}
		ws.z = grow(ws.z, len(group)*rows*hw)
		gemm.Sgemm(len(group)*rows, hw, c.InC, ws.wr, c.InC, feat, hw, ws.z, hw, false)
		for g, j := range group {
			rj := rs[j]
			lj := rj.layers[0]
			z := make([]float32, lj.conv.OutC*lj.outH()*lj.outW())
			lj.conv.gather(ws.z[g*rows*hw:(g+1)*rows*hw], l.h, l.w, z)
			rj.activate(0, z)
			out[j], done[j] = rj.upsample(z), true
		}
	}
	return out, nil
}

func (l *layer) outH() int { return l.h + 2*l.conv.Pad - l.conv.K + 1 }
func (l *layer) outW() int { return l.w + 2*l.conv.Pad - l.conv.K + 1 }

func sigmoid(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

// SelectTaps returns the indices in available of the wanted tap names, in
// the order wanted; empty wanted means all.
func SelectTaps(available, wanted []string) ([]int, error) {
	if len(wanted) == 0 {
		idx := make([]int, len(available))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	var idx []int
	for _, w := range wanted {
		i := slices.Index(available, w)
		if i < 0 {
			return nil, fmt.Errorf("unknown tap %q (this encoder has %v)", w, available)
		}
		if slices.Contains(idx, i) {
			return nil, fmt.Errorf("tap %q given twice", w)
		}
		idx = append(idx, i)
	}
	return idx, nil
}
