package probe

import (
	"fmt"
	"sync"

	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/readout"
)

// Predictor is an encoder and readouts of several targets on it, predicting
// one image at a time: the encoder runs once, and readouts that read the
// same taps at the same size share their features (and one GEMM where
// readout.PredictTaps can). 'posprobe predict' and the demo's workers use
// it. Predict may be called from several goroutines.
type Predictor struct {
	enc      encoder.Encoder
	names    []string // tap names of enc
	targets  []string
	readouts map[string]*readout.Readout
	taps     map[string][]int // per target: indices of the encoder taps its readout reads

	mu    sync.Mutex           // guards feats
	feats map[string][]float32 // per feature key: the features buffer, reused by every prediction
}

// NewPredictor returns a predictor on enc without readouts (see Add).
func NewPredictor(enc encoder.Encoder) *Predictor {
	p := &Predictor{enc: enc, readouts: map[string]*readout.Readout{}, taps: map[string][]int{}}
	for _, t := range enc.Taps() {
		p.names = append(p.names, t.Name)
	}
	return p
}

// Add adds the readout of target; the tap names of its config select the
// encoder taps it reads.
func (p *Predictor) Add(target string, r *readout.Readout) error {
	idx, err := readout.SelectTaps(p.names, r.Config.Taps)
	if err != nil {
		return err
	}
	if _, ok := p.readouts[target]; !ok {
		p.targets = append(p.targets, target)
	}
	p.readouts[target], p.taps[target] = r, idx
	return nil
}

// Encoder is the predictor's encoder.
func (p *Predictor) Encoder() encoder.Encoder { return p.enc }

// Targets lists the targets it has readouts for, in the order added.
func (p *Predictor) Targets() []string { return p.targets }

// Predict takes x [3,224,224] in [0,1] (row-major, channel planes) and
// returns each target's map (its readout's output size squared, row-major).
func (p *Predictor) Predict(x []float32) (map[string][]float32, error) {
	in := nn.FromData(x, 1, 3, InputSize, InputSize)
	taps, err := p.enc.Forward(in)
	if err != nil {
		return nil, err
	}
	out, err := p.PredictTaps(taps)
	p.Recycle(x, taps)
	return out, err
}

// Recycle hands the taps of input x back to the encoder once copied into
// the features, so that the next pass reuses their memory (not x's, should
// a tap be the input itself).
func (p *Predictor) Recycle(x []float32, taps []*tensor.Dense) {
	keep := taps[:0:0]
	for _, t := range taps {
		if d := nn.Data(t); len(d) > 0 && len(x) > 0 && &d[0] != &x[0] {
			keep = append(keep, t)
		}
	}
	encoder.Recycle(p.enc, keep)
}

// PredictTaps runs every target's readout on the encoder's taps of one
// image. Readouts reading the same taps at the same size share their
// features, and readout.PredictTaps (or PredictMany) computes them
// together (one GEMM for the demo's five).
func (p *Predictor) PredictTaps(taps []*tensor.Dense) (map[string][]float32, error) {
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
