// Package probe is the shared position-probe pipeline: an image set run
// through a frozen encoder into cached readout features, and a trained
// readout scored against a ground-truth map.
package probe

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/metric"
	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/readout"
)

// InputSize is the side of the encoder input.
const InputSize = 224

// SkipError is an image that could not be read; Extract leaves it out.
type SkipError struct {
	Index int
	Path  string
	Err   error
}

func (e *SkipError) Error() string {
	// imageio's errors start with the path already.
	return fmt.Sprintf("%s: skipped: %s", e.Path, strings.TrimPrefix(e.Err.Error(), e.Path+": "))
}
func (e *SkipError) Unwrap() error { return e.Err }

// Kept returns the indices of the images Extract kept, given its skipped list.
func Kept(n int, skipped []error) []int {
	bad := map[int]bool{}
	for _, e := range skipped {
		var se *SkipError
		if errors.As(e, &se) {
			bad[se.Index] = true
		}
	}
	var kept []int
	for i := 0; i < n; i++ {
		if !bad[i] {
			kept = append(kept, i)
		}
	}
	return kept
}

// Batch is the number of images per encoder pass.
const Batch = 8

// Extract runs enc over every image of set and returns the readout features
// [N, C, size, size] of the taps in sel (indices into enc.Taps(); nil means
// all). Decoding runs ahead on other goroutines while the encoder works.
// Files that cannot be decoded are left out and returned, each a
// *SkipError naming the file; it is an error when none is left. progress,
// if set, is called with the images done so far.
func Extract(ctx context.Context, enc encoder.Encoder, set *Images, sel []int, size int, progress func(done, total int)) (*tensor.Dense, []error, error) {
	taps := enc.Taps()
	if sel == nil {
		for i := range taps {
			sel = append(sel, i)
		}
	}
	c := 0
	for _, k := range sel {
		if k < 0 || k >= len(taps) {
			return nil, nil, fmt.Errorf("%s: tap index %d out of range (it has %d taps)", enc.Name(), k, len(taps))
		}
		c += taps[k].Channels
	}
	n := set.Len()
	type loaded struct {
		x   *tensor.Dense
		err error
	}
	// Decoders fill slots in parallel; the encoder consumes them in order,
	// at most 2*Batch images ahead.
	slots := make([]chan loaded, n)
	for i := range slots {
		slots[i] = make(chan loaded, 1)
	}
	ahead := make(chan struct{}, 2*Batch)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		workers := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
		var inner sync.WaitGroup
		defer inner.Wait()
		for i := 0; i < n; i++ {
			select {
			case ahead <- struct{}{}:
			case <-stop:
				return
			}
			workers <- struct{}{}
			inner.Add(1)
			go func(i int) {
				defer inner.Done()
				x, err := set.Load(i)
				slots[i] <- loaded{x, err}
				<-workers
			}(i)
		}
	}()

	feats := readout.NewFeatures(n, c, size)
	var skipped []error
	kept := 0
	per := c * size * size
	for start := 0; start < n; start += Batch {
		end := min(start+Batch, n)
		var good []*tensor.Dense
		for i := start; i < end; i++ {
			var l loaded
			select {
			case l = <-slots[i]:
			case <-ctx.Done():
				return nil, skipped, ctx.Err()
			}
			<-ahead
			if l.err != nil {
				skipped = append(skipped, &SkipError{Index: i, Path: set.Name, Err: l.err})
				if set.Paths != nil {
					skipped[len(skipped)-1].(*SkipError).Path = set.Paths[i]
				}
				continue
			}
			good = append(good, l.x)
		}
		if len(good) > 0 {
			xb := nn.New(len(good), 3, InputSize, InputSize)
			for j, x := range good {
				copy(nn.Data(xb)[j*3*InputSize*InputSize:], nn.Data(x))
			}
			out, err := enc.Forward(xb)
			if err != nil {
				return nil, skipped, fmt.Errorf("%s on %s: %w", enc.Name(), set.Name, err)
			}
			chosen := make([]*tensor.Dense, len(sel))
			for j, k := range sel {
				chosen[j] = out[k]
			}
			if _, err := readout.Prepare(nn.Data(feats)[kept*per:(kept+len(good))*per], chosen, size); err != nil {
				return nil, skipped, fmt.Errorf("%s: %w", enc.Name(), err)
			}
			// The taps are copied into the features: hand their memory back
			// for the next batch (VGG16 at batch 8: ~200 MB less garbage).
			encoder.Recycle(enc, out)
			kept += len(good)
		}
		if progress != nil {
			progress(end, n)
		}
		if err := ctx.Err(); err != nil {
			return nil, skipped, err
		}
	}
	if kept == 0 {
		return nil, skipped, fmt.Errorf("%s: no readable image (%d skipped)", set.Name, len(skipped))
	}
	return Subset(feats, kept), skipped, nil
}

// SelectChannels returns the features of the taps in sel (indices into
// taps, all of them in f, in order) as new features; nil sel returns f.
func SelectChannels(f *tensor.Dense, taps []encoder.Tap, sel []int) (*tensor.Dense, error) {
	if sel == nil {
		return f, nil
	}
	n, fc, size, err := readout.FeatureDims(f)
	if err != nil {
		return nil, err
	}
	off := make([]int, len(taps)+1)
	for i, t := range taps {
		off[i+1] = off[i] + t.Channels
	}
	if off[len(taps)] != fc {
		return nil, fmt.Errorf("features have %d channels, the taps %d", fc, off[len(taps)])
	}
	c := 0
	for _, k := range sel {
		if k < 0 || k >= len(taps) {
			return nil, fmt.Errorf("tap index %d out of range (%d taps)", k, len(taps))
		}
		c += taps[k].Channels
	}
	ss := size * size
	out := readout.NewFeatures(n, c, size)
	for i := 0; i < n; i++ {
		src, dst := readout.Image(f, i), readout.Image(out, i)
		o := 0
		for _, k := range sel {
			n := taps[k].Channels * ss
			copy(dst[o:o+n], src[off[k]*ss:off[k]*ss+n])
			o += n
		}
	}
	return out, nil
}

// Subset returns the first n images of features f [N,C,S,S] (a view
// sharing f's values); f itself when n <= 0 or n >= N.
func Subset(f *tensor.Dense, n int) *tensor.Dense {
	if n <= 0 || n >= f.Shape()[0] {
		return f
	}
	return nn.Batch(f, 0, n)
}

// Evaluate predicts every image of feats with r and scores the maps against
// gt (r's output size squared). Images are spread over the CPUs.
func Evaluate(r *readout.Readout, feats *tensor.Dense, gt []float32) (score.Score, error) {
	return EvaluateEach(r, feats, gt, nil)
}

// EvaluateEach is Evaluate that also hands each prediction to keep (from
// several goroutines; the slice is the caller's).
func EvaluateEach(r *readout.Readout, feats *tensor.Dense, gt []float32, keep func(i int, pred []float32)) (score.Score, error) {
	if feats == nil {
		return score.Score{}, fmt.Errorf("probe: no features to evaluate")
	}
	n, c, size, err := readout.FeatureDims(feats)
	if err != nil {
		return score.Score{}, err
	}
	if n == 0 {
		return score.Score{}, fmt.Errorf("probe: no features to evaluate")
	}
	if c != r.Channels || size != r.Config.Size {
		return score.Score{}, fmt.Errorf("probe: features are %d channels at %d, the readout wants %d at %d", c, size, r.Channels, r.Config.Size)
	}
	if len(gt) != r.Config.OutSize*r.Config.OutSize {
		return score.Score{}, fmt.Errorf("probe: ground truth has %d values, want %d", len(gt), r.Config.OutSize*r.Config.OutSize)
	}
	ranked := metric.NewRanked(gt)
	per := make([]score.Score, n) // summed in image order below
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < max(1, runtime.GOMAXPROCS(0)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p, err := r.Predict(readout.Image(feats, i))
				if err != nil {
					errs[i] = err
					continue
				}
				per[i] = ranked.Score(p)
				if keep != nil {
					keep(i, p)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	var s metric.Scores
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			return score.Score{}, errs[i]
		}
		s.AddScore(per[i])
	}
	return s.Score(), nil
}
