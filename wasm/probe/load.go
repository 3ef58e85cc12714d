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

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	coreprobe "github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/wasm/demo"
)

// Predictor is a model of the demo: the core predictor of its encoder and
// readouts, and the readout files the site lacks.
type Predictor struct {
	*coreprobe.Predictor
	Missing []string // readout files not found (their targets are not predicted)
	ch      channels // the channels view's ranking (channels.go)
}

// add adds readout r of target t, and notes the taps it reads.
func (p *Predictor) add(t string, r *readout.Readout) error {
	if err := p.Add(t, r); err != nil {
		return err
	}
	var names []string
	for _, tp := range p.Encoder().Taps() {
		names = append(names, tp.Name)
	}
	p.ch.readTaps(names, r)
	return nil
}

// NewPredictor combines an encoder with readouts (by target) it was trained
// for; the tap names of each readout's config select the encoder taps.
func NewPredictor(enc encoder.Encoder, readouts map[string]*readout.Readout) (*Predictor, error) {
	p := &Predictor{Predictor: coreprobe.NewPredictor(enc)}
	for _, t := range demo.Targets {
		if r := readouts[t]; r != nil {
			if err := p.add(t, r); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// LoadModel builds the predictor of model m: its encoder (ImageNet weights
// from the site, or drawn from the seed for random init) and the readouts of
// every target it has. progress gets a fraction in [0,1] and a message.
//
// dataDir, when set (desktop), is where the encoder finds its ImageNet
// weights; otherwise they are fetched from src as the manifest says.
func LoadModel(m demo.Model, src demo.Source, man demo.Manifest, dataDir string, progress func(float64, string)) (*Predictor, error) {
	pad := m.Padding
	opts := encoder.Options{Init: m.Init, Seed: m.Seed, Padding: pad, DataDir: dataDir}
	var set *weights.Set
	var err error
	if m.ONNX == "" && m.Encoder != "none" && m.Init != encoder.InitRandom && opts.DataDir == "" {
		if set, err = encoderWeights(m, src, man, progress); err != nil {
			return nil, err
		}
	}
	progress(0.75, "Building "+m.Label)
	var enc encoder.Encoder
	if m.ONNX != "" {
		enc, err = loadONNX(m, src, pad, progress)
	} else {
		enc, err = newEncoder(m.Encoder, opts, set)
	}
	if err != nil {
		return nil, err
	}
	p := &Predictor{Predictor: coreprobe.NewPredictor(enc)}
	var missing []string
	for i, tg := range posmap.AllTargets() {
		t, name := tg.String(), readout.FileName(m.Encoder, m.Init, m.Padding, tg)
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
		prov := readout.Provenance{Encoder: m.Encoder, Init: m.Init, Seed: m.Seed, Padding: m.Padding, Taps: r.Config.Taps}
		if err := r.Check(prov); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := p.add(t, r); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if len(p.Targets()) == 0 {
		return nil, fmt.Errorf("no trained readouts for %s: missing %s (train them with posprobe train, into weights/readouts, then make site)",
			m.Label, strings.Join(missing, ", "))
	}
	p.Missing = missing
	return p, nil
}

// encoderWeights fetches the ImageNet weights of m's encoder: the site's
// safetensors file, or (desktop) the data folder.
func encoderWeights(m demo.Model, src demo.Source, man demo.Manifest, progress func(float64, string)) (*weights.Set, error) {
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

// addHead adds zero tensors for the head tensors the set lacks.
func addHead(enc string, set *weights.Set) {
	for name, shape := range encoder.HeadTensors[enc] {
		if set.Tensors[name] != nil {
			continue
		}
		set.Add(name, nn.New(shape...))
	}
}
