package demo

// salientBand is the top fraction of a map's range whose centroid is the
// salient point. The G target is a broad bump (sigma half the side), so a
// readout's prediction is flat near its top and its arg-max wanders; the
// centroid of the upper half is stable and unbiased for a symmetric bump.
const salientBand = 0.5

// Salient returns the salient point of a size×size map (row-major) in map
// pixel coordinates: the centroid of the pixels within the top 10% of the
// map's range, weighted by their height above that threshold. ok is false
// for a flat map (or one with NaNs), which has no peak.
func Salient(m []float32, size int) (u, v float64, ok bool) {
	if size <= 0 || len(m) != size*size {
		return 0, 0, false
	}
	lo, hi := m[0], m[0]
	for _, x := range m {
		if x != x { // NaN
			return 0, 0, false
		}
		lo, hi = min(lo, x), max(hi, x)
	}
	if hi-lo < 1e-6 {
		return 0, 0, false
	}
	thr := float64(hi) - salientBand*float64(hi-lo)
	var sw, su, sv float64
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			w := float64(m[y*size+x]) - thr
			if w <= 0 {
				continue
			}
			sw += w
			su += w * float64(x)
			sv += w * float64(y)
		}
	}
	return su / sw, sv / sw, true
}
