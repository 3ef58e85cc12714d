package channels

import (
	"context"
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
)

// LayerShuffle is the PermuteNet-style test inside the encoder: the channels
// at the input of the layers that produce tap Layer are permuted (a new
// random permutation per image, or per pixel), and the trained readouts
// score the features that come out against the same readouts on the plain
// features. The encoder is frozen, so a drop says that the layers after the
// shuffle rely on channel order, not only that position went.
type LayerShuffle struct {
	Layer    string        `json:"layer"`
	Per      string        `json:"per"` // "image" or "position"
	Target   posmap.Target `json:"target"`
	Plain    float64       `json:"plain_spc"`
	Shuffled float64       `json:"shuffled_spc"`
}

// permuter returns an Options.Before that permutes the channels of tap
// layer's input with rng: one permutation per call (per image, the batch
// being one image), or one per pixel when perPixel.
func permuter(layer int, perPixel bool, rng *rand.Rand) func(int, *tensor.Dense) *tensor.Dense {
	return func(tap int, x *tensor.Dense) *tensor.Dense {
		if tap != layer {
			return x
		}
		n, c, h, w := nn.Dims4(x)
		out := nn.New(n, c, h, w)
		src, dst := nn.Data(x), nn.Data(out)
		hw := h * w
		for i := 0; i < n; i++ {
			base := i * c * hw
			if !perPixel {
				for to, from := range rng.Perm(c) {
					copy(dst[base+to*hw:base+(to+1)*hw], src[base+from*hw:base+(from+1)*hw])
				}
				continue
			}
			for p := 0; p < hw; p++ {
				for to, from := range rng.Perm(c) {
					dst[base+to*hw+p] = src[base+from*hw+p]
				}
			}
		}
		return out
	}
}

// shuffleSetup checks Config.ShuffleLayer and ShufflePer (before the study
// spends its time): the index of the tap and "image" or "position".
func shuffleSetup(c Config, opts encoder.Options) (int, string, error) {
	per := c.ShufflePer
	if per == "" {
		per = "image"
	}
	if per != "image" && per != "position" {
		return 0, "", fmt.Errorf("channels: shuffle per %q (want image or position)", per)
	}
	opts.Before = func(_ int, x *tensor.Dense) *tensor.Dense { return x }
	enc, err := encoder.New(c.Encoder, opts)
	if err != nil {
		return 0, "", fmt.Errorf("channels: shuffle before a layer: %w", err)
	}
	var names []string
	for i, t := range enc.Taps() {
		names = append(names, t.Name)
		if t.Name == c.ShuffleLayer {
			return i, per, nil
		}
	}
	return 0, "", fmt.Errorf("channels: no layer %q to shuffle before (%s has %v)", c.ShuffleLayer, c.Encoder, names)
}

// layerShuffle runs the study's photos through the encoder with Config.
// ShuffleLayer's input permuted and scores every readout on those features
// and on the plain ones (feats).
func layerShuffle(ctx context.Context, c Config, opts encoder.Options, feats [][]float32, progress Progress) ([]LayerShuffle, error) {
	layer, per, err := shuffleSetup(c, opts)
	if err != nil {
		return nil, err
	}
	o := opts
	o.Before = permuter(layer, per == "position", rand.New(rand.NewPCG(c.Seed, 0x6c61796572)))
	enc, err := encoder.New(c.Encoder, o)
	if err != nil {
		return nil, err
	}
	shuffled := make([][]float32, len(c.Photos))
	err = eachPhoto(ctx, c, "shuffle before "+c.ShuffleLayer, progress, func(i int, x *tensor.Dense) (err error) {
		shuffled[i], err = features(enc, x, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	trs, err := sortedReadouts(c)
	if err != nil {
		return nil, err
	}
	var out []LayerShuffle
	for _, tr := range trs {
		ls := LayerShuffle{Layer: c.ShuffleLayer, Per: per, Target: tr.t}
		for k, set := range [][][]float32{feats, shuffled} {
			spc, err := tr.spcs(set, nil)
			if err != nil {
				return nil, err
			}
			s := 0.0
			for _, v := range spc {
				s += v / float64(len(set))
			}
			if k == 0 {
				ls.Plain = s
			} else {
				ls.Shuffled = s
			}
		}
		out = append(out, ls)
	}
	return out, nil
}
