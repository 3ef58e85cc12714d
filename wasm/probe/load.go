// Package probe wires the demo to the core packages: loading an encoder and
// its readouts from the site (or the data folder), and the prediction
// pipeline (Pillow-exact crop resampling, ground truth, SPC and MAE). It has
// no window, so its tests and benchmarks run natively and in node.
package probe

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/wasm/demo"
	"gorgonia.org/tensor"
)

// Predictor is an encoder and its readouts, one per target.
type Predictor struct {
	enc      encoder.Encoder
	targets  []string
	readouts map[string]*readout.Readout
	taps     map[string][]int // per target: indices of the encoder taps its readout reads
	Missing  []string         // readout files not found (their targets are not predicted)

	mu    sync.Mutex           // guards feats
	feats map[string][]float32 // per feature key: the features buffer, reused by every prediction
}

// NewPredictor combines an encoder with readouts (by target) it was trained
// for; the tap names of each readout's config select the encoder taps.
func NewPredictor(enc encoder.Encoder, readouts map[string]*readout.Readout) (*Predictor, error) {
	p := &Predictor{enc: enc, readouts: map[string]*readout.Readout{}, taps: map[string][]int{}}
	for _, t := range demo.Targets {
		if r := readouts[t]; r != nil {
			if err := p.add(t, r); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

func (p *Predictor) add(target string, r *readout.Readout) error {
	names := make([]string, len(p.enc.Taps()))
	for i, t := range p.enc.Taps() {
		names[i] = t.Name
	}
	idx, err := readout.SelectTaps(names, r.Config.Taps)
	if err != nil {
		return err
	}
	p.readouts[target], p.taps[target] = r, idx
	p.targets = append(p.targets, target)
	return nil
}

func (p *Predictor) Targets() []string { return p.targets }

func (p *Predictor) Predict(x []float32) (map[string][]float32, error) {
	in := nn.FromData(x, 1, 3, demo.MapSize, demo.MapSize)
	taps, err := p.enc.Forward(in)
	if err != nil {
		return nil, err
	}
	out, err := p.predictTaps(taps)
	p.recycle(x, taps)
	return out, err
}

// recycle hands the taps of input x back to the encoder once copied into the
// features, so that the next pass reuses their memory (not x's, should a tap
// be the input itself).
func (p *Predictor) recycle(x []float32, taps []*tensor.Dense) {
	keep := taps[:0:0]
	for _, t := range taps {
		if d := nn.Data(t); len(d) > 0 && len(x) > 0 && &d[0] != &x[0] {
			keep = append(keep, t)
		}
	}
	encoder.Recycle(p.enc, keep)
}

// predictTaps runs every target's readout on the encoder's taps. Readouts
// reading the same taps at the same size share their features, and
// readout.PredictTaps (or PredictMany) computes them together (one GEMM
// for the demo's five).
func (p *Predictor) predictTaps(taps []*tensor.Dense) (map[string][]float32, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var keys []string
	groups := map[string][]string{}
	for _, t := range p.targets {
		key := fmt.Sprint(p.taps[t], p.readouts[t].Config.Size)
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], t)
	}
	out := make(map[string][]float32, len(p.targets))
	for _, key := range keys {
		ts := groups[key]
		sel := make([]*tensor.Dense, len(p.taps[ts[0]]))
		for i, j := range p.taps[ts[0]] {
			sel[i] = taps[j]
		}
		rs := make([]*readout.Readout, len(ts))
		for i, t := range ts {
			rs[i] = p.readouts[t]
		}
		// Readouts sharing one GEMM read the taps directly (small taps are
		// multiplied before their resize); others take prepared features.
		maps, ok, err := readout.PredictTaps(rs, sel)
		if !ok {
			var f []float32
			if f, err = p.features(key, sel, rs[0].Config.Size); err != nil {
				return nil, err
			}
			maps, err = readout.PredictMany(rs, f)
		}
		if err != nil {
			return nil, fmt.Errorf("readouts %v: %w", ts, err)
		}
		for i, t := range ts {
			out[t] = maps[i]
		}
	}
	return out, nil
}

// features prepares the taps' features [C,size,size] into the buffer kept
// for key (p.mu held): 8 MB for squeezenet, cleared and collected every
// prediction when allocated fresh.
func (p *Predictor) features(key string, taps []*tensor.Dense, size int) ([]float32, error) {
	c, err := readout.OneImageChannels(taps)
	if err != nil {
		return nil, err
	}
	f := p.feats[key]
	if len(f) != c*size*size {
		f = make([]float32, c*size*size)
		if p.feats == nil {
			p.feats = map[string][]float32{}
		}
		p.feats[key] = f
	}
	if _, err := readout.Prepare(f, taps, size); err != nil {
		return nil, err
	}
	return f, nil
}

// LoadModel builds the predictor of model m: its encoder (ImageNet weights
// from the site, or drawn from the seed for random init) and the readouts of
// every target it has. progress gets a fraction in [0,1] and a message.
//
// dataDir, when set (desktop), is where the encoder finds its ImageNet
// weights; otherwise they are fetched from src as the manifest says.
func LoadModel(m demo.Model, src Source, man Manifest, dataDir string, progress func(float64, string)) (*Predictor, error) {
	pad, err := nn.ParsePadMode(m.Padding)
	if err != nil {
		return nil, err
	}
	opts := encoder.Options{Init: m.Init, Seed: m.Seed, Padding: pad, DataDir: dataDir}
	var set *weights.Set
	if m.Encoder != "none" && m.Init != encoder.InitRandom && opts.DataDir == "" {
		if set, err = encoderWeights(m, src, man, progress); err != nil {
			return nil, err
		}
	}
	progress(0.75, "Building "+m.Label)
	enc, err := newEncoder(m.Encoder, opts, set)
	if err != nil {
		return nil, err
	}
	p := &Predictor{enc: enc, readouts: map[string]*readout.Readout{}, taps: map[string][]int{}}
	var missing []string
	for i, t := range demo.Targets {
		name := readout.FileName(m.Encoder, m.Init, m.Padding, t)
		path := "readouts/" + name
		if man.Readouts != nil && !slices.Contains(man.Readouts, path) {
			missing = append(missing, name)
			continue
		}
		progress(0.8+0.2*float64(i)/float64(len(demo.Targets)), "Loading readout "+name)
		b, err := src.Read(path, nil)
		if err != nil {
			missing = append(missing, name)
			continue
		}
		r, err := readout.Load(bytes.NewReader(b), name)
		if err != nil {
			return nil, err
		}
		if err := r.CheckEncoder(m.Encoder, m.Init, m.Padding, r.Config.Taps); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if m.Init == encoder.InitRandom && r.Meta.Seed != m.Seed {
			return nil, fmt.Errorf("%s: trained on encoder seed %d, the demo uses %d", name, r.Meta.Seed, m.Seed)
		}
		if err := p.add(t, r); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(p.targets) == 0 {
		return nil, fmt.Errorf("no trained readouts for %s: missing %s (train them with posprobe train, into weights/readouts, then make site)",
			m.Label, strings.Join(missing, ", "))
	}
	p.Missing = missing
	return p, nil
}

// encoderWeights fetches the ImageNet weights of m's encoder: the site's
// safetensors file, or (desktop) the data folder.
func encoderWeights(m demo.Model, src Source, man Manifest, progress func(float64, string)) (*weights.Set, error) {
	path, ok := man.Encoders[m.Encoder]
	if !ok {
		path = "weights/" + m.Encoder + ".safetensors"
	}
	b, err := src.Read(path, func(done, total int64) {
		if total > 0 {
			progress(0.7*float64(done)/float64(total), fmt.Sprintf("Downloading %s weights %.1f / %.1f MB", m.Encoder, float64(done)/1e6, float64(total)/1e6))
		} else { // compressed in transit: the decoded size is not known ahead
			progress(0.35, fmt.Sprintf("Downloading %s weights %.1f MB", m.Encoder, float64(done)/1e6))
		}
	})
	if err == nil {
		set, err := weights.ParseSafetensors(b, path)
		if err != nil {
			return nil, err
		}
		addHead(m.Encoder, set)
		return set, nil
	}
	return nil, fmt.Errorf("the %s ImageNet weights are missing (%s: %v); the site was built without POSPROBE_DATA", m.Encoder, path, err)
}

// newEncoder builds an encoder, from fetched weights when set is not nil.
func newEncoder(name string, opts encoder.Options, set *weights.Set) (encoder.Encoder, error) {
	if set != nil {
		opts.Set = set
	}
	return encoder.New(name, opts)
}

// HeadTensors are, per encoder, the classifier tensors (name -> shape) that
// no tap depends on: the site leaves them out of its weight file (SqueezeNet
// 1.1's conv25 is 1 MB of the 2.5 MB) and addHead puts zeros in their place,
// so that the encoder, which builds its classifier too, gets a full set.
var HeadTensors = map[string]map[string][]int{
	"squeezenet1.1": {"squeezenet0_conv25_weight": {1000, 512, 1, 1}, "squeezenet0_conv25_bias": {1000}},
}

// addHead adds zero tensors for the head tensors the set lacks.
func addHead(encoder string, set *weights.Set) {
	for name, shape := range HeadTensors[encoder] {
		if set.Tensors[name] != nil {
			continue
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		set.Add(&weights.Tensor{Name: name, Shape: slices.Clone(shape), Data: make([]float32, n)})
	}
}
