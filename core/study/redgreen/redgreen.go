// Package redgreen reproduces the red/green experiment of Kayhan & van
// Gemert (CVPR 2020, "On Translation Invariance in CNNs"; official code
// oskyhn/CNNs-Without-Borders, full_conv/Exp2_Red_Green): two classes that
// differ only in whether a red box sits left of a green one (class 0, upper
// half) or right of it (class 1, lower half). A 4-layer CNN with global max
// pooling is trained from scratch per convolution kind and tested on a
// Similar set (same placement) and a Dissimilar set (halves swapped): a net
// that reads absolute location from the border fails the Dissimilar set.
package redgreen

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/posprobe/posprobe/core/study/cnn"
)

// Kinds are the convolution kinds and their padding per side: valid (0),
// same-zero (1, zeros), same-circular (1, circular), full (k-1 = 2, zeros).
// The official script asks for circular padding 2, but the PyTorch releases
// of its time (1.1-1.4) padded a circular Conv2d by ((p+1)/2, p/2), i.e. 1
// per side for p = 2: a same convolution, as the paper's name S-Conv says.
var Kinds = []string{"valid", "same-zero", "same-circular", "full"}

// Paper is the reported accuracy (Similar, Dissimilar) of each kind, in %.
var Paper = map[string][2]float64{
	"valid":         {100.0, 0.2},
	"same-zero":     {99.8, 8.4},
	"same-circular": {73.7, 73.7},
	"full":          {89.7, 89.7},
}

func kindPad(kind string) (int, cnn.PadKind, error) {
	switch kind {
	case "valid":
		return 0, cnn.PadZeros, nil
	case "same-zero":
		return 1, cnn.PadZeros, nil
	case "same-circular":
		return 1, cnn.PadCircular, nil
	case "full":
		return 2, cnn.PadZeros, nil
	}
	return 0, 0, fmt.Errorf("unknown convolution %q (want valid, same-zero, same-circular or full)", kind)
}

// Config is the experiment; zero fields take the official values (Default).
type Config struct {
	Kinds               []string
	Train, Val, Test    int    // images: 2000, 1000, 1000
	Size, Box           int    // 32, 4
	Offset1, Offset2    int    // row offsets of class 0 and 1: 7, 23
	Fluctuation         int    // rows vary by +-(Size-Box)/Fluctuation: 6
	Widths              []int  // conv widths: 32, 32, 64, 64 (strides 1, 2, 2, 2)
	Epochs, Patience    int    // 50, 8 (early stop on validation loss)
	Batch               int    // 200
	Repeats             int    // seeds per kind: 10 in the paper
	Seed                uint64 // repeat r uses net seed Seed+r; data seeds are fixed per set
	LR, Rho, Eps, Decay float64
	Workers             int
}

// Default is the official setting scaled to a shared CPU: the same data,
// optimiser, batch and early stopping, but half the widths (16, 16, 32, 32
// instead of 32, 32, 64, 64), at most 30 epochs instead of 50 and 3 seeds
// instead of 10 (about 10 CPU-minutes in all).
func Default() Config {
	return Config{Kinds: Kinds, Train: 2000, Val: 1000, Test: 1000, Size: 32, Box: 4, Offset1: 7, Offset2: 23,
		Fluctuation: 6, Widths: []int{16, 16, 32, 32}, Epochs: 30, Patience: 8, Batch: 200, Repeats: 3,
		LR: 1, Rho: 0.9, Eps: 1e-6, Decay: 5e-5}
}

// Quick is a seconds-long run for tests: small sets, narrow net, few epochs.
func Quick() Config {
	c := Default()
	c.Train, c.Val, c.Test = 200, 100, 100
	c.Widths = []int{8, 8, 16, 16}
	c.Epochs, c.Batch, c.Repeats = 4, 50, 1
	return c
}

// Result is one kind on one test set over the repeats.
type Result struct {
	Conv     string    `json:"conv"`
	Test     string    `json:"test"`
	Accuracy float64   `json:"accuracy"` // mean over repeats, in [0,1]
	Std      float64   `json:"std"`      // population std over repeats
	Seeds    []float64 `json:"per_seed"`
	Paper    float64   `json:"paper"`          // reported accuracy in [0,1]
	Epochs   []int     `json:"epochs_trained"` // per repeat (early stopping)
	Best     []int     `json:"best_epoch"`     // per repeat, 1-based
	Seconds  float64   `json:"seconds"`        // training + test time of this kind
}

// Set is a labelled image set, each image [3, Size, Size].
type Set struct {
	X      [][]float32
	Labels []int
}

// Generate draws the training-style set (dissimilar=false) or its
// location-swapped twin (dissimilar=true) from seed. As in the official
// generator, even images are class 0 (red left of green, upper rows) and odd
// images class 1 (green left of red, lower rows); the Dissimilar twin moves
// both boxes 16 rows down (class 0) or up (class 1), i.e. by half of 32.
// Unlike the official code, training, validation and test sets get distinct
// seeds (its generator reseeds with 1988 for each set, which makes the
// validation set and the Similar test set copies of training images).
func Generate(c Config, n int, seed uint64, dissimilar bool) Set {
	rng := rand.New(rand.NewPCG(seed, 0x7265646772))
	off := c.Size - c.Box
	fl := off / c.Fluctuation // numpy randint(-off/f, off/f) truncates the float bounds
	shift := c.Size / 2
	s := Set{X: make([][]float32, n), Labels: make([]int, n)}
	plane := c.Size * c.Size
	for i := range n {
		im := make([]float32, 3*plane)
		cls := i % 2
		base := c.Offset1
		first, second := 0, 1 // red, green channels
		dy := shift
		if cls == 1 {
			base, first, second, dy = c.Offset2, 1, 0, -shift
		}
		if !dissimilar {
			dy = 0
		}
		x1 := rng.IntN(off/2 - c.Box)
		y1 := base - fl + rng.IntN(2*fl)
		var x2, y2 int
		for {
			x2 = x1 + rng.IntN(off-x1)
			y2 = base - fl + rng.IntN(2*fl)
			if abs(x1-x2) >= c.Box+1 {
				break
			}
		}
		box(im[first*plane:], c.Size, c.Box, x1, y1+dy)
		box(im[second*plane:], c.Size, c.Box, x2, y2+dy)
		s.X[i], s.Labels[i] = im, cls
	}
	return s
}

func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

func box(p []float32, size, b, x, y int) {
	for r := y; r < y+b; r++ {
		if r < 0 || r >= size {
			continue
		}
		for q := x; q < x+b && q < size; q++ {
			p[r*size+q] = 1
		}
	}
}

// Progress is called after every epoch.
type Progress func(kind string, repeat, epoch int)

// Run trains and tests every kind; results come as (kind, similar),
// (kind, dissimilar) pairs in Kinds order.
func Run(ctx context.Context, c Config, progress Progress) ([]Result, error) {
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	train := Generate(c, c.Train, 1, false)
	val := Generate(c, c.Val, 2, false)
	sim := Generate(c, c.Test, 3, false)
	dis := Generate(c, c.Test, 3, true)
	var out []Result
	for _, kind := range c.Kinds {
		start := time.Now()
		rs := Result{Conv: kind, Test: "similar", Paper: Paper[kind][0] / 100}
		rd := Result{Conv: kind, Test: "dissimilar", Paper: Paper[kind][1] / 100}
		for r := range c.Repeats {
			net, ep, best, err := trainOne(ctx, c, kind, c.Seed+uint64(r), train, val, progress, r)
			if err != nil {
				return out, err
			}
			rs.Seeds = append(rs.Seeds, accuracy(net, sim, c.Workers))
			rd.Seeds = append(rd.Seeds, accuracy(net, dis, c.Workers))
			rs.Epochs, rd.Epochs = append(rs.Epochs, ep), append(rd.Epochs, ep)
			rs.Best, rd.Best = append(rs.Best, best), append(rd.Best, best)
		}
		rs.Accuracy, rs.Std = meanStd(rs.Seeds)
		rd.Accuracy, rd.Std = meanStd(rd.Seeds)
		rs.Seconds = time.Since(start).Seconds()
		rd.Seconds = rs.Seconds
		out = append(out, rs, rd)
	}
	return out, nil
}

func (c Config) check() error {
	for _, k := range c.Kinds {
		if _, _, err := kindPad(k); err != nil {
			return err
		}
	}
	switch {
	case len(c.Kinds) == 0:
		return fmt.Errorf("redgreen: no convolution kinds")
	case c.Train < 2 || c.Val < 2 || c.Test < 2:
		return fmt.Errorf("redgreen: need at least 2 images per set (train %d, val %d, test %d)", c.Train, c.Val, c.Test)
	case c.Size < 16 || c.Box < 1 || c.Fluctuation < 1 || (c.Size-c.Box)/2-c.Box < 1 || (c.Size-c.Box)/c.Fluctuation < 1:
		return fmt.Errorf("redgreen: image size %d, box %d and fluctuation %d leave no room for the boxes", c.Size, c.Box, c.Fluctuation)
	case c.Offset1 < 0 || c.Offset2 < 0 || c.Offset1+c.Box > c.Size || c.Offset2+c.Box > c.Size:
		return fmt.Errorf("redgreen: offsets %d, %d outside the %d-pixel image", c.Offset1, c.Offset2, c.Size)
	case len(c.Widths) == 0 || c.Epochs < 1 || c.Batch < 1 || c.Repeats < 1:
		return fmt.Errorf("redgreen: bad recipe (widths %v, epochs %d, batch %d, repeats %d)", c.Widths, c.Epochs, c.Batch, c.Repeats)
	}
	return nil
}

func meanStd(v []float64) (float64, float64) {
	m := 0.0
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	s := 0.0
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(v)))
}

func accuracy(n *cnn.Net, s Set, workers int) float64 {
	pred, _ := n.Predict(s.X, nil, workers)
	ok := 0
	for i, p := range pred {
		if p == s.Labels[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(pred))
}

// trainOne follows the official loop: Adadelta, batches in set order (the
// official DataLoader does not shuffle), the validation loss after every
// epoch, the best model kept, and a stop once the loss has not improved for
// Patience+1 epochs. It returns the best net, the epochs run and the best
// epoch.
func trainOne(ctx context.Context, c Config, kind string, seed uint64, train, val Set, progress Progress, repeat int) (*cnn.Net, int, int, error) {
	pad, mode, _ := kindPad(kind)
	var layers []cnn.Layer
	for i, w := range c.Widths {
		layers = append(layers, cnn.Layer{OutC: w, Stride: map[bool]int{true: 1, false: 2}[i == 0]})
	}
	net, err := cnn.New(3, c.Size, 2, 3, pad, mode, layers, seed)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("redgreen %s: %w", kind, err)
	}
	opt := &cnn.Adadelta{LR: c.LR, Rho: c.Rho, Eps: c.Eps, WeightDecay: c.Decay}
	best, bestLoss, patience := net.Clone(), math.Inf(1), 0
	bestEp, ep := 0, 0
	for ep = 1; ep <= c.Epochs; ep++ {
		for lo := 0; lo < len(train.X); lo += c.Batch {
			if err := ctx.Err(); err != nil {
				return nil, ep, bestEp, err
			}
			hi := min(lo+c.Batch, len(train.X))
			loss, g := net.BatchGrad(train.X[lo:hi], train.Labels[lo:hi], c.Workers)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return nil, ep, bestEp, fmt.Errorf("redgreen %s: training diverged (loss %v) in epoch %d", kind, loss, ep)
			}
			opt.Step(net.Params(), g)
		}
		_, losses := net.Predict(val.X, val.Labels, c.Workers)
		vl := 0.0
		for _, l := range losses {
			vl += l
		}
		vl /= float64(len(losses))
		if progress != nil {
			progress(kind, repeat, ep)
		}
		if vl < bestLoss {
			best, bestLoss, bestEp, patience = net.Clone(), vl, ep, 0
		} else if patience < c.Patience {
			patience++
		} else {
			break
		}
	}
	return best, min(ep, c.Epochs), bestEp, nil
}

// CheckKind reports an unknown convolution kind.
func CheckKind(kind string) error {
	_, _, err := kindPad(kind)
	return err
}
