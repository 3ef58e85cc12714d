package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"gorgonia.org/tensor"
)

// ReadoutSeed is the seed (init and shuffling) of the readout trained for
// target t in a run seeded with seed: seed*8 + the target's index (H=0 ..
// VS=4), so the targets of one run draw different numbers and runs with
// different seeds never share one.
func ReadoutSeed(seed uint64, t posmap.Target) uint64 { return seed*8 + uint64(t) }

// StoreScore records s in a readout header's metrics under the keys
// <set>_spc, <set>_mae and <set>_n, set being the test set's name (e.g.
// bsds500).
func StoreScore(m *readout.Meta, set string, s score.Score) {
	if m.Metrics == nil {
		m.Metrics = map[string]float64{}
	}
	m.Metrics[set+"_spc"], m.Metrics[set+"_mae"], m.Metrics[set+"_n"] = s.SPC, s.MAE, float64(s.N)
}

// Eval is one readout to score on an image set.
type Eval struct {
	Name    string // what errors call it (e.g. its target)
	Readout *readout.Readout
	Taps    []int     // indices into the encoder's taps the readout reads (nil: all)
	Truth   []float32 // the ground-truth map, the readout's output size squared
	// Keep, if set, gets every prediction with the index of its image in
	// the set (from several goroutines; the slice is the caller's).
	Keep func(i int, pred []float32)
}

// SetOptions say how EvaluateSet goes through an image set.
type SetOptions struct {
	// Chunk is the number of images per encoder pass (<= 0: all): the
	// features of one chunk are all that is held at once.
	Chunk    int
	Progress func(done, total int) // images through the encoder so far
	Skip     func(error)           // each unreadable file (a *SkipError) as it is found
}

// SetResult is what EvaluateSet measured.
type SetResult struct {
	Scores         []score.Score // per Eval, merged over the chunks
	Skipped        int           // unreadable files, left out
	ExtractSeconds float64       // in the encoder and the feature preparation
	EvalSeconds    []float64     // per Eval: prediction and scoring
}

// EvaluateSet runs enc over set chunk by chunk and scores every Eval on
// each chunk's features, merging the chunks' scores (score.Merge) into the
// score of the whole set. The encoder runs once per chunk for all Evals:
// with the taps they share, or with all taps when they read different
// ones. A chunk whose files are all unreadable is skipped (reported
// through Skip); the Scores of a set without a readable file have N 0.
func EvaluateSet(ctx context.Context, enc encoder.Encoder, set *Images, evals []Eval, o SetOptions) (*SetResult, error) {
	if len(evals) == 0 {
		return nil, errors.New("probe: no readout to evaluate")
	}
	size, sel, same := evals[0].Readout.Config.Size, evals[0].Taps, true
	for _, e := range evals[1:] {
		if e.Readout.Config.Size != size {
			return nil, fmt.Errorf("probe: readouts read features at %d and %d: evaluate them separately", size, e.Readout.Config.Size)
		}
		same = same && slices.Equal(e.Taps, sel) && (e.Taps == nil) == (sel == nil)
	}
	if !same {
		sel = nil
	}
	n := set.Len()
	chunk := o.Chunk
	if chunk <= 0 {
		chunk = n
	}
	res := &SetResult{Scores: make([]score.Score, len(evals)), EvalSeconds: make([]float64, len(evals))}
	for lo := 0; lo < n; lo += chunk {
		part := set
		if set.Paths != nil {
			part = &Images{Name: set.Name, Paths: set.Paths[lo:min(lo+chunk, n)]}
		}
		t0 := time.Now()
		feats, skipped, err := Extract(ctx, enc, part, sel, size, func(d, _ int) {
			if o.Progress != nil {
				o.Progress(lo+d, n)
			}
		})
		kept := Kept(part.Len(), skipped)
		for _, e := range skipped {
			var se *SkipError
			if errors.As(e, &se) {
				se.Index += lo
			}
			if o.Skip != nil {
				o.Skip(e)
			}
		}
		res.Skipped += len(skipped)
		if err != nil {
			if len(skipped) == part.Len() && ctx.Err() == nil {
				continue // a chunk of unreadable files: reported above
			}
			return nil, err
		}
		res.ExtractSeconds += time.Since(t0).Seconds()
		// Evals in a row on the same taps share one selection of them; one
		// is held at a time.
		var picked *tensor.Dense
		var pickedTaps []int
		for k, e := range evals {
			t1 := time.Now()
			f := feats
			if !same {
				if picked == nil || !slices.Equal(e.Taps, pickedTaps) || (e.Taps == nil) != (pickedTaps == nil) {
					picked = nil
					if picked, err = SelectChannels(feats, enc.Taps(), e.Taps); err != nil {
						return nil, err
					}
					pickedTaps = e.Taps
				}
				f = picked
			}
			if err := res.score(k, e, f, lo, kept); err != nil {
				return nil, err
			}
			res.EvalSeconds[k] += time.Since(t1).Seconds()
		}
	}
	return res, nil
}

// score adds Eval k's score on the features f of the chunk starting at lo
// (kept: the indices in the chunk of its readable images).
func (res *SetResult) score(k int, e Eval, f *tensor.Dense, lo int, kept []int) error {
	var keep func(int, []float32)
	if e.Keep != nil {
		keep = func(i int, p []float32) { e.Keep(lo+kept[i], p) }
	}
	sc, err := EvaluateEach(e.Readout, f, e.Truth, keep)
	if err != nil {
		return fmt.Errorf("%s: %w", e.Name, err)
	}
	res.Scores[k] = score.Merge(res.Scores[k], sc)
	return nil
}
