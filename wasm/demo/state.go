package demo

import (
	"image"
	"math"

	"github.com/posprobe/posprobe/core/netspec"
	"github.com/posprobe/posprobe/core/posmap"
)

// Model is one encoder choice the visitor can switch to.
type Model struct {
	Key     string // short id, also used in URLs (?model=)
	Label   string
	Encoder string // encoder.New name
	Padding netspec.PadMode
	Init    netspec.Init
	Seed    uint64
	ONNX    string // site path of an ONNX model (site --model), else a built-in encoder
	Taps    string // the model's --taps (see models.go)
}

// Models are the demo's encoders, the default first.
var Models = []Model{
	{Key: "sq-zero", Label: "SqueezeNet 1.1, zero padding", Encoder: "squeezenet1.1", Padding: netspec.PadZero, Init: netspec.InitImageNet},
	{Key: "sq-none", Label: "SqueezeNet 1.1, no padding", Encoder: "squeezenet1.1", Padding: netspec.PadNone, Init: netspec.InitImageNet},
	{Key: "pixels", Label: "No encoder (readout on pixels)", Encoder: "none", Padding: netspec.PadZero, Init: netspec.InitImageNet},
	{Key: "sq-random", Label: "SqueezeNet 1.1, random init", Encoder: "squeezenet1.1", Padding: netspec.PadZero, Init: netspec.InitRandom},
}

// ModelIndex returns the index of the model with key, or -1.
func ModelIndex(key string) int {
	for i, m := range Models {
		if m.Key == key {
			return i
		}
	}
	return -1
}

// Targets are the five position maps' names, in display order.
var Targets = posmap.Names(posmap.AllTargets())

// TargetNames explain the targets in words, by name.
var TargetNames = func() map[string]string {
	m := map[string]string{}
	for _, t := range posmap.AllTargets() {
		m[t.String()] = t.Description()
	}
	return m
}()

// State is what the app shows, and what the page's test hook reports.
type State struct {
	Ready     bool   // model loaded and a first prediction of it drawn
	Encoder   string // encoder name
	Padding   netspec.PadMode
	Init      netspec.Init
	Target    string  // selected target
	Crop      Crop    // photo pixels
	Salient   *Point  // photo pixels, nil when unknown
	SPC, MAE  float64 // of the selected target on the current crop; NaN when unknown
	LatencyMs float64
	Rate      float64 // predictions per second
	Message   string  // loading progress or what is missing

	Predictions int      // results shown so far
	Drag        DragMode // what the pointer is doing to the crop now
	ResultCrop  *Crop    // the crop the shown prediction (salient, SPC, MAE) was made on
	View        View     // photo -> logical screen mapping
	ScreenW     int      // logical screen size
	ScreenH     int
	Layout      string          // "landscape" or "portrait"
	Panel       image.Rectangle // the photo panel on the logical screen
	Share       string          // the view as a URL fragment (Share.Encode)

	ChannelsView bool         // the small maps show the top position channels
	Channels     []ChannelMap // the channels drawn there (Map left out of Hook)
}

// Hook returns the state as plain values for JavaScript:
// {ready, encoder, padding, init, target, crop:{x,y,w,h}, salient:{x,y}|null,
// spc, mae, latencyMs, rate, message, predictions, drag:"none"|"move"|"resize",
// resultCrop:{x,y,w,h}|null, view:{offX,offY,scale,screenW,screenH},
// layout, panel:{x,y,w,h}, share, channelsView,
// channels:[{tap,index,score,target,size}]}; unknown numbers are null.
func (s State) Hook() map[string]any {
	num := func(x float64) any {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	}
	var sal, rc any
	if s.Salient != nil {
		sal = map[string]any{"x": s.Salient.X, "y": s.Salient.Y}
	}
	crop := func(c Crop) map[string]any { return map[string]any{"x": c.X, "y": c.Y, "w": c.Size, "h": c.Size} }
	if s.ResultCrop != nil {
		rc = crop(*s.ResultCrop)
	}
	chs := []any{}
	for _, c := range s.Channels {
		chs = append(chs, map[string]any{"tap": c.Tap, "index": c.Index, "score": num(c.Score), "target": c.Target.String(), "size": c.Size})
	}
	return map[string]any{
		"ready":     s.Ready,
		"encoder":   s.Encoder,
		"padding":   s.Padding.String(),
		"init":      s.Init.String(),
		"target":    s.Target,
		"crop":      crop(s.Crop),
		"salient":   sal,
		"spc":       num(s.SPC),
		"mae":       num(s.MAE),
		"latencyMs": num(s.LatencyMs),
		"rate":      num(s.Rate),
		"message":   s.Message,

		"predictions": s.Predictions,
		"drag":        s.Drag.String(),
		"resultCrop":  rc,
		"view": map[string]any{"offX": s.View.OffX, "offY": s.View.OffY, "scale": s.View.Scale,
			"screenW": s.ScreenW, "screenH": s.ScreenH},
		"layout": s.Layout,
		"panel":  map[string]any{"x": s.Panel.Min.X, "y": s.Panel.Min.Y, "w": s.Panel.Dx(), "h": s.Panel.Dy()},
		"share":  s.Share,

		"channelsView": s.ChannelsView,
		"channels":     chs,
	}
}
