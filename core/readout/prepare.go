package readout

import (
	"fmt"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// Prepare resizes every tap [N,Ci,h,w] to size x size (bilinear,
// align_corners=true, as the official readout) and concatenates them on
// channels into dst, laid out [N, sum Ci, size, size]. dst must hold
// exactly that many values; it returns the channel count.
func Prepare(dst []float32, taps []*tensor.Dense, size int) (int, error) {
	if len(taps) == 0 {
		return 0, fmt.Errorf("readout: no taps")
	}
	n := -1
	c := 0
	for i, t := range taps {
		s := t.Shape()
		if len(s) != 4 {
			return 0, fmt.Errorf("readout: tap %d has shape %v, want [N,C,H,W]", i, s)
		}
		if n >= 0 && s[0] != n {
			return 0, fmt.Errorf("readout: tap %d has batch %d, tap 0 has %d", i, s[0], n)
		}
		n = s[0]
		c += s[1]
	}
	ss := size * size
	if len(dst) != n*c*ss {
		return 0, fmt.Errorf("readout: destination holds %d values, want %d (N=%d C=%d %dx%d)", len(dst), n*c*ss, n, c, size, size)
	}
	off := 0
	for _, t := range taps {
		ci := t.Shape()[1]
		var d []float32
		if n == 1 && (t.Shape()[2] != size || t.Shape()[3] != size) {
			// One image: its channels are contiguous in dst.
			nn.ResizeBilinearInto(dst[off*ss:(off+ci)*ss], t, size, size, true)
			off += ci
			continue
		}
		if t.Shape()[2] == size && t.Shape()[3] == size {
			d = nn.Data(t)
		} else {
			d = nn.Data(nn.ResizeBilinear(t, size, size, true))
		}
		for b := 0; b < n; b++ {
			copy(dst[(b*c+off)*ss:(b*c+off+ci)*ss], d[b*ci*ss:(b+1)*ci*ss])
		}
		off += ci
	}
	return c, nil
}

// OneImageChannels checks that every tap is one image [1,C,H,W] and returns
// the features' channel count (the sum of the taps').
func OneImageChannels(taps []*tensor.Dense) (int, error) {
	c := 0
	for _, t := range taps {
		s := t.Shape()
		if len(s) != 4 || s[0] != 1 {
			return 0, fmt.Errorf("readout: tap shape %v, want [1,C,H,W]", s)
		}
		c += s[1]
	}
	return c, nil
}

// PrepareOne is Prepare for a single image: it returns [C, size, size].
func PrepareOne(taps []*tensor.Dense, size int) ([]float32, error) {
	c, err := OneImageChannels(taps)
	if err != nil {
		return nil, err
	}
	dst := make([]float32, c*size*size)
	if _, err := Prepare(dst, taps, size); err != nil {
		return nil, err
	}
	return dst, nil
}
