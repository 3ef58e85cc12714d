// Package metric scores predicted position maps against ground truth:
// Spearman rank correlation (SPC) and mean absolute error (MAE) per image,
// and means over a test set.
package metric

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// ConstTol is the value range at or below which a map counts as constant:
// its SPC is 0 (undefined otherwise; float rounding of a constant readout
// spreads it by ~1e-7, whose ranks would give spurious correlations).
const ConstTol = 1e-6

// Ranks returns the 1-based ranks of v, ties getting their average rank
// (scipy.stats.rankdata "average").
func Ranks(v []float32) []float64 {
	idx := make([]int32, len(v))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		switch va, vb := v[a], v[b]; {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return 0
	})
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1..j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

func isConst(v []float32) bool {
	if len(v) == 0 {
		return true
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return float64(hi)-float64(lo) <= ConstTol
}

// Spearman returns the Spearman correlation of pred and gt (Pearson
// correlation of average ranks), or 0 when either is constant (range <=
// ConstTol). The slices must have equal length.
func Spearman(pred, gt []float32) float64 {
	if len(pred) != len(gt) {
		panic("metric.Spearman: length mismatch")
	}
	return NewRanked(gt).Spearman(pred)
}

// Ranked holds a ground-truth map's ranks for scoring many predictions.
type Ranked struct {
	gt    []float32
	ranks []float64
	flat  bool
}

// NewRanked ranks gt once.
func NewRanked(gt []float32) *Ranked {
	return &Ranked{gt: gt, ranks: Ranks(gt), flat: isConst(gt)}
}

// Spearman is Spearman(pred, gt) with the ranks of gt reused.
func (r *Ranked) Spearman(pred []float32) float64 {
	if len(pred) != len(r.gt) {
		panic("metric.Spearman: length mismatch")
	}
	if r.flat || isConst(pred) {
		return 0
	}
	return stat.Correlation(Ranks(pred), r.ranks, nil)
}

// MAE returns mean |pred - gt| (accumulated in float64).
func MAE(pred, gt []float32) float64 {
	if len(pred) != len(gt) {
		panic("metric.MAE: length mismatch")
	}
	s := 0.0
	for i, p := range pred {
		s += math.Abs(float64(p) - float64(gt[i]))
	}
	return s / float64(len(pred))
}

// Mean accumulates per-image scores: mean and population std (ddof 0, like
// numpy's std).
type Mean struct {
	N        int
	sum, sq  float64
	min, max float64
}

// Add adds one score.
func (m *Mean) Add(v float64) {
	if m.N == 0 {
		m.min, m.max = v, v
	}
	m.N++
	m.sum += v
	m.sq += v * v
	m.min, m.max = min(m.min, v), max(m.max, v)
}

// Mean returns the mean (0 when empty).
func (m *Mean) Mean() float64 {
	if m.N == 0 {
		return 0
	}
	return m.sum / float64(m.N)
}

// Std returns the population standard deviation (0 when empty).
func (m *Mean) Std() float64 {
	if m.N == 0 {
		return 0
	}
	mu := m.Mean()
	return math.Sqrt(max(m.sq/float64(m.N)-mu*mu, 0))
}

// Min and Max return the extremes seen (0 when empty).
func (m *Mean) Min() float64 { return m.min }
func (m *Mean) Max() float64 { return m.max }

// Scores accumulates SPC and MAE over a test set.
type Scores struct {
	SPC, MAE Mean
	Constant int // predictions scored 0 for being constant
}

// Add scores one prediction against r's ground truth.
func (s *Scores) Add(r *Ranked, pred []float32) {
	if isConst(pred) {
		s.Constant++
	}
	s.SPC.Add(r.Spearman(pred))
	s.MAE.Add(MAE(pred, r.gt))
}
