// Package grid is the GAPNet location test of Islam, Kowal et al. (ICCV
// 2021, "Global Pooling, More than Meets the Eye"; code islamamirul/
// PermuteNet): a photo pasted into one cell of a 3x3 canvas goes through a
// frozen encoder, every tap is globally average-pooled, and a linear
// softmax classifier is trained to name the cell. Spatial layout is gone
// after the pooling, so whatever it decodes is position encoded channel-wise.
package grid

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/study"
)

// Config is one grid study.
type Config struct {
	Encoders []string // encoder names
	Init     encoder.Init
	Paddings []nn.PadMode
	Photos   []string // photo paths: the first Train for training, the next Test for testing
	Train    int
	Test     int
	Cell     int        // side of a cell; the canvas is 3*Cell
	Canvas   [3]float32 // canvas colour in [0,1]
	Seed     uint64     // random-init encoders and the classifier's shuffling
	Width    int        // encoder base width (0: standard; reduced for tests)
	DataDir  string
	Iters    int     // full-batch gradient steps of the classifier
	LR, L2   float64 // its step size and weight decay
}

// Default is a CPU-sized run: 40 training and 20 test photos (360 and 180
// canvases), cells of 80 pixels (canvas 240): the cell offsets 0, 80, 160
// are multiples of SqueezeNet's total stride 16, so every cell meets the
// same sampling phase and stride aliasing gives no cue of its own.
func Default() Config {
	return Config{Encoders: []string{"squeezenet1.1"}, Init: encoder.InitImageNet, Paddings: []nn.PadMode{nn.PadZero, nn.PadNone, nn.PadFull, nn.PadCircular, nn.PadReflect},
		Train: 40, Test: 20, Cell: 80, Iters: 300, LR: 0.5, L2: 1e-3}
}

// Quick is a seconds-long run for tests: a reduced-width random
// SqueezeNet, 3+1 photos, cells of 24 pixels.
func Quick() Config {
	return Config{Encoders: []string{"squeezenet1.1"}, Init: encoder.InitRandom, Width: 8, Paddings: []nn.PadMode{nn.PadZero, nn.PadFull},
		Train: 3, Test: 1, Cell: 24, Iters: 100, LR: 0.5, L2: 1e-3}
}

// Result is one encoder and padding.
type Result struct {
	Encoder  string       `json:"encoder"`
	Init     encoder.Init `json:"init"`
	Padding  nn.PadMode   `json:"padding"`
	Accuracy float64      `json:"accuracy"`       // test canvases, in [0,1]; chance is 1/9
	TrainAcc float64      `json:"train_accuracy"` // training canvases
	Features int          `json:"features"`       // pooled channels (all taps)
	Paper    float64      `json:"paper,omitempty"`
	PerCell  []float64    `json:"per_cell"` // test accuracy of each cell, row-major
	Seconds  float64      `json:"seconds"`
}

// Progress is called after every encoder pass.
type Progress func(encoder, padding string, done, total int)

// Run measures every encoder and padding.
func Run(ctx context.Context, c Config, progress Progress) ([]Result, error) {
	if c.Train < 1 || c.Test < 1 || len(c.Photos) < c.Train+c.Test {
		return nil, fmt.Errorf("grid: need %d training and %d test photos, have %d", c.Train, c.Test, len(c.Photos))
	}
	if c.Cell < 8 || c.Iters < 1 || c.LR <= 0 || c.L2 < 0 {
		return nil, fmt.Errorf("grid: bad settings (cell %d, iterations %d, lr %g, l2 %g)", c.Cell, c.Iters, c.LR, c.L2)
	}
	cells, err := loadCells(c)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, name := range c.Encoders {
		for _, mode := range c.Paddings {
			pad := mode.String()
			start := time.Now()
			enc, err := encoder.New(name, encoder.Options{Init: c.Init, Seed: c.Seed, Padding: mode, DataDir: c.DataDir, Width: c.Width})
			if err != nil {
				return out, err
			}
			feats, labels, err := features(ctx, c, enc, cells, func(done, total int) {
				if progress != nil {
					progress(name, pad, done, total)
				}
			})
			if err != nil {
				return out, fmt.Errorf("grid %s/%s: %w", name, pad, err)
			}
			nTr := 9 * c.Train
			clf := train(feats[:nTr], labels[:nTr], c)
			r := Result{Encoder: name, Init: c.Init, Padding: mode, Features: len(feats[0])}
			r.TrainAcc, _ = clf.accuracy(feats[:nTr], labels[:nTr])
			r.Accuracy, r.PerCell = clf.accuracy(feats[nTr:], labels[nTr:])
			if mode == nn.PadZero {
				r.Paper = 1 // GAPNet, ResNet-18 on CIFAR-10 cells (result file of islamamirul/PermuteNet)
			}
			r.Seconds = time.Since(start).Seconds()
			out = append(out, r)
		}
	}
	return out, nil
}

// loadCells decodes each photo once, resized to Cell x Cell.
func loadCells(c Config) ([]*tensor.Dense, error) {
	var cells []*tensor.Dense
	for _, p := range c.Photos[:c.Train+c.Test] {
		img, err := imageio.Load(p)
		if err != nil {
			return nil, err
		}
		cells = append(cells, imageio.ToTensor(img, c.Cell))
	}
	return cells, nil
}

// Canvas pastes cell [1,3,s,s] into cell k (row-major) of a 3s x 3s canvas.
func Canvas(cell *tensor.Dense, k int, colour [3]float32) *tensor.Dense {
	_, _, s, _ := nn.Dims4(cell)
	return study.Paste(cell, 3*s, (k/3)*s, (k%3)*s, colour)
}

// features runs every photo in every cell through enc and returns the
// globally average-pooled taps, concatenated, with the cell labels.
func features(ctx context.Context, c Config, enc encoder.Encoder, cells []*tensor.Dense, progress func(done, total int)) ([][]float32, []int, error) {
	var feats [][]float32
	var labels []int
	total := 9 * len(cells)
	for i, cell := range cells {
		for k := 0; k < 9; k++ {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			taps, err := enc.Forward(Canvas(cell, k, c.Canvas))
			if err != nil {
				return nil, nil, err
			}
			var f []float32
			for _, t := range taps {
				_, ch, h, w := nn.Dims4(t)
				d := nn.Data(t)
				for j := 0; j < ch; j++ {
					s := 0.0
					for _, v := range d[j*h*w : (j+1)*h*w] {
						s += float64(v)
					}
					f = append(f, float32(s/float64(h*w)))
				}
			}
			encoder.Recycle(enc, taps)
			feats, labels = append(feats, f), append(labels, k)
			progress(i*9+k+1, total)
		}
	}
	return feats, labels, nil
}

// classifier is softmax regression on standardised features.
type classifier struct {
	mean, sd []float64
	w        [][]float64 // [9][d+1], the last entry the bias
}

func (m *classifier) scores(f []float32) []float64 {
	d := len(m.mean)
	s := make([]float64, 9)
	for k := range s {
		v := m.w[k][d]
		for j, x := range f {
			v += m.w[k][j] * (float64(x) - m.mean[j]) / m.sd[j]
		}
		s[k] = v
	}
	return s
}

// train fits the classifier by full-batch gradient descent with momentum
// 0.9 on the mean cross-entropy plus L2/2·|w|².
func train(feats [][]float32, labels []int, c Config) *classifier {
	n, d := len(feats), len(feats[0])
	m := &classifier{mean: make([]float64, d), sd: make([]float64, d), w: make([][]float64, 9)}
	for _, f := range feats {
		for j, x := range f {
			m.mean[j] += float64(x) / float64(n)
		}
	}
	for _, f := range feats {
		for j, x := range f {
			m.sd[j] += (float64(x) - m.mean[j]) * (float64(x) - m.mean[j]) / float64(n)
		}
	}
	for j := range m.sd {
		m.sd[j] = math.Sqrt(m.sd[j]) + 1e-6
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x67726964))
	vel := make([][]float64, 9)
	for k := range m.w {
		m.w[k] = make([]float64, d+1)
		vel[k] = make([]float64, d+1)
		for j := 0; j < d; j++ {
			m.w[k][j] = 1e-3 * rng.NormFloat64()
		}
	}
	grad := make([][]float64, 9)
	for k := range grad {
		grad[k] = make([]float64, d+1)
	}
	for it := 0; it < c.Iters; it++ {
		for k := range grad {
			clear(grad[k])
		}
		for i, f := range feats {
			p := softmax(m.scores(f))
			p[labels[i]]--
			for k := range p {
				g := grad[k]
				for j, x := range f {
					g[j] += p[k] * (float64(x) - m.mean[j]) / m.sd[j] / float64(n)
				}
				g[d] += p[k] / float64(n)
			}
		}
		for k := range m.w {
			for j := range m.w[k] {
				g := grad[k][j]
				if j < d {
					g += c.L2 * m.w[k][j]
				}
				vel[k][j] = 0.9*vel[k][j] + g
				m.w[k][j] -= c.LR * vel[k][j]
			}
		}
	}
	return m
}

func softmax(s []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = math.Max(mx, v)
	}
	z := 0.0
	p := make([]float64, len(s))
	for k, v := range s {
		p[k] = math.Exp(v - mx)
		z += p[k]
	}
	for k := range p {
		p[k] /= z
	}
	return p
}

// accuracy returns the overall and the per-cell accuracy.
func (m *classifier) accuracy(feats [][]float32, labels []int) (float64, []float64) {
	ok, per, cnt := 0, make([]float64, 9), make([]float64, 9)
	for i, f := range feats {
		s := m.scores(f)
		best := 0
		for k := range s {
			if s[k] > s[best] {
				best = k
			}
		}
		cnt[labels[i]]++
		if best == labels[i] {
			ok++
			per[labels[i]]++
		}
	}
	for k := range per {
		if cnt[k] > 0 {
			per[k] /= cnt[k]
		}
	}
	return float64(ok) / float64(len(feats)), per
}
