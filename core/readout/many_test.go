package readout

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPredictManyMatchesPredict(t *testing.T) {
	const c, size = 13, 9
	rng := rand.New(rand.NewPCG(3, 4))
	mk := func(cfg Config, seed uint64) *Readout {
		r, err := New(cfg, c, seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range r.layers { // trained-looking biases and BN statistics
			for o := range l.conv.B {
				l.conv.B[o] = float32(rng.NormFloat64() * 0.1)
				l.bn.Gamma[o] = float32(0.5 + rng.Float64())
				l.bn.Beta[o] = float32(rng.NormFloat64() * 0.2)
				l.bn.Mean[o] = float32(rng.NormFloat64() * 0.3)
				l.bn.Var[o] = float32(0.2 + rng.Float64())
			}
		}
		return r
	}
	base := Config{Kernel: 3, Pad: 0, Depth: 1, Size: size, OutSize: 20}
	padded, k1, deep, big := base, base, base, base
	padded.Pad = 1
	k1.Kernel = 1
	deep.Depth = 2
	big.OutSize = 31
	rs := []*Readout{
		mk(base, 1), mk(padded, 2), mk(base, 3), mk(k1, 4), mk(deep, 5),
		mk(base, 6), mk(big, 7), mk(padded, 8), mk(base, 9),
	}
	feat := make([]float32, c*size*size)
	for i := range feat {
		feat[i] = float32(rng.NormFloat64())
	}
	for _, set := range [][]*Readout{rs, rs[:1], rs[3:5], {rs[0], rs[2]}} {
		got, err := PredictMany(set, feat)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range set {
			want, err := r.Predict(feat)
			if err != nil {
				t.Fatal(err)
			}
			if len(got[i]) != len(want) {
				t.Fatalf("readout %d: %d values, want %d", i, len(got[i]), len(want))
			}
			for j := range want {
				if d := math.Abs(float64(got[i][j] - want[j])); d > 1e-6 {
					t.Fatalf("readout %d value %d: %v, Predict gives %v", i, j, got[i][j], want[j])
				}
			}
		}
	}
	if _, err := PredictMany(rs, feat[1:]); err == nil {
		t.Error("short features accepted")
	}
}
