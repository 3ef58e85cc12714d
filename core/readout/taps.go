package readout

import (
	"fmt"
	"sync"

	"github.com/posprobe/posprobe/core/gemm"
	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// tapsWork is PredictTaps's scratch memory, reused across predictions (the
// demo's worker makes one every few tens of ms; 0.8 MB for squeezenet).
type tapsWork struct {
	wr, z, feat, low, up []float32
}

var tapsPool = sync.Pool{New: func() any { return new(tapsWork) }}

// PredictTaps is PredictMany(rs, PrepareOne(taps, size)) for readouts that
// all share one GEMM (single layer, same channels, size, kernel and
// padding); it returns ok=false, doing nothing, for any other set.
//
// The resize of a tap to Size x Size is linear and the same for every
// channel, so a tap smaller than the readout's input is multiplied at its
// own resolution and the readouts' (ij,o) maps are resized instead of its
// channels: for squeezenet's 13x13 taps (1792 of 2624 channels) that is
// 4.6 times less GEMM work and 45 resized maps instead of 1792. Results
// equal PredictMany's up to float rounding (sums in another order).
func PredictTaps(rs []*Readout, taps []*tensor.Dense) (out [][]float32, ok bool, err error) {
	if len(rs) == 0 || len(taps) == 0 {
		return nil, false, nil
	}
	for _, r := range rs {
		if !stackable(rs[0], r) {
			return nil, false, nil
		}
	}
	c := 0
	for _, t := range taps {
		s := t.Shape()
		if len(s) != 4 || s[0] != 1 {
			return nil, true, fmt.Errorf("readout: tap shape %v, want [1,C,H,W]", s)
		}
		c += s[1]
	}
	r0 := rs[0]
	if c != r0.Channels {
		return nil, true, fmt.Errorf("readout: taps have %d channels, the readout wants %d", c, r0.Channels)
	}
	l := r0.layers[0]
	cv := l.conv
	size := r0.Config.Size
	ss, rows := size*size, cv.K*cv.K*cv.OutC
	m := len(rs) * rows
	tw := tapsPool.Get().(*tapsWork)
	defer tapsPool.Put(tw)
	var ws workspace
	ws.wr = grow(tw.wr, m*c)
	tw.wr = ws.wr
	for g, r := range rs {
		r.layers[0].conv.rearranged(ws.wr[g*rows*c : (g+1)*rows*c])
	}
	tw.z = grow(tw.z, m*ss)
	z := tw.z
	feat, low, up := tw.feat, tw.low, tw.up
	defer func() { tw.feat, tw.low, tw.up = feat, low, up }()
	off, first := 0, true
	for _, t := range taps {
		s := t.Shape()
		ci, h, w := s[1], s[2], s[3]
		a := ws.wr[off:]
		switch {
		case h*w < ss:
			// Multiply at the tap's resolution, then resize the m maps.
			low = grow(low, m*h*w)
			gemm.Sgemm(m, h*w, ci, a, c, nn.Data(t), h*w, low, h*w, false)
			up = grow(up, m*ss)
			nn.ResizeBilinearInto(up, nn.FromData(low, 1, m, h, w), size, size, true)
			if first {
				copy(z, up)
			} else {
				for i, v := range up {
					z[i] += v
				}
			}
		default:
			d := nn.Data(t)
			if h != size || w != size {
				feat = grow(feat, ci*ss)
				nn.ResizeBilinearInto(feat, t, size, size, true)
				d = feat
			}
			gemm.Sgemm(m, ss, ci, a, c, d, ss, z, ss, !first)
		}
		off += ci
		first = false
	}
	out = make([][]float32, len(rs))
	for g, r := range rs {
		lr := r.layers[0]
		y := make([]float32, lr.conv.OutC*lr.outH()*lr.outW())
		lr.conv.gather(z[g*rows*ss:(g+1)*rows*ss], lr.h, lr.w, y)
		r.activate(0, y)
		out[g] = r.upsample(y)
	}
	return out, true, nil
}
