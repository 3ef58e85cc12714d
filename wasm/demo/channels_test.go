package demo

import (
	"image"
	"math"
	"testing"

	"github.com/posprobe/posprobe/core/posmap"
)

func TestRankCropsAndNormalize(t *testing.T) {
	b := image.Rect(10, 20, 610, 420)
	cs := RankCrops(b)
	if len(cs) != 4 {
		t.Fatalf("%d crops", len(cs))
	}
	for _, c := range cs {
		if !c.Rect().In(b) || math.Abs(c.Size-240) > 1e-9 {
			t.Errorf("crop %+v: want a 240 px square inside %v", c, b)
		}
	}
	if cs[0].X != 10 || cs[0].Y != 20 || cs[3].Rect().Max != b.Max {
		t.Errorf("crops %+v are not in the corners of %v", cs, b)
	}
	m := []float32{-2, 0, 2}
	Normalize(m)
	if m[0] != 0 || m[1] != 0.5 || m[2] != 1 {
		t.Errorf("normalised %v", m)
	}
	flat := []float32{3, 3}
	Normalize(flat)
	if flat[0] != 0 || flat[1] != 0 {
		t.Errorf("constant map normalised to %v", flat)
	}
}

// The hook reports the channels shown without their maps.
func TestHookChannels(t *testing.T) {
	s := State{ChannelsView: true, Channels: []ChannelMap{{Tap: "fire9", Index: 3, Score: -0.5, Target: posmap.V, Size: 13, Map: make([]float32, 169)}}}
	h := s.Hook()
	chs := h["channels"].([]any)
	if h["channelsView"] != true || len(chs) != 1 {
		t.Fatalf("hook: %v", h)
	}
	c := chs[0].(map[string]any)
	if c["tap"] != "fire9" || c["index"] != 3 || c["score"] != -0.5 || c["target"] != "V" || c["size"] != 13 || c["map"] != nil {
		t.Errorf("channel %v", c)
	}
	if chs := (State{}).Hook()["channels"].([]any); len(chs) != 0 {
		t.Errorf("no channels: %v", chs)
	}
}
