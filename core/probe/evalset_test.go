package probe

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
)

// tinyEncoder is a random SqueezeNet 1.1 of base width 4 (five taps), its
// tap names and their channels in all.
func tinyEncoder(t *testing.T) (encoder.Encoder, []string, int) {
	enc, err := encoder.New("squeezenet1.1", encoder.Options{Init: encoder.InitRandom, Width: 4})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	all := 0
	for _, tp := range enc.Taps() {
		names = append(names, tp.Name)
		all += tp.Channels
	}
	return enc, names, all
}

// EvaluateSet in chunks gives the score of the whole set, hands Keep the
// set's indices of the readable photos, and counts the unreadable one once
// at its index in the set; readouts on different taps share the pass.
func TestEvaluateSetChunks(t *testing.T) {
	set, err := Folder(writePhotos(t, 11), false, 0) // 12 files, index 2 broken
	if err != nil {
		t.Fatal(err)
	}
	enc, _, all := tinyEncoder(t)
	taps := enc.Taps()
	ra, err := readout.New(readout.DefaultConfig(), all, 1)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := readout.New(readout.DefaultConfig(), taps[1].Channels, 2)
	if err != nil {
		t.Fatal(err)
	}
	gtH, gtG := posmap.Map(posmap.H, 224, posmap.Options{}), posmap.Map(posmap.G, 224, posmap.Options{})

	// The reference: every photo at once, scored directly.
	feats, _, err := Extract(context.Background(), enc, set, nil, 28, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantA, _ := Evaluate(ra, feats, gtH)
	fb, _ := SelectChannels(feats, taps, []int{1})
	wantB, _ := Evaluate(rb, fb, gtG)

	for _, chunk := range []int{0, 3, 5} {
		var mu sync.Mutex
		var kept []int
		var skipped []int
		evals := []Eval{
			{Name: "a", Readout: ra, Truth: gtH, Keep: func(i int, _ []float32) { mu.Lock(); kept = append(kept, i); mu.Unlock() }},
			{Name: "b", Readout: rb, Taps: []int{1}, Truth: gtG},
		}
		res, err := EvaluateSet(context.Background(), enc, set, evals, SetOptions{Chunk: chunk, Skip: func(e error) {
			var se *SkipError
			if errors.As(e, &se) {
				skipped = append(skipped, se.Index)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(kept)
		if want := []int{0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11}; !slices.Equal(kept, want) {
			t.Errorf("chunk %d: kept %v, want %v", chunk, kept, want)
		}
		if res.Skipped != 1 || !slices.Equal(skipped, []int{2}) {
			t.Errorf("chunk %d: skipped %d %v, want the file at index 2", chunk, res.Skipped, skipped)
		}
		for i, want := range []score.Score{wantA, wantB} {
			got := res.Scores[i]
			if got.N != 11 || math.Abs(got.SPC-want.SPC) > 1e-12 || math.Abs(got.MAE-want.MAE) > 1e-12 || math.Abs(got.SPCStd-want.SPCStd) > 1e-9 {
				t.Errorf("chunk %d eval %d: %+v, whole set %+v", chunk, i, got, want)
			}
		}
	}

	// Readouts at different feature sizes cannot share the pass.
	cfg := readout.DefaultConfig()
	cfg.Size = 14
	rc, err := readout.New(cfg, all, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EvaluateSet(context.Background(), enc, set, []Eval{{Readout: ra, Truth: gtH}, {Readout: rc, Truth: gtH}}, SetOptions{}); err == nil {
		t.Error("mixed feature sizes: no error")
	}
	if _, err := EvaluateSet(context.Background(), enc, set, nil, SetOptions{}); err == nil {
		t.Error("no readout: no error")
	}
}

func TestReadoutSeedAndStoreScore(t *testing.T) {
	if ReadoutSeed(0, posmap.H) != 0 || ReadoutSeed(2, posmap.VS) != 20 {
		t.Errorf("seeds %d %d", ReadoutSeed(0, posmap.H), ReadoutSeed(2, posmap.VS))
	}
	var m readout.Meta
	StoreScore(&m, "bsds500", score.Score{SPC: 0.5, MAE: 0.25, N: 7})
	if m.Metrics["bsds500_spc"] != 0.5 || m.Metrics["bsds500_mae"] != 0.25 || m.Metrics["bsds500_n"] != 7 || len(m.Metrics) != 3 {
		t.Errorf("metrics %v", m.Metrics)
	}
}
