package readout

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// The cached readout inputs of N images ("features") are a float32
// *tensor.Dense [N, C, Size, Size]: NewFeatures makes one, FeatureDims
// checks one, Image(f, i) is image i's values [C, Size, Size] and
// nn.Batch(f, lo, hi) a view of images lo to hi-1.

// NewFeatures allocates features for n images.
func NewFeatures(n, c, size int) *tensor.Dense { return nn.New(n, c, size, size) }

// FeatureDims returns N, C and Size of features f, or an error when f is
// not a float32 [N, C, Size, Size] tensor with its values in one run.
func FeatureDims(f *tensor.Dense) (n, c, size int, err error) {
	if f == nil {
		return 0, 0, 0, fmt.Errorf("readout: no features")
	}
	s := f.Shape()
	if len(s) != 4 || s[2] != s[3] || f.Dtype() != tensor.Float32 {
		return 0, 0, 0, fmt.Errorf("readout: features are %v %v, want float32 [N,C,Size,Size]", f.Dtype(), s)
	}
	if f.Len() > 0 && (!f.DataOrder().IsRowMajor() || f.RequiresIterator()) {
		return 0, 0, 0, fmt.Errorf("readout: features %v are not contiguous", s)
	}
	return s[0], s[1], s[2], nil
}

// Image returns image i's features [C, Size, Size] of f: its values in
// f's backing, not a copy.
func Image(f *tensor.Dense, i int) []float32 {
	s := f.Shape()
	l := s[1] * s[2] * s[3]
	return nn.Data(f)[i*l : (i+1)*l]
}

// TrainOptions is the training recipe; zero fields take the reference
// values (DefaultTrainOptions).
type TrainOptions struct {
	Epochs       int     // 15
	LR           float64 // 0.1
	LRDecayEpoch int     // 10: from this 0-based epoch on the LR is LR*LRDecay
	LRDecay      float64 // 0.1
	Batch        int     // 32 (the last partial batch is kept)
	Momentum     float64 // 0.9
	WeightDecay  float64 // 1e-4, on every parameter (BN included)
	Seed         uint64  // init and shuffling
	Workers      int     // goroutines over the images of a batch (0: GOMAXPROCS)
	// Checkpoint, if set, is called after every epoch with the readout so
	// far (BN running stats included); an error stops training.
	Checkpoint func(r *Readout, epochsDone int) error
}

// DefaultTrainOptions is the official recipe.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Epochs: 15, LR: 0.1, LRDecayEpoch: 10, LRDecay: 0.1, Batch: 32, Momentum: 0.9, WeightDecay: 1e-4}
}

// orDefault sets *v to d when it is zero (not given).
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

func (o TrainOptions) withDefaults() TrainOptions {
	d := DefaultTrainOptions()
	orDefault(&o.Epochs, d.Epochs)
	orDefault(&o.LR, d.LR)
	orDefault(&o.LRDecayEpoch, d.LRDecayEpoch)
	orDefault(&o.LRDecay, d.LRDecay)
	orDefault(&o.Batch, d.Batch)
	orDefault(&o.Momentum, d.Momentum)
	orDefault(&o.WeightDecay, d.WeightDecay)
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// Progress reports training state after each batch.
type Progress struct {
	Epoch, Epochs int     // 0-based epoch
	Step, Steps   int     // batches done in this epoch, per epoch
	Loss          float64 // mean MSE over this epoch's batches so far
	LR            float64
}

// Train fits a fresh readout (seeded by opts.Seed) to target (OutSize² values)
// on the cached features. On cancellation it returns the readout as of
// the last finished epoch (nil before the first) and ctx.Err().
func Train(ctx context.Context, cfg Config, feats *tensor.Dense, target []float32, opts TrainOptions, progress func(Progress)) (*Readout, error) {
	opts = opts.withDefaults()
	if feats == nil {
		return nil, fmt.Errorf("readout: no training features")
	}
	nImages, nc, size, err := FeatureDims(feats)
	if err != nil {
		return nil, err
	}
	if nImages == 0 {
		return nil, fmt.Errorf("readout: no training features")
	}
	if size != cfg.Size {
		return nil, fmt.Errorf("readout: features are %dx%d, config wants %dx%d", size, size, cfg.Size, cfg.Size)
	}
	if len(target) != cfg.OutSize*cfg.OutSize {
		return nil, fmt.Errorf("readout: target has %d values, want %d", len(target), cfg.OutSize*cfg.OutSize)
	}
	if opts.Batch < 1 || opts.Epochs < 0 || opts.LR < 0 {
		return nil, fmt.Errorf("readout: bad recipe (batch %d, epochs %d, lr %g)", opts.Batch, opts.Epochs, opts.LR)
	}
	r, err := New(cfg, nc, opts.Seed)
	if err != nil {
		return nil, err
	}
	// The recipe goes in before the first epoch, so checkpoints carry it.
	r.Meta.Training = TrainSummary{Epochs: opts.Epochs, LR: opts.LR, LRDecayEpoch: opts.LRDecayEpoch, LRDecay: opts.LRDecay,
		Batch: opts.Batch, Momentum: opts.Momentum, WeightDecay: opts.WeightDecay, Seed: opts.Seed, NImages: nImages}
	tr := newTrainer(r, feats, target, opts.Workers)
	rng := rand.New(rand.NewPCG(opts.Seed, 0x73687566666c65))
	steps := (nImages + opts.Batch - 1) / opts.Batch
	var last *Readout
	for ep := 0; ep < opts.Epochs; ep++ {
		lr := opts.LR
		if ep >= opts.LRDecayEpoch {
			lr *= opts.LRDecay
		}
		perm := rng.Perm(nImages)
		sum := 0.0
		for s := 0; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				return last, err
			}
			idx := perm[s*opts.Batch : min((s+1)*opts.Batch, nImages)]
			loss := tr.forwardBackward(idx)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return last, fmt.Errorf("readout: training diverged (loss %v) in epoch %d", loss, ep+1)
			}
			tr.sgd(lr, opts.Momentum, opts.WeightDecay)
			sum += loss
			if progress != nil {
				progress(Progress{Epoch: ep, Epochs: opts.Epochs, Step: s + 1, Steps: steps, Loss: sum / float64(s+1), LR: lr})
			}
		}
		r.Meta.Training.EpochsDone = ep + 1
		r.Meta.Training.FinalLoss = sum / float64(steps)
		last = r.Clone()
		if opts.Checkpoint != nil {
			if err := opts.Checkpoint(last, ep+1); err != nil {
				return last, err
			}
		}
	}
	if last == nil {
		last = r
	}
	return last, nil
}

// Clone returns a deep copy.
func (r *Readout) Clone() *Readout {
	c := &Readout{Config: r.Config, Channels: r.Channels, Meta: r.Meta}
	c.Config.Taps = append([]string(nil), r.Config.Taps...)
	for _, l := range r.layers {
		nl := *l
		nl.conv.W = append([]float32(nil), l.conv.W...)
		nl.conv.B = append([]float32(nil), l.conv.B...)
		nl.bn = bn{Gamma: append([]float32(nil), l.bn.Gamma...), Beta: append([]float32(nil), l.bn.Beta...),
			Mean: append([]float32(nil), l.bn.Mean...), Var: append([]float32(nil), l.bn.Var...)}
		c.layers = append(c.layers, &nl)
	}
	if r.Meta.Metrics != nil {
		c.Meta.Metrics = map[string]float64{}
		for k, v := range r.Meta.Metrics {
			c.Meta.Metrics[k] = v
		}
	}
	return c
}

// trainer holds the gradients, momenta and activations of one run.
type trainer struct {
	r       *Readout
	f       []float32 // the features' values, an image every fLen
	fLen    int
	target  []float32
	workers int
	ws      []workspace
	up      *upsampler

	dW, dB, dG, dBeta [][]float32 // per layer
	dWT               [][][]float32
	dBw               [][][]float32 // per worker, per layer
	params, grads     [][]float32
	mom               [][]float32
	started           bool

	z     [][]float32 // per layer: xhat after forward, [B, OutC, hw]
	act   [][]float32 // per layer >0: ReLU output feeding layer l, [B, InC, hw]
	dy    [][]float32 // per layer: gradient wrt BN output, then wrt conv output
	invSD [][]float64
	pred  [][]float32 // per worker
	tmp   [][]float32
}

func newTrainer(r *Readout, f *tensor.Dense, target []float32, workers int) *trainer {
	t := &trainer{r: r, f: nn.Data(f), fLen: r.FeatureLen(), target: target, workers: workers, ws: make([]workspace, workers)}
	t.up = newUpsampler(r.LowSize(), r.Config.OutSize)
	L := len(r.layers)
	t.dWT = make([][][]float32, workers)
	t.dBw = make([][][]float32, workers)
	for w := 0; w < workers; w++ {
		for _, l := range r.layers {
			t.dWT[w] = append(t.dWT[w], make([]float32, len(l.conv.W)))
			t.dBw[w] = append(t.dBw[w], make([]float32, l.conv.OutC))
		}
	}
	for _, l := range r.layers {
		t.dW = append(t.dW, make([]float32, len(l.conv.W)))
		t.dB = append(t.dB, make([]float32, l.conv.OutC))
		t.dG = append(t.dG, make([]float32, l.conv.OutC))
		t.dBeta = append(t.dBeta, make([]float32, l.conv.OutC))
	}
	for i, l := range r.layers {
		t.params = append(t.params, l.conv.W, l.conv.B, l.bn.Gamma, l.bn.Beta)
		t.grads = append(t.grads, t.dW[i], t.dB[i], t.dG[i], t.dBeta[i])
	}
	for _, p := range t.params {
		t.mom = append(t.mom, make([]float32, len(p)))
	}
	t.z = make([][]float32, L)
	t.act = make([][]float32, L)
	t.dy = make([][]float32, L)
	t.invSD = make([][]float64, L)
	os := r.Config.OutSize
	for w := 0; w < workers; w++ {
		t.pred = append(t.pred, make([]float32, 2*os*os))
		t.tmp = append(t.tmp, make([]float32, r.LowSize()*os))
	}
	return t
}

// parallel runs fn(worker, i) for i in [0,n) on t.workers goroutines.
func (t *trainer) parallel(n int, fn func(w, i int)) {
	if t.workers == 1 || n == 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < min(t.workers, n); w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				fn(w, i)
			}
		}(w)
	}
	wg.Wait()
}

// forwardBackward runs the batch idx in training mode (batch statistics,
// running statistics updated), leaves the mean-MSE gradients in t.grads
// and returns the loss.
func (t *trainer) forwardBackward(idx []int) float64 {
	for li := range t.r.layers {
		t.forwardLayer(idx, li)
	}
	loss := t.lossGrad(len(idx))
	for w := range t.dWT {
		for li := range t.r.layers {
			clear(t.dWT[w][li])
			clear(t.dBw[w][li])
		}
	}
	for li := len(t.r.layers) - 1; li >= 0; li-- {
		t.backwardLayer(idx, li)
	}
	return loss
}

// input is the input of layer l for image b of the batch idx: the features,
// or the previous layer's ReLU output.
func (t *trainer) input(idx []int, l, b int) []float32 {
	if l == 0 {
		i := idx[b]
		return t.f[i*t.fLen : (i+1)*t.fLen]
	}
	n := t.r.layers[l].conv.InC * t.r.layers[l].h * t.r.layers[l].w
	return t.act[l][b*n : (b+1)*n]
}

// forwardLayer runs layer li's conv on the batch, then batch norm with
// the batch's statistics (z becomes xhat) and the layer's activation:
// ReLU into the next layer's input, or sigmoid into t.dy for the last.
func (t *trainer) forwardLayer(idx []int, li int) {
	r := t.r
	B, L := len(idx), len(r.layers)
	l := r.layers[li]
	c := &l.conv
	hw := l.outH() * l.outW()
	n := c.OutC * hw
	t.z[li] = grow(t.z[li], B*n)
	wr := c.rearranged(nil)
	t.parallel(B, func(w, b int) {
		c.forwardWr(wr, t.input(idx, li, b), l.h, l.w, t.z[li][b*n:(b+1)*n], &t.ws[w])
	})
	t.invSD[li] = make([]float64, c.OutC)
	cnt := float64(B * hw)
	var next []float32
	if li < L-1 {
		t.act[li+1] = grow(t.act[li+1], B*n)
		next = t.act[li+1]
	} else {
		next = grow(t.dy[li], B*n) // sigmoid output, reused for the gradient below
		t.dy[li] = next
	}
	for o := 0; o < c.OutC; o++ {
		s, s2 := 0.0, 0.0
		for b := 0; b < B; b++ {
			for _, v := range t.z[li][b*n+o*hw : b*n+(o+1)*hw] {
				s += float64(v)
			}
		}
		mean := s / cnt
		for b := 0; b < B; b++ {
			for _, v := range t.z[li][b*n+o*hw : b*n+(o+1)*hw] {
				d := float64(v) - mean
				s2 += d * d
			}
		}
		v := s2 / cnt
		inv := 1 / math.Sqrt(v+bnEps)
		t.invSD[li][o] = inv
		unb := v
		if cnt > 1 {
			unb = s2 / (cnt - 1)
		}
		l.bn.Mean[o] = float32((1-bnMomentum)*float64(l.bn.Mean[o]) + bnMomentum*mean)
		l.bn.Var[o] = float32((1-bnMomentum)*float64(l.bn.Var[o]) + bnMomentum*unb)
		g, be := l.bn.Gamma[o], l.bn.Beta[o]
		m32, inv32 := float32(mean), float32(inv)
		for b := 0; b < B; b++ {
			zz := t.z[li][b*n+o*hw : b*n+(o+1)*hw]
			dst := next[b*n+o*hw : b*n+(o+1)*hw]
			for j, v := range zz {
				xh := (v - m32) * inv32
				zz[j] = xh
				y := g*xh + be
				if li < L-1 {
					dst[j] = max(y, 0)
				} else {
					dst[j] = sigmoid(y)
				}
			}
		}
	}
}

// lossGrad returns the batch's mean MSE against the target and leaves its
// gradient with respect to the last BN output in t.dy (over the sigmoid
// outputs that forwardLayer left there).
func (t *trainer) lossGrad(B int) float64 {
	r := t.r
	last := len(r.layers) - 1
	low := r.LowSize() * r.LowSize()
	os2 := r.Config.OutSize * r.Config.OutSize
	scale := float32(2 / float64(B*os2))
	losses := make([]float64, B)
	s := t.dy[last] // sigmoid outputs [B, low]
	t.parallel(B, func(w, b int) {
		pred, dpred := t.pred[w][:os2], t.pred[w][os2:]
		sb := s[b*low : (b+1)*low]
		t.up.forward(sb, pred, t.tmp[w])
		l := 0.0
		for j, p := range pred {
			d := p - t.target[j]
			l += float64(d) * float64(d)
			dpred[j] = scale * d
		}
		losses[b] = l
		ds := make([]float32, low)
		t.up.backward(dpred, ds, t.tmp[w])
		for j, v := range sb {
			sb[j] = ds[j] * v * (1 - v) // d loss / d (BN output)
		}
	})
	loss := 0.0
	for _, l := range losses {
		loss += l
	}
	return loss / float64(B*os2)
}

// backwardLayer takes t.dy[li] (the gradient wrt layer li's BN output)
// back through its batch norm and conv: the BN and conv gradients go to
// t.dG, t.dBeta, t.dW, t.dB, the input gradient (through the ReLU that
// made it) to t.dy[li-1].
func (t *trainer) backwardLayer(idx []int, li int) {
	B := len(idx)
	l := t.r.layers[li]
	c := &l.conv
	hw := l.outH() * l.outW()
	n := c.OutC * hw
	cnt := float32(B * hw)
	dy := t.dy[li]
	for o := 0; o < c.OutC; o++ {
		sdy, sdyx := 0.0, 0.0
		for b := 0; b < B; b++ {
			g := dy[b*n+o*hw : b*n+(o+1)*hw]
			x := t.z[li][b*n+o*hw : b*n+(o+1)*hw]
			for j, v := range g {
				sdy += float64(v)
				sdyx += float64(v) * float64(x[j])
			}
		}
		t.dG[li][o] = float32(sdyx)
		t.dBeta[li][o] = float32(sdy)
		k := l.bn.Gamma[o] * float32(t.invSD[li][o]) / cnt
		a, bb := float32(sdy), float32(sdyx)
		for b := 0; b < B; b++ {
			g := dy[b*n+o*hw : b*n+(o+1)*hw]
			x := t.z[li][b*n+o*hw : b*n+(o+1)*hw]
			for j, v := range g {
				g[j] = k * (cnt*v - a - x[j]*bb)
			}
		}
	}
	var wT []float32
	var dx []float32
	inN := c.InC * l.h * l.w
	if li > 0 {
		wT = c.transposed(nil)
		t.dy[li-1] = grow(t.dy[li-1], B*inN)
		dx = t.dy[li-1]
	}
	t.parallel(B, func(w, b int) {
		var dxb []float32
		if dx != nil {
			dxb = dx[b*inN : (b+1)*inN]
		}
		c.backward(t.input(idx, li, b), dy[b*n:(b+1)*n], l.h, l.w, t.dWT[w][li], t.dBw[w][li], wT, dxb, &t.ws[w])
		if dxb != nil { // through the ReLU that made this layer's input
			a := t.act[li][b*inN : (b+1)*inN]
			for j, v := range a {
				if v <= 0 {
					dxb[j] = 0
				}
			}
		}
	})
	clear(t.dW[li])
	clear(t.dB[li])
	for w := range t.dWT {
		c.addGradFromT(t.dW[li], t.dWT[w][li])
		for o, v := range t.dBw[w][li] {
			t.dB[li][o] += v
		}
	}
}

// sgd is torch.optim.SGD (dampening 0, no Nesterov) with weight decay on
// every parameter.
func (t *trainer) sgd(lr, momentum, wd float64) {
	lr32, m32, wd32 := float32(lr), float32(momentum), float32(wd)
	for i, p := range t.params {
		g, m := t.grads[i], t.mom[i]
		for j, v := range p {
			d := g[j] + wd32*v
			if t.started {
				m[j] = m32*m[j] + d
			} else {
				m[j] = d
			}
			p[j] = v - lr32*m[j]
		}
	}
	t.started = true
}
