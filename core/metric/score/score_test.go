package score

import (
	"encoding/json"
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// describe returns the score of per-image values spc and mae computed
// over the whole set at once (gonum's two-pass mean and variance).
func describe(spc, mae []float64) Score {
	var s Score
	var v float64
	s.SPC, v = stat.PopMeanVariance(spc, nil)
	s.SPCStd = math.Sqrt(v)
	s.MAE, v = stat.PopMeanVariance(mae, nil)
	s.MAEStd = math.Sqrt(v)
	s.N = len(spc)
	return s
}

// Merging the scores of two parts of a set gives the score of the whole.
func TestMerge(t *testing.T) {
	spc := []float64{0.9, 0.1, 0.5, 0.7, 0.2, 0.95, 0.3}
	mae := []float64{0.1, 0.3, 0.2, 0.15, 0.25, 0.05, 0.22}
	whole := describe(spc, mae)
	for cut := 1; cut < len(spc); cut++ {
		a, b := describe(spc[:cut], mae[:cut]), describe(spc[cut:], mae[cut:])
		a.Constant, b.Constant, a.NonFinite, b.NonFinite = 1, 2, 3, 0
		m := Merge(a, b)
		if m.N != whole.N || m.Constant != 3 || m.NonFinite != 3 || math.Abs(m.SPC-whole.SPC) > 1e-12 || math.Abs(m.MAE-whole.MAE) > 1e-12 ||
			math.Abs(m.SPCStd-whole.SPCStd) > 1e-9 || math.Abs(m.MAEStd-whole.MAEStd) > 1e-9 {
			t.Errorf("cut %d: merged %+v, whole %+v", cut, m, whole)
		}
	}
	if m := Merge(Score{}, whole); m.N != whole.N || m.SPC != whole.SPC || m.MAE != whole.MAE ||
		math.Abs(m.SPCStd-whole.SPCStd) > 1e-12 || math.Abs(m.MAEStd-whole.MAEStd) > 1e-12 {
		t.Errorf("merged with nothing: %+v, want %+v", m, whole)
	}
	if m := Merge(Score{}, Score{}); m != (Score{}) {
		t.Errorf("nothing merged: %+v", m)
	}
}

// The JSON is the cell of results.json: spc, mae, spc_std, n_images and
// constant when there were any; never MAEStd or NonFinite.
func TestJSON(t *testing.T) {
	for _, tc := range []struct {
		s    Score
		want string
	}{
		{Score{SPC: 0.5, MAE: 0.25, SPCStd: 0.125, MAEStd: 0.1, N: 500, NonFinite: 2}, `{"spc":0.5,"mae":0.25,"spc_std":0.125,"n_images":500}`},
		{Score{SPC: 0, MAE: 0.2511, N: 1, Constant: 1}, `{"spc":0,"mae":0.2511,"spc_std":0,"n_images":1,"constant":1}`},
	} {
		b, err := json.Marshal(tc.s)
		if err != nil || string(b) != tc.want {
			t.Errorf("%+v: %s %v, want %s", tc.s, b, err, tc.want)
		}
	}
}
