// Package metric scores predicted position maps against ground truth:
// Spearman rank correlation (SPC) and mean absolute error (MAE) per image,
// and means over a test set.
package metric

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/stat"

	"github.com/posprobe/posprobe/core/metric/score"
)

// ConstTol is the value range at or below which a map counts as constant:
// its SPC is 0 (undefined otherwise; float rounding of a constant readout
// spreads it by ~1e-7, whose ranks would give spurious correlations).
const ConstTol = 1e-6

// Ranks returns the 1-based ranks of v, ties getting their average rank
// (scipy.stats.rankdata "average"). -0 and +0 tie; each NaN gets a rank of
// its own (after every number when its sign bit is clear, before every
// number when set).
//
// The order comes from an LSD radix sort of the values' bits (three 11-bit
// digits of an order-preserving uint32 key), O(n) instead of the O(n log n)
// comparisons of a sort: the demo ranks a 224x224 map per prediction, in
// one wasm thread. Which of two equal values comes first does not change
// any rank (ties share their average).
func Ranks(v []float32) []float64 {
	r := make([]float64, len(v))
	s := scratchPool.Get().(*rankScratch)
	ranksInto(r, v, s)
	scratchPool.Put(s)
	return r
}

// ranksInto writes the ranks of v into r (len(v) values), sorting in s.
func ranksInto(r []float64, v []float32, s *rankScratch) {
	n := len(v)
	if n == 0 {
		return
	}
	if cap(s.kv) < 2*n {
		s.kv = make([]uint64, 2*n)
	}
	kv := sortedIndex(v, s)
	for i := 0; i < n; {
		// Equal keys are equal values (or -0 and +0), unless NaN.
		j := i + 1
		if k := kv[i] >> 32; !nanKey(uint32(k)) {
			for j < n && kv[j]>>32 == k {
				j++
			}
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1..j
		for _, x := range kv[i:j] {
			r[uint32(x)] = avg
		}
		i = j
	}
}

// nanKey reports whether k is the floatKey of a NaN: above +Inf's key
// (sign bit clear) or below -Inf's (set).
func nanKey(k uint32) bool { return k > 0xff800000 || k < 0x007fffff }

// rankScratch is the radix sort's memory (2n keys with their indices),
// reused across calls: the demo ranks a 224x224 map per prediction.
type rankScratch struct {
	kv []uint64
	r  []float64 // Ranked.Spearman's ranks of the prediction
}

var scratchPool = sync.Pool{New: func() any { return new(rankScratch) }}

// floatKey maps a float32 to a uint32 with the same order (-0 and +0 to the
// same key): negative values have all bits flipped, others the sign bit set.
func floatKey(f float32) uint32 {
	if f == 0 {
		f = 0 // +0 for -0
	}
	u := math.Float32bits(f)
	return u ^ (uint32(int32(u)>>31) | 0x80000000)
}

const (
	radixBits = 11
	radixSize = 1 << radixBits
	radixMask = radixSize - 1
)

// sortedIndex returns v's keys and indices ordered by key (stable), as
// key<<32 | index, by three counting-sort passes of 11 bits (32 bits in all;
// the top digit has 10 bits), in s's memory: one array moved per pass.
func sortedIndex(v []float32, s *rankScratch) []uint64 {
	n := len(v)
	p0, p1 := s.kv[:n], s.kv[n:2*n]
	var hist [3][radixSize]int32
	for i, f := range v {
		k := floatKey(f)
		p0[i] = uint64(k)<<32 | uint64(i)
		hist[0][k&radixMask]++
		hist[1][k>>radixBits&radixMask]++
		hist[2][k>>(2*radixBits)]++
	}
	for d := 0; d < 3; d++ {
		h := &hist[d]
		shift := uint(32 + d*radixBits)
		// Skip a digit that is the same for every value.
		if h[p0[0]>>shift&radixMask] == int32(n) {
			continue
		}
		sum := int32(0)
		for b, c := range h {
			h[b] = sum
			sum += c
		}
		for _, x := range p0 {
			b := x >> shift & radixMask
			q := h[b]
			h[b] = q + 1
			p1[q] = x
		}
		p0, p1 = p1, p0
	}
	return p0
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
	gt     []float32
	ranks  []float64
	flat   bool
	finite bool // gt holds no NaN or Inf
}

// NewRanked ranks gt once.
func NewRanked(gt []float32) *Ranked {
	return &Ranked{gt: gt, ranks: Ranks(gt), flat: isConst(gt), finite: Finite(gt)}
}

// Spearman is Spearman(pred, gt) with the ranks of gt reused. A map with a
// NaN or infinite value scores NaN: ranks would order NaNs by index and
// report a correlation for a map that has none.
func (r *Ranked) Spearman(pred []float32) float64 {
	if len(pred) != len(r.gt) {
		panic("metric.Spearman: length mismatch")
	}
	if !r.finite || !Finite(pred) {
		return math.NaN()
	}
	if r.flat || isConst(pred) {
		return 0
	}
	s := scratchPool.Get().(*rankScratch)
	defer scratchPool.Put(s)
	if cap(s.r) < len(pred) {
		s.r = make([]float64, len(pred))
	}
	ranks := s.r[:len(pred)]
	ranksInto(ranks, pred, s)
	return stat.Correlation(ranks, r.ranks, nil)
}

// MAE returns mean |pred - gt| (accumulated in float64), NaN when either
// map holds a NaN or infinite value.
func MAE(pred, gt []float32) float64 {
	if len(pred) != len(gt) {
		panic("metric.MAE: length mismatch")
	}
	s := 0.0
	for i, p := range pred {
		s += math.Abs(float64(p) - float64(gt[i]))
	}
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return math.NaN()
	}
	return s / float64(len(pred))
}

// Finite reports whether every value of v is a finite number.
func Finite(v []float32) bool {
	for _, x := range v {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// Mean accumulates per-image scores: mean and population std (ddof 0, like
// numpy's std), by gonum's two-pass stat.PopMeanVariance. A NaN score makes
// the mean and std NaN.
type Mean struct {
	N        int
	vals     []float64
	min, max float64
}

// Add adds one score.
func (m *Mean) Add(v float64) {
	if m.N == 0 {
		m.min, m.max = v, v
	}
	m.N++
	m.vals = append(m.vals, v)
	m.min, m.max = min(m.min, v), max(m.max, v)
}

// Mean returns the mean (0 when empty).
func (m *Mean) Mean() float64 {
	if m.N == 0 {
		return 0
	}
	return stat.Mean(m.vals, nil)
}

// Std returns the population standard deviation (0 when empty).
func (m *Mean) Std() float64 {
	if m.N == 0 {
		return 0
	}
	_, v := stat.PopMeanVariance(m.vals, nil)
	return math.Sqrt(max(v, 0))
}

// Min and Max return the extremes seen (0 when empty).
func (m *Mean) Min() float64 { return m.min }
func (m *Mean) Max() float64 { return m.max }

// Score scores one prediction against r's ground truth: SPC, MAE, N 1,
// and Constant or NonFinite 1 when the prediction is constant (SPC 0) or
// holds NaN or Inf (SPC and MAE NaN).
func (r *Ranked) Score(pred []float32) score.Score {
	s := score.Score{SPC: r.Spearman(pred), MAE: MAE(pred, r.gt), N: 1}
	if !Finite(pred) {
		s.NonFinite = 1
	} else if isConst(pred) {
		s.Constant = 1
	}
	return s
}

// Scores accumulates the scores of the predictions of an image set, in
// the order they are added (the order of the sums).
type Scores struct {
	SPC, MAE  Mean
	Constant  int // predictions scored 0 for being constant
	NonFinite int // predictions holding NaN or Inf, scored NaN
}

// Add scores one prediction against r's ground truth.
func (s *Scores) Add(r *Ranked, pred []float32) { s.AddScore(r.Score(pred)) }

// AddScore adds the score of one prediction (N 1, from Ranked.Score).
func (s *Scores) AddScore(p score.Score) {
	s.SPC.Add(p.SPC)
	s.MAE.Add(p.MAE)
	s.Constant += p.Constant
	s.NonFinite += p.NonFinite
}

// Score returns the set's score: means and population stds of SPC and MAE
// over the predictions added, and their counts.
func (s *Scores) Score() score.Score {
	return score.Score{SPC: s.SPC.Mean(), SPCStd: s.SPC.Std(), MAE: s.MAE.Mean(), MAEStd: s.MAE.Std(),
		N: s.SPC.N, Constant: s.Constant, NonFinite: s.NonFinite}
}
