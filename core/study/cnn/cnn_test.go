package cnn

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

type torchCase struct {
	Conv      string      `json:"conv"`
	Pad       int         `json:"pad"`
	Circular  bool        `json:"circular"`
	X         []float32   `json:"x"`
	Labels    []int       `json:"labels"`
	Params    [][]float32 `json:"params"`
	Loss      float64     `json:"loss"`
	Grads     [][]float32 `json:"grads"`
	AfterStep [][]float32 `json:"after_step"`
}

type torchFile struct {
	InC, Size, Classes int
	Layers             [][2]int
	Cases              []torchCase
}

func loadTorch(t *testing.T) torchFile {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_grads.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		InC     int         `json:"in_c"`
		Size    int         `json:"size"`
		Classes int         `json:"classes"`
		Layers  [][2]int    `json:"layers"`
		Cases   []torchCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return torchFile{raw.InC, raw.Size, raw.Classes, raw.Layers, raw.Cases}
}

func netFor(t *testing.T, f torchFile, c torchCase) (*Net, [][]float32) {
	t.Helper()
	var layers []Layer
	for _, l := range f.Layers {
		layers = append(layers, Layer{OutC: l[0], Stride: l[1]})
	}
	mode := PadZeros
	if c.Circular {
		mode = PadCircular
	}
	n, err := New(f.InC, f.Size, f.Classes, 3, c.Pad, mode, layers, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range n.Params() {
		if len(p) != len(c.Params[i]) {
			t.Fatalf("%s: param %d has %d values, torch %d", c.Conv, i, len(p), len(c.Params[i]))
		}
		copy(p, c.Params[i])
	}
	per := f.InC * f.Size * f.Size
	var xs [][]float32
	for i := range c.Labels {
		xs = append(xs, c.X[i*per:(i+1)*per])
	}
	return n, xs
}

// maxRel is max |a-b| over max |b|.
func maxRel(a, b []float32) float64 {
	d, m := 0.0, 1e-12
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

// TestAgainstTorch compares loss, gradients and one Adadelta step with
// PyTorch 1.13 (float64) for every convolution kind; tolerance 1e-4 of the
// largest gradient (float32 here).
func TestAgainstTorch(t *testing.T) {
	f := loadTorch(t)
	if len(f.Cases) != 5 {
		t.Fatalf("fixture has %d cases, want 5", len(f.Cases))
	}
	for _, c := range f.Cases {
		n, xs := netFor(t, f, c)
		for _, workers := range []int{1, 3} {
			loss, grads := n.BatchGrad(xs, c.Labels, workers)
			if math.Abs(loss-c.Loss) > 1e-5*math.Max(1, c.Loss) {
				t.Errorf("%s: loss %.7f, torch %.7f", c.Conv, loss, c.Loss)
			}
			for i, g := range grads {
				if r := maxRel(g, c.Grads[i]); r > 1e-4 {
					t.Errorf("%s (workers %d): gradient of param %d off by %.2g of its max", c.Conv, workers, i, r)
				}
			}
		}
		_, grads := n.BatchGrad(xs, c.Labels, 1)
		opt := &Adadelta{LR: 1, Rho: 0.9, Eps: 1e-6, WeightDecay: 5e-5}
		opt.Step(n.Params(), grads)
		for i, p := range n.Params() {
			for j := range p {
				if d := math.Abs(float64(p[j] - c.AfterStep[i][j])); d > 1e-6 {
					t.Fatalf("%s: param %d[%d] after Adadelta %.8f, torch %.8f", c.Conv, i, j, p[j], c.AfterStep[i][j])
				}
			}
		}
	}
}

// TestFiniteDifferences checks the analytic gradient of every parameter
// against central differences (step 2.5e-4) of the float32 net. Where the two
// one-sided differences disagree a ReLU kink or a max-pool switch lies within
// the step and the entry is skipped; at least 90% must be checked, and every
// checked one must agree within 1e-3 + 2% of its size.
func TestFiniteDifferences(t *testing.T) {
	f := loadTorch(t)
	for _, c := range f.Cases {
		n, xs := netFor(t, f, c)
		l0, grads := n.BatchGrad(xs, c.Labels, 1)
		lossAt := func() float64 {
			l, _ := n.BatchGrad(xs, c.Labels, 1)
			return l
		}
		checked, total := 0, 0
		step := 1
		if testing.Short() { // node under wasm is slow: every 5th parameter
			step = 5
		}
		for pi, p := range n.Params() {
			for j := 0; j < len(p); j += step {
				w := p[j]
				const h = 2.5e-4
				p[j] = w + h
				lp := lossAt()
				p[j] = w - h
				lm := lossAt()
				p[j] = w
				total++
				fwd, bwd := (lp-l0)/h, (l0-lm)/h
				if math.Abs(fwd-bwd) > 2e-3 {
					continue
				}
				checked++
				fd, g := (lp-lm)/(2*h), float64(grads[pi][j])
				if math.Abs(fd-g) > 1e-3+0.02*math.Abs(g) {
					t.Errorf("%s: param %d[%d]: gradient %.6f, finite difference %.6f", c.Conv, pi, j, g, fd)
				}
			}
		}
		if checked*10 < total*9 {
			t.Errorf("%s: only %d of %d gradients away from kinks", c.Conv, checked, total)
		}
		t.Logf("%s: %d of %d gradients checked", c.Conv, checked, total)
	}
}

func TestNewRejectsTinyInputs(t *testing.T) {
	if _, err := New(3, 4, 2, 3, 0, PadZeros, []Layer{{8, 2}, {8, 2}, {8, 2}}, 0); err == nil {
		t.Fatal("a 4x4 input through three valid stride-2 layers built a network")
	}
}
