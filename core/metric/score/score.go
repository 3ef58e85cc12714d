// Package score is the finished score of predicted position maps: one
// prediction's, or the means over an image set. Package metric computes
// it; the runner, the CLI and the demo pass it on. It is a package of its
// own, importing only math, so the demo's UI (app.wasm, which never
// ranks a map) links it without metric's gonum/stat and the linear
// algebra that comes with it (3.6 MB of wasm).
package score

import "math"

// Score is SPC (Spearman rank correlation) and MAE (mean absolute error)
// of predicted maps against their ground truth: for an image set the
// means over its images, with their population stds, the number of
// images and the counts of constant and non-finite predictions. One
// prediction has N 1 and stds 0. The demo's per-crop scores fill SPC and
// MAE only (SPC NaN when it did not rank the map).
//
// Its JSON is a cell of results.json and cache/rows: MAEStd and NonFinite
// are left out, as the committed results never held them.
type Score struct {
	SPC       float64 `json:"spc"`
	MAE       float64 `json:"mae"`
	SPCStd    float64 `json:"spc_std"`
	MAEStd    float64 `json:"-"`
	N         int     `json:"n_images"`
	Constant  int     `json:"constant,omitempty"` // predictions that were constant (SPC scored 0)
	NonFinite int     `json:"-"`                  // predictions holding NaN or Inf (SPC and MAE NaN)
}

// Merge returns the score of the union of the image sets of a and b (means
// weighted by N, population stds pooled), so a test set scored in chunks
// gets the score of the whole.
func Merge(a, b Score) Score {
	n := a.N + b.N
	if n == 0 {
		return Score{}
	}
	wa, wb := float64(a.N)/float64(n), float64(b.N)/float64(n)
	pool := func(ma, sa, mb, sb float64) (float64, float64) {
		m := wa*ma + wb*mb
		sq := wa*(sa*sa+ma*ma) + wb*(sb*sb+mb*mb)
		return m, math.Sqrt(max(sq-m*m, 0))
	}
	var s Score
	s.SPC, s.SPCStd = pool(a.SPC, a.SPCStd, b.SPC, b.SPCStd)
	s.MAE, s.MAEStd = pool(a.MAE, a.MAEStd, b.MAE, b.MAEStd)
	s.N, s.Constant, s.NonFinite = n, a.Constant+b.Constant, a.NonFinite+b.NonFinite
	return s
}
