package probe

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/readout"
)

// The predictor's maps equal each readout's own prediction on features
// that Extract prepared, whether readouts share their taps (one GEMM) or
// not, and at another feature size.
func TestPredictorMatchesReadouts(t *testing.T) {
	set, err := Folder(writePhotos(t, 2), false, 0)
	if err != nil {
		t.Fatal(err)
	}
	enc, names, all := tinyEncoder(t)
	taps := enc.Taps()
	mk := func(tapNames []string, channels, size int, seed uint64) *readout.Readout {
		cfg := readout.DefaultConfig()
		cfg.Taps, cfg.Size = tapNames, size
		r, err := readout.New(cfg, channels, seed)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	rs := map[string]*readout.Readout{
		"H":  mk(names, all, 28, 1),
		"V":  mk(names, all, 28, 2),
		"G":  mk(names[1:2], taps[1].Channels, 28, 3),
		"HS": mk(names[1:2], taps[1].Channels, 14, 4),
	}
	p := NewPredictor(enc)
	for _, tg := range []string{"H", "V", "G", "HS"} {
		if err := p.Add(tg, rs[tg]); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(p.Targets(), []string{"H", "V", "G", "HS"}) {
		t.Errorf("targets %v", p.Targets())
	}
	x, err := set.Load(0)
	if err != nil {
		t.Fatal(err)
	}
	maps, err := p.Predict(nn.Data(x))
	if err != nil {
		t.Fatal(err)
	}
	one := &Images{Name: set.Name, Paths: set.Paths[:1]}
	for tg, r := range rs {
		sel, _ := readout.SelectTaps(names, r.Config.Taps)
		f, _, err := Extract(context.Background(), enc, one, sel, r.Config.Size, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := r.Predict(readout.Image(f, 0))
		if err != nil {
			t.Fatal(err)
		}
		got := maps[tg]
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", tg, len(got), len(want))
		}
		worst := 0.0
		for i := range want {
			worst = max(worst, math.Abs(float64(got[i]-want[i])))
		}
		if worst > 1e-5 {
			t.Errorf("%s: max |predictor - readout| = %g", tg, worst)
		}
	}
	if err := p.Add("VS", mk([]string{"nope"}, 3, 28, 5)); err == nil {
		t.Error("readout on an unknown tap accepted")
	}
}
