package metric

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

func TestRanksAverageTies(t *testing.T) {
	got := Ranks([]float32{10, 20, 10, 30, 20, 20})
	want := []float64{1.5, 4, 1.5, 6, 4, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Ranks = %v, want %v", got, want)
		}
	}
}

func TestSpearmanHandCases(t *testing.T) {
	cases := []struct {
		pred, gt []float32
		want     float64
	}{
		{[]float32{1, 2, 3, 4}, []float32{10, 20, 30, 40}, 1},
		{[]float32{4, 3, 2, 1}, []float32{1, 2, 3, 5}, -1},
		{[]float32{1, 2, 3, 4}, []float32{1, 100, 1000, 1e6}, 1}, // monotone, not linear
		// ranks (1,2,3,4) vs (1.5,1.5,3.5,3.5): r = 4/sqrt(5*4) = 0.894427
		{[]float32{1, 2, 3, 4}, []float32{0, 0, 1, 1}, 4 / math.Sqrt(20)},
		{[]float32{0.5, 0.5 + 5e-7, 0.5, 0.5}, []float32{1, 2, 3, 4}, 0}, // constant within 1e-6
		{[]float32{1, 2, 3, 4}, []float32{7, 7, 7, 7}, 0},
	}
	for i, c := range cases {
		if got := Spearman(c.pred, c.gt); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("case %d: Spearman = %.15f, want %.15f", i, got, c.want)
		}
	}
	// Just above the constant threshold ranks are used again.
	if got := Spearman([]float32{0.5, 0.5 + 2e-6, 0.5 + 4e-6}, []float32{1, 2, 3}); math.Abs(got-1) > 1e-12 {
		t.Errorf("range 4e-6: %v, want 1", got)
	}
}

// Against scipy.stats.spearmanr / numpy, recorded by testdata/gen/probe_metric.py.
func TestAgainstScipy(t *testing.T) {
	b, err := os.ReadFile("../../testdata/probe/metric_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name          string
		Pred, GT      []float32
		Spearman, MAE float64
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cases {
		if got := Spearman(c.Pred, c.GT); math.Abs(got-c.Spearman) > 1e-12 {
			t.Errorf("%s: Spearman %.15f, scipy %.15f", c.Name, got, c.Spearman)
		}
		if got := MAE(c.Pred, c.GT); math.Abs(got-c.MAE) > 1e-12 {
			t.Errorf("%s: MAE %.15f, numpy %.15f", c.Name, got, c.MAE)
		}
	}
}

func TestMAE(t *testing.T) {
	if got := MAE([]float32{0, 1, 0.5}, []float32{1, 1, 0}); math.Abs(got-0.5) > 1e-12 {
		t.Errorf("MAE = %v", got)
	}
}

func TestMeanStdAndScores(t *testing.T) {
	var m Mean
	if m.Mean() != 0 || m.Std() != 0 {
		t.Fatal("empty")
	}
	for _, v := range []float64{2, 4, 4, 4, 5, 5, 7, 9} {
		m.Add(v)
	}
	if m.Mean() != 5 || math.Abs(m.Std()-2) > 1e-12 || m.Min() != 2 || m.Max() != 9 || m.N != 8 {
		t.Errorf("mean %v std %v min %v max %v", m.Mean(), m.Std(), m.Min(), m.Max())
	}
	gt := []float32{0, 0.5, 1}
	r := NewRanked(gt)
	var s Scores
	s.Add(r, []float32{0.1, 0.2, 0.3})
	s.Add(r, []float32{0.4, 0.4, 0.4})
	if s.Constant != 1 || s.SPC.Mean() != 0.5 || math.Abs(s.MAE.Mean()-1.1/3) > 1e-7 {
		t.Errorf("scores: const %d spc %v mae %v", s.Constant, s.SPC.Mean(), s.MAE.Mean())
	}
	// The finished score: SPC 1 and 0 (constant), MAE 1.1/3 both.
	if got := s.Score(); got.N != 2 || got.Constant != 1 || got.NonFinite != 0 || got.SPC != 0.5 || got.SPCStd != 0.5 ||
		math.Abs(got.MAE-1.1/3) > 1e-7 || got.MAEStd > 1e-7 {
		t.Errorf("Score() = %+v", got)
	}
	if got := r.Score([]float32{0.4, 0.4, 0.4}); got.N != 1 || got.Constant != 1 || got.SPC != 0 || math.Abs(got.MAE-1.1/3) > 1e-7 || got.SPCStd != 0 {
		t.Errorf("one constant prediction: %+v", got)
	}
	if got := r.Score([]float32{0, float32(math.Inf(1)), 1}); got.NonFinite != 1 || got.Constant != 0 || !math.IsNaN(got.SPC) || !math.IsNaN(got.MAE) {
		t.Errorf("one non-finite prediction: %+v", got)
	}
}

func BenchmarkSpearman224(b *testing.B) {
	n := 224 * 224
	gt, pred := make([]float32, n), make([]float32, n)
	for i := range gt {
		gt[i] = float32(i%224) / 223
		pred[i] = float32(math.Sin(float64(i)))
	}
	r := NewRanked(gt)
	for b.Loop() {
		r.Spearman(pred)
	}
}

// TestNonFiniteMapsScoreNaN: a map holding NaN or Inf never gets a number
// (before, NaNs ranked in index order gave SPC 1 for an H map).
func TestNonFiniteMapsScoreNaN(t *testing.T) {
	gt := []float32{0, 0.25, 0.5, 0.75, 1}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, pred := range [][]float32{
		{nan, nan, nan, nan, nan},
		{0, 0.25, nan, 0.75, 1},
		{0, 0.25, inf, 0.75, 1},
		{-inf, 0.25, 0.5, 0.75, 1},
	} {
		if v := Spearman(pred, gt); !math.IsNaN(v) {
			t.Errorf("Spearman(%v) = %v, want NaN", pred, v)
		}
		if v := MAE(pred, gt); !math.IsNaN(v) {
			t.Errorf("MAE(%v) = %v, want NaN", pred, v)
		}
		var s Scores
		s.Add(NewRanked(gt), gt)
		s.Add(NewRanked(gt), pred)
		if s.NonFinite != 1 || !math.IsNaN(s.SPC.Mean()) || !math.IsNaN(s.MAE.Mean()) || !math.IsNaN(s.SPC.Std()) {
			t.Errorf("%v: scores %+v, want NaN means and 1 non-finite", pred, s)
		}
	}
}

// TestMeanStdStable: gonum's two-pass variance keeps the std of values
// with a large common offset, where the sum of squares loses it all.
func TestMeanStdStable(t *testing.T) {
	var m Mean
	for _, v := range []float64{1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4} {
		m.Add(v)
	}
	if want := math.Sqrt(1.25); math.Abs(m.Std()-want) > 1e-6 || m.Mean() != 1e9+2.5 {
		t.Errorf("mean %v std %v, want 1e9+2.5 and %v", m.Mean(), m.Std(), want)
	}
	var e Mean
	if e.Mean() != 0 || e.Std() != 0 {
		t.Error("empty mean not 0")
	}
}
