package probe

import (
	"errors"
	"math"
	"slices"
	"sort"
	"sync"

	"gonum.org/v1/gonum/stat"
	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/metric"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	coreprobe "github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/wasm/demo"
)

// ChannelRank is one encoder channel and how much position it carries:
// the Spearman correlation of its mean map (over the ranking inputs) with
// the H, V or G map, whichever is largest in magnitude.
type ChannelRank struct {
	Tap    int    // index into the encoder's taps
	Name   string // the tap's name
	Index  int    // channel within the tap
	Score  float64
	Target posmap.Target
}

// channels is the ranking state of a Predictor.
type channels struct {
	mu     sync.Mutex
	read   []int // taps the readouts read (the channels that are ranked)
	ranked []ChannelRank
	done   bool
}

// readTaps records the taps readout r reads, once each.
func (c *channels) readTaps(names []string, r *readout.Readout) {
	idx, err := readout.SelectTaps(names, r.Config.Taps)
	if err != nil {
		return // Add has failed already
	}
	for _, i := range idx {
		if !slices.Contains(c.read, i) {
			c.read = append(c.read, i)
		}
	}
	slices.Sort(c.read)
}

var _ demo.ChannelPredictor = (*Predictor)(nil)

// ChannelsRanked reports whether RankChannels has run.
func (p *Predictor) ChannelsRanked() bool {
	p.ch.mu.Lock()
	defer p.ch.mu.Unlock()
	return p.ch.done
}

// RankChannels ranks the channels of the taps the readouts read by the
// |Spearman| of their mean map over the inputs xs with H, V and G: a
// channel whose map, averaged over different content, still orders its
// pixels like a position map carries position.
func (p *Predictor) RankChannels(xs [][]float32) error {
	if len(xs) == 0 {
		return errors.New("no inputs to rank channels on")
	}
	enc := p.Encoder()
	var names []string
	for _, t := range enc.Taps() {
		names = append(names, t.Name)
	}
	means := make([]*tensor.Dense, len(names))
	for _, x := range xs {
		taps, err := enc.Forward(nn.FromData(x, 1, 3, coreprobe.InputSize, coreprobe.InputSize))
		if err != nil {
			return err
		}
		for _, j := range p.ch.read {
			d := nn.Data(taps[j])
			if means[j] == nil {
				means[j] = nn.New(taps[j].Shape()...)
			}
			m := nn.Data(means[j])
			for i, v := range d {
				m[i] += v / float32(len(xs))
			}
		}
		p.Recycle(x, taps)
	}
	ranked := RankMeans(names, p.ch.read, means)
	p.ch.mu.Lock()
	p.ch.ranked, p.ch.done = ranked, true
	p.ch.mu.Unlock()
	return nil
}

// RankMeans scores every channel of the taps sel (square maps of one image
// each, [1,C,h,w]) against H, V and G at the tap's own resolution and
// returns them highest |score| first.
func RankMeans(names []string, sel []int, means []*tensor.Dense) []ChannelRank {
	targets := []posmap.Target{posmap.H, posmap.V, posmap.G}
	truth := map[int][][]float64{} // ranks of the targets' maps, by size
	var out []ChannelRank
	for _, j := range sel {
		if means[j] == nil {
			continue
		}
		_, c, h, w := nn.Dims4(means[j])
		if h != w || h < 2 {
			continue
		}
		if truth[h] == nil {
			for _, t := range targets {
				truth[h] = append(truth[h], metric.Ranks(posmap.Map(t, h, posmap.Options{})))
			}
		}
		d := nn.Data(means[j])
		for ch := 0; ch < c; ch++ {
			m := d[ch*h*w : (ch+1)*h*w]
			r := ChannelRank{Tap: j, Name: names[j], Index: ch}
			if !metric.Finite(m) {
				continue
			}
			// Spearman: Pearson correlation of the ranks, the channel's
			// ranked once for the three targets (a constant map gives NaN).
			ranks := metric.Ranks(m)
			for ti, t := range targets {
				if s := stat.Correlation(ranks, truth[h][ti], nil); !math.IsNaN(s) && math.Abs(s) > math.Abs(r.Score) {
					r.Score, r.Target = s, t
				}
			}
			if r.Score != 0 { // correlated with a target
				out = append(out, r)
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return math.Abs(out[a].Score) > math.Abs(out[b].Score) })
	return out
}

// TopChannels returns the k top-ranked channels (fewer if there are not).
func (p *Predictor) TopChannels(k int) []ChannelRank {
	p.ch.mu.Lock()
	defer p.ch.mu.Unlock()
	return slices.Clone(p.ch.ranked[:min(k, len(p.ch.ranked))])
}

// PredictChannels is Predict that also copies the maps of the k top
// channels on x (ranked by RankChannels; none before), each normalised to
// [0,1].
func (p *Predictor) PredictChannels(x []float32, k int) (map[string][]float32, []demo.ChannelMap, error) {
	taps, err := p.Encoder().Forward(nn.FromData(x, 1, 3, coreprobe.InputSize, coreprobe.InputSize))
	if err != nil {
		return nil, nil, err
	}
	out, err := p.PredictTaps(taps)
	var maps []demo.ChannelMap
	if err == nil {
		for _, r := range p.TopChannels(k) {
			_, _, h, w := nn.Dims4(taps[r.Tap])
			m := slices.Clone(nn.Data(taps[r.Tap])[r.Index*h*w : (r.Index+1)*h*w])
			demo.Normalize(m)
			maps = append(maps, demo.ChannelMap{Tap: r.Name, Index: r.Index, Score: r.Score, Target: r.Target, Size: h, Map: m})
		}
	}
	p.Recycle(x, taps)
	return out, maps, err
}
