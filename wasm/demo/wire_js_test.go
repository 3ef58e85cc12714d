//go:build js

package demo

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/posmap"
)

// The wire format is what the page and the worker agree on: a round trip
// through JS values must keep every field.
func TestWireRoundTrip(t *testing.T) {
	req := Request{Seq: 41, PhotoID: 3, Crop: Crop{12.5, 7, 200}, Rank: []string{"G"}, Channels: 10}
	got, model := RequestFromJS(RequestToJS(req, 2))
	if model != 2 || got.Seq != 41 || got.PhotoID != 3 || got.Crop != req.Crop || !reflect.DeepEqual(got.Rank, req.Rank) || got.Channels != 10 {
		t.Errorf("request: %+v model %d", got, model)
	}
	req.Rank = nil
	if got, _ := RequestFromJS(RequestToJS(req, 0)); got.Rank != nil {
		t.Errorf("nil rank came back as %v", got.Rank)
	}

	res := Result{Seq: 41, Maps: map[string][]float32{"G": {0, 0.5, 1, -2}, "H": {3}},
		Scores:  map[string]score.Score{"G": {SPC: 0.75, MAE: 0.1}, "H": {SPC: math.NaN(), MAE: 0.2}},
		Salient: &Point{100.25, 50}, Latency: 152500 * time.Microsecond,
		Channels: []ChannelMap{{Tap: "fire9", Index: 7, Score: -0.5, Target: posmap.V, Size: 2, Map: []float32{0, 1, 0.25, 0.5}}}}
	back := ResultFromJS(ResultToJS(res), req)
	if !reflect.DeepEqual(back.Maps, res.Maps) || back.Salient == nil || *back.Salient != *res.Salient ||
		back.Latency != res.Latency || back.Err != nil || back.Seq != 41 || !reflect.DeepEqual(back.Channels, res.Channels) {
		t.Errorf("result: %+v", back)
	}
	if back.Scores["G"] != res.Scores["G"] || !math.IsNaN(back.Scores["H"].SPC) || back.Scores["H"].MAE != 0.2 {
		t.Errorf("scores: %+v", back.Scores)
	}
	failed := ResultFromJS(ResultToJS(Result{Seq: 1, Err: errors.New("photo 2 not loaded")}), Request{Seq: 1})
	if failed.Err == nil || failed.Err.Error() != "photo 2 not loaded" || failed.Salient != nil || failed.Maps != nil || failed.Channels != nil {
		t.Errorf("error result: %+v", failed)
	}
}
