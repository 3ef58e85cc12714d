package demo

import (
	"image"
	"math"

	"github.com/posprobe/posprobe/core/posmap"
)

// ChannelsShown is how many top position channels the channels view shows
// (the five-by-two grid of the small maps).
const ChannelsShown = 10

// ChannelsCaption says in one line how the channels view ranks channels.
const ChannelsCaption = "Top position channels: ranked once per model by |SPC| of each channel's mean map over 4 crops vs H, V, G"

// ChannelMap is one encoder channel of the crop, for the channels view.
type ChannelMap struct {
	Tap    string        // encoder tap (layer) name
	Index  int           // channel within the tap
	Score  float64       // its ranking score: Spearman correlation with Target (signed)
	Target posmap.Target // the position map (H, V or G) it correlates with most
	Size   int           // the map is Size×Size, the tap's own resolution
	Map    []float32     // this crop's activation, min-max normalised to [0,1]
}

// ChannelPredictor is a Predictor that can also show the channels that
// carry the most position. Ranking is done once per model (it costs a few
// encoder passes); each prediction then only copies the top maps.
type ChannelPredictor interface {
	Predictor
	// ChannelsRanked reports whether RankChannels has run.
	ChannelsRanked() bool
	// RankChannels ranks the channels on encoder inputs xs ([3,224,224]
	// each, in [0,1]).
	RankChannels(xs [][]float32) error
	// PredictChannels is Predict that also returns the maps of the k
	// top-ranked channels on x.
	PredictChannels(x []float32, k int) (map[string][]float32, []ChannelMap, error)
}

// RankCrops are the crops the channels are ranked on: four squares of
// 0.6 of the photo's short side in its corners (content varies, position
// in the crop does not, so their mean keeps what is positional).
func RankCrops(b image.Rectangle) []Crop {
	s := 0.6 * float64(min(b.Dx(), b.Dy()))
	x0, y0 := float64(b.Min.X), float64(b.Min.Y)
	x1, y1 := float64(b.Max.X)-s, float64(b.Max.Y)-s
	return []Crop{{X: x0, Y: y0, Size: s}, {X: x1, Y: y0, Size: s}, {X: x0, Y: y1, Size: s}, {X: x1, Y: y1, Size: s}}
}

// Normalize scales m to [0,1] in place by its minimum and maximum; a
// constant map becomes 0.
func Normalize(m []float32) {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range m {
		lo, hi = min(lo, v), max(hi, v)
	}
	d := hi - lo
	for i, v := range m {
		if d > 0 {
			m[i] = (v - lo) / d
		} else {
			m[i] = 0
		}
	}
}
