// Package channels asks which channels of a frozen encoder carry position
// (Islam, Kowal et al., ICCV 2021, "Global Pooling, More than Meets the
// Eye"; code islamamirul/PermuteNet). It ranks the readout's input channels
// two ways — the paper's flipped-kernel difference and a per-channel
// Spearman correlation with the H/V/G maps — and zeroes the top-k channels
// of either ranking, against k random ones, under a trained readout.
package channels

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/metric"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/weights"
)

// Config is one channels study.
type Config struct {
	Encoder       string
	Init          encoder.Init
	Padding       nn.PadMode
	Photos        []string
	Readouts      map[string]*readout.Readout // by target (H, V, G); trained on this encoder
	TrainEpochs   int                         // without Readouts: train H, V, G readouts on the study's photos (quick runs)
	ShuffleTrain  []string                    // PermuteNet-style test: readouts trained on these photos' features
	ShuffleEpochs int                         // with each image's channels shuffled, and without
	ShuffleLayer  string                      // PermuteNet-style: permute the input channels of this tap's layers (squeezenet1.1)
	ShufflePer    string                      // "image" (default: one permutation per image) or "position" (per pixel)
	Ks            []int                       // channels zeroed
	RandomRepeats int
	Seed          uint64
	Width         int
	DataDir       string
}

// Ranked is one channel with its scores.
type Ranked struct {
	Tap     string  `json:"tap"`
	Index   int     `json:"index"` // within the tap
	Channel int     `json:"channel"`
	Flip    float64 `json:"flip"`     // mean |latent - latent of the flipped net|
	SPC     float64 `json:"spc"`      // max over H, V, G of |mean per-image Spearman|
	Target  string  `json:"spc_with"` // which map gave SPC
}

// Curve is a readout's SPC as k channels are zeroed.
type Curve struct {
	Target posmap.Target `json:"target"`
	Rank   string        `json:"ranking"` // flip, spc or random (mean over repeats)
	K      []int         `json:"k"`
	SPC    []float64     `json:"spc"`
}

// Result is the whole study.
type Result struct {
	Encoder  string       `json:"encoder"`
	Init     encoder.Init `json:"init"`
	Padding  nn.PadMode   `json:"padding"`
	FlipBy   string       `json:"flip_by"` // "kernels" (weights flipped) or "input" (mirror in, mirror out)
	Photos   int          `json:"photos"`
	Channels int          `json:"channels"`
	TopFlip  []Ranked     `json:"top_flip"` // the 10 highest of each ranking
	TopSPC   []Ranked     `json:"top_spc"`
	Overlap  int          `json:"top50_overlap"` // channels in both top-50 lists
	Curves   []Curve      `json:"curves"`
	// TrainedHere: the readouts were trained on the study's own photos
	// (quick runs), not loaded.
	TrainedHere bool      `json:"readouts_trained_here"`
	Shuffle     []Shuffle `json:"shuffle,omitempty"`
	// LayerShuffle: the readouts' SPC with the channels shuffled before
	// Config.ShuffleLayer inside the encoder, and without.
	LayerShuffle []LayerShuffle `json:"layer_shuffle,omitempty"`
}

// Shuffle is the PermuteNet-style test before the readout: the same recipe
// trained and tested on plain features, and on features whose channels are
// shuffled by a new permutation for every image, so that channel identity
// means nothing and only what all channels share spatially is left.
type Shuffle struct {
	Target   posmap.Target `json:"target"`
	Plain    float64       `json:"plain_spc"`
	Shuffled float64       `json:"shuffled_spc"`
}

// shuffleTest trains a readout per target on plain and on per-image
// channel-shuffled training features and scores it on the study's photos
// treated alike.
func shuffleTest(ctx context.Context, c Config, enc encoder.Encoder, test [][]float32, C int, progress Progress) ([]Shuffle, error) {
	set := &probe.Images{Name: "shuffle", Paths: c.ShuffleTrain}
	train, _, err := probe.Extract(ctx, enc, set, nil, 28, func(done, total int) {
		if progress != nil {
			progress("shuffle features", done, total)
		}
	})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x7065726d))
	ss := 28 * 28
	shuffle := func(dst, src []float32) {
		for to, from := range rng.Perm(C) {
			copy(dst[to*ss:(to+1)*ss], src[from*ss:(from+1)*ss])
		}
	}
	nTrain := train.Shape()[0]
	strain := readout.NewFeatures(nTrain, C, 28)
	for i := 0; i < nTrain; i++ {
		shuffle(readout.Image(strain, i), readout.Image(train, i))
	}
	plainTest := readout.NewFeatures(len(test), C, 28)
	shufTest := readout.NewFeatures(len(test), C, 28)
	for i, f := range test {
		copy(readout.Image(plainTest, i), f)
		shuffle(readout.Image(shufTest, i), f)
	}
	var out []Shuffle
	for _, t := range []posmap.Target{posmap.H, posmap.G} {
		cfg := readout.DefaultConfig()
		gt := posmap.Map(t, cfg.OutSize, posmap.Options{})
		sh := Shuffle{Target: t}
		for k, pair := range [][2]*tensor.Dense{{train, plainTest}, {strain, shufTest}} {
			r, err := readout.Train(ctx, cfg, pair[0], gt, readout.TrainOptions{Epochs: c.ShuffleEpochs, Seed: c.Seed}, nil)
			if err != nil {
				return nil, err
			}
			s, err := probe.Evaluate(r, pair[1], gt)
			if err != nil {
				return nil, err
			}
			if k == 0 {
				sh.Plain = s.SPC
			} else {
				sh.Shuffled = s.SPC
			}
		}
		out = append(out, sh)
	}
	return out, nil
}

func trainReadouts(ctx context.Context, c Config, feats [][]float32, C int) (map[string]*readout.Readout, error) {
	f := readout.NewFeatures(len(feats), C, 28)
	for i, x := range feats {
		copy(readout.Image(f, i), x)
	}
	out := map[string]*readout.Readout{}
	for _, t := range []posmap.Target{posmap.H, posmap.V, posmap.G} {
		cfg := readout.DefaultConfig()
		r, err := readout.Train(ctx, cfg, f, posmap.Map(t, cfg.OutSize, posmap.Options{}),
			readout.TrainOptions{Epochs: c.TrainEpochs, Batch: min(8, len(feats)), Seed: c.Seed}, nil)
		if err != nil {
			return nil, err
		}
		out[t.String()] = r
	}
	return out, nil
}

// eachPhoto loads Config.Photos in order at the encoder's input size and
// hands each to fn, reporting progress as stage; it stops at the first error
// or when ctx is done.
func eachPhoto(ctx context.Context, c Config, stage string, progress Progress, fn func(i int, x *tensor.Dense) error) error {
	photos := &probe.Images{Name: "photos", Paths: c.Photos}
	for i := range c.Photos {
		if err := ctx.Err(); err != nil {
			return err
		}
		x, err := photos.Load(i)
		if err != nil {
			return err
		}
		if err := fn(i, x); err != nil {
			return err
		}
		if progress != nil {
			progress(stage, i+1, len(c.Photos))
		}
	}
	return nil
}

// targetReadout is one of Config.Readouts with its ground-truth map.
type targetReadout struct {
	name string
	t    posmap.Target
	r    *readout.Readout
	gt   *metric.Ranked
}

// sortedReadouts returns Config.Readouts in order of their target names.
func sortedReadouts(c Config) ([]targetReadout, error) {
	var out []targetReadout
	for _, tn := range slices.Sorted(maps.Keys(c.Readouts)) {
		t, err := posmap.ParseTarget(tn)
		if err != nil {
			return nil, err
		}
		r := c.Readouts[tn]
		out = append(out, targetReadout{name: tn, t: t, r: r, gt: metric.NewRanked(posmap.Map(t, r.Config.OutSize, posmap.Options{}))})
	}
	return out, nil
}

// spcs predicts every feature vector of feats (passed through prep first,
// when set) and returns the Spearman correlation of each with the map.
func (tr targetReadout) spcs(feats [][]float32, prep func([]float32) []float32) ([]float64, error) {
	out := make([]float64, len(feats))
	for i, f := range feats {
		if prep != nil {
			f = prep(f)
		}
		pred, err := tr.r.Predict(f)
		if err != nil {
			return nil, err
		}
		out[i] = tr.gt.Spearman(pred)
	}
	return out, nil
}

// Progress is called after every photo of a stage.
type Progress func(stage string, done, total int)

// Run computes the rankings and the ablation curves.
func Run(ctx context.Context, c Config, progress Progress) (*Result, error) {
	if len(c.Photos) == 0 || (len(c.Readouts) == 0 && c.TrainEpochs < 1) || c.RandomRepeats < 1 {
		return nil, fmt.Errorf("channels: need photos (%d), readouts (%d) and random repeats (%d)", len(c.Photos), len(c.Readouts), c.RandomRepeats)
	}
	mode := c.Padding
	opts := encoder.Options{Init: c.Init, Seed: c.Seed, Padding: mode, DataDir: c.DataDir, Width: c.Width}
	enc, err := encoder.New(c.Encoder, opts)
	if err != nil {
		return nil, err
	}
	if c.ShuffleLayer != "" {
		if _, _, err := shuffleSetup(c, opts); err != nil {
			return nil, err
		}
	}
	flipped, flipBy := flippedEncoder(c.Encoder, opts)
	var names []string
	for _, t := range enc.Taps() {
		for i := 0; i < t.Channels; i++ {
			names = append(names, fmt.Sprintf("%s\x00%d", t.Name, i))
		}
	}
	C, S := len(names), 28
	feats := make([][]float32, len(c.Photos))
	flip := make([]float64, C)
	targets := []posmap.Target{posmap.H, posmap.V, posmap.G}
	spc := make([][]float64, len(targets))
	gts := make([][]float32, len(targets))
	for ti, t := range targets {
		spc[ti] = make([]float64, C)
		gts[ti] = posmap.Map(t, S, posmap.Options{})
	}
	err = eachPhoto(ctx, c, "rank", progress, func(i int, x *tensor.Dense) error {
		f, err := features(enc, x, false)
		if err != nil {
			return err
		}
		ff, err := features(flipped, x, flipBy == "input")
		if err != nil {
			return err
		}
		if len(f) != C*S*S {
			return fmt.Errorf("channels: %d feature values, want %d", len(f), C*S*S)
		}
		feats[i] = f
		for ch := 0; ch < C; ch++ {
			a, b := f[ch*S*S:(ch+1)*S*S], ff[ch*S*S:(ch+1)*S*S]
			d := 0.0
			for j := range a {
				d += math.Abs(float64(a[j] - b[j]))
			}
			flip[ch] += d / float64(S*S) / float64(len(c.Photos))
			for ti := range targets {
				spc[ti][ch] += metric.Spearman(a, gts[ti]) / float64(len(c.Photos))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Encoder: c.Encoder, Init: c.Init, Padding: mode, FlipBy: flipBy, Photos: len(c.Photos), Channels: C}
	ranked := make([]Ranked, C)
	for ch, n := range names {
		tap, idx := splitName(n)
		r := Ranked{Tap: tap, Index: idx, Channel: ch, Flip: flip[ch]}
		for ti, t := range targets {
			if v := math.Abs(spc[ti][ch]); v > r.SPC {
				r.SPC, r.Target = v, t.String()
			}
		}
		ranked[ch] = r
	}
	byFlip := order(ranked, func(r Ranked) float64 { return r.Flip })
	bySPC := order(ranked, func(r Ranked) float64 { return r.SPC })
	for i := 0; i < min(10, C); i++ {
		res.TopFlip = append(res.TopFlip, ranked[byFlip[i]])
		res.TopSPC = append(res.TopSPC, ranked[bySPC[i]])
	}
	in := map[int]bool{}
	for _, ch := range byFlip[:min(50, C)] {
		in[ch] = true
	}
	for _, ch := range bySPC[:min(50, C)] {
		if in[ch] {
			res.Overlap++
		}
	}
	if len(c.Readouts) == 0 {
		if c.Readouts, err = trainReadouts(ctx, c, feats, C); err != nil {
			return nil, err
		}
		res.TrainedHere = true
	}
	if res.Curves, err = ablate(ctx, c, feats, C, byFlip, bySPC, progress); err != nil {
		return nil, err
	}
	if c.ShuffleLayer != "" {
		if res.LayerShuffle, err = layerShuffle(ctx, c, opts, feats, progress); err != nil {
			return nil, err
		}
	}
	if len(c.ShuffleTrain) > 0 && c.ShuffleEpochs > 0 {
		if res.Shuffle, err = shuffleTest(ctx, c, enc, feats, C, progress); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func splitName(n string) (string, int) {
	for i := len(n) - 1; i >= 0; i-- {
		if n[i] == 0 {
			var idx int
			fmt.Sscanf(n[i+1:], "%d", &idx)
			return n[:i], idx
		}
	}
	return n, 0
}

// order returns channel indices sorted by key, highest first.
func order(rs []Ranked, key func(Ranked) float64) []int {
	idx := make([]int, len(rs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return key(rs[idx[a]]) > key(rs[idx[b]]) })
	return idx
}

// flippedEncoder is the encoder with every conv kernel mirrored left-right
// (its ImageNet weights flipped on the last axis). Without a weight file
// (random init) it returns the encoder itself, to be run on the mirrored
// input with its output mirrored back, which equals flipping the kernels
// wherever the layers are mirror-symmetric.
func flippedEncoder(name string, opts encoder.Options) (encoder.Encoder, string) {
	if opts.Init != encoder.InitRandom {
		if p, err := weights.Locate(name, opts.Weights, opts.DataDir); err == nil {
			if set, err := weights.Load(p); err == nil {
				fs := weights.NewSet(set.Source + " (kernels flipped)")
				for _, n := range set.Names() {
					t := set.Tensors[n]
					d := slices.Clone(weights.Values(t))
					if t.Dims() == 4 {
						w := t.Shape()[3]
						for r := 0; r < len(d)/w; r++ {
							row := d[r*w : (r+1)*w]
							for a, b := 0, w-1; a < b; a, b = a+1, b-1 {
								row[a], row[b] = row[b], row[a]
							}
						}
					}
					fs.Add(n, nn.FromData(d, t.Shape().Clone()...))
				}
				o := opts
				o.Set = fs
				if enc, err := encoder.New(name, o); err == nil {
					return enc, "kernels"
				}
			}
		}
	}
	enc, _ := encoder.New(name, opts)
	return enc, "input"
}

func mirror(x *tensor.Dense) *tensor.Dense {
	n, c, h, w := nn.Dims4(x)
	out := nn.New(n, c, h, w)
	od, xd := nn.Data(out), nn.Data(x)
	for r := 0; r < n*c*h; r++ {
		for j := 0; j < w; j++ {
			od[r*w+j] = xd[r*w+w-1-j]
		}
	}
	return out
}

// features runs enc on x (mirrored in and out when mirrorIO) and returns the
// readout's 28x28 features.
func features(enc encoder.Encoder, x *tensor.Dense, mirrorIO bool) ([]float32, error) {
	if mirrorIO {
		x = mirror(x)
	}
	taps, err := enc.Forward(x)
	if err != nil {
		return nil, err
	}
	f, err := readout.PrepareOne(taps, 28)
	encoder.Recycle(enc, taps)
	if err != nil || !mirrorIO {
		return f, err
	}
	out := make([]float32, len(f))
	for r := 0; r < len(f)/28; r++ {
		for j := 0; j < 28; j++ {
			out[r*28+j] = f[r*28+27-j]
		}
	}
	return out, nil
}

// ablate scores each readout with the top-k channels of each ranking zeroed,
// and with k random channels (mean over RandomRepeats draws).
func ablate(ctx context.Context, c Config, feats [][]float32, C int, byFlip, bySPC []int, progress Progress) ([]Curve, error) {
	rng := rand.New(rand.NewPCG(c.Seed, 0x6368616e))
	var ks []int
	for _, k := range c.Ks {
		if k >= 0 && k <= C {
			ks = append(ks, k)
		}
	}
	var out []Curve
	trs, err := sortedReadouts(c)
	if err != nil {
		return nil, err
	}
	steps, done := len(trs)*len(ks)*(2+c.RandomRepeats), 0
	buf := make([]float32, len(feats[0]))
	for _, tr := range trs {
		tn := tr.name
		score := func(zero []int) (float64, error) {
			spc, err := tr.spcs(feats, func(f []float32) []float32 {
				copy(buf, f)
				for _, ch := range zero {
					clear(buf[ch*28*28 : (ch+1)*28*28])
				}
				return buf
			})
			s := 0.0
			for _, v := range spc {
				s += v
			}
			return s / float64(len(feats)), err
		}
		curves := []Curve{{Target: tr.t, Rank: "flip", K: ks}, {Target: tr.t, Rank: "spc", K: ks}, {Target: tr.t, Rank: "random", K: ks}}
		for _, k := range ks {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for i, ord := range [][]int{byFlip, bySPC} {
				v, err := score(ord[:k])
				if err != nil {
					return nil, err
				}
				curves[i].SPC = append(curves[i].SPC, v)
				done++
			}
			m := 0.0
			for range c.RandomRepeats {
				v, err := score(rng.Perm(C)[:k])
				if err != nil {
					return nil, err
				}
				m += v / float64(c.RandomRepeats)
				done++
			}
			curves[2].SPC = append(curves[2].SPC, m)
			if progress != nil {
				progress("ablate "+tn, done, steps)
			}
		}
		out = append(out, curves...)
	}
	return out, nil
}
