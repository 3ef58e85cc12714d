package readout

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

func TestPredictTapsMatchesPrepared(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	shapes := [][3]int{{5, 28, 28}, {7, 13, 13}, {6, 27, 27}, {4, 55, 55}, {3, 111, 111}, {5, 9, 20}}
	var taps []*tensor.Dense
	c := 0
	for _, s := range shapes {
		x := make([]float32, s[0]*s[1]*s[2])
		for i := range x {
			x[i] = float32(max(rng.NormFloat64(), 0) * 3) // ReLU'd activations
		}
		taps = append(taps, nn.FromData(x, 1, s[0], s[1], s[2]))
		c += s[0]
	}
	feat, err := PrepareOne(taps, 28)
	if err != nil {
		t.Fatal(err)
	}
	for _, pad := range []int{0, 1} {
		cfg := DefaultConfig()
		cfg.Pad = pad
		var rs []*Readout
		for seed := uint64(0); seed < 5; seed++ {
			r, err := New(cfg, c, seed)
			if err != nil {
				t.Fatal(err)
			}
			r.layers[0].conv.B[0] = float32(rng.NormFloat64())
			r.layers[0].bn.Mean[0], r.layers[0].bn.Var[0] = float32(rng.NormFloat64()), float32(0.1+rng.Float64())
			rs = append(rs, r)
		}
		want, err := PredictMany(rs, feat)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := PredictTaps(rs, taps)
		if !ok || err != nil {
			t.Fatalf("PredictTaps: ok %v, %v", ok, err)
		}
		worst := 0.0
		for i := range want {
			for j := range want[i] {
				worst = max(worst, math.Abs(float64(got[i][j]-want[i][j])))
			}
		}
		t.Logf("pad %d: largest difference %.3g", pad, worst)
		if worst > 1e-6 {
			t.Errorf("pad %d: PredictTaps differs from PredictMany on prepared features by %g", pad, worst)
		}
	}
	// Readouts that do not share a GEMM are left to PredictMany.
	deep := DefaultConfig()
	deep.Depth = 2
	r2, _ := New(deep, c, 1)
	if _, ok, _ := PredictTaps([]*Readout{r2}, taps); ok {
		t.Error("a two-layer readout was taken")
	}
	if _, _, err := PredictTaps([]*Readout{mustNew(t, c+1)}, taps); err == nil {
		t.Error("taps with the wrong channel count accepted")
	}
}

func mustNew(t *testing.T, c int) *Readout {
	r, err := New(DefaultConfig(), c, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
