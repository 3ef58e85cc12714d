//go:build js

package demo

import (
	"errors"
	"math"
	"sort"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/posmap"
)

// The page and its inference worker exchange plain JS objects (structured
// clone); maps travel as Float32Arrays. Messages from the page:
//
//	{type: "load", model}                      -> {type: "progress", model, frac, msg}..., {type: "loaded", model, targets, missing, error}
//	{type: "photo", id, name, bytes}           -> nothing (errors come with the next result)
//	{type: "predict", seq, model, photo, crop: {x, y, size}, rank: [targets] | null, channels: k}
//	                                           -> {type: "result", seq, maps: {T: Float32Array}, scores: {T: {spc, mae}},
//	                                               salient: {x, y} | null, latencyMs, error,
//	                                               channels: [{tap, index, score, target, size, map: Float32Array}]}
//
// and {type: "fatal", error} when the worker cannot start.

// FloatsToJS copies v into a new Float32Array.
func FloatsToJS(v []float32) js.Value {
	u8 := js.Global().Get("Uint8Array").New(4 * len(v))
	if len(v) > 0 {
		js.CopyBytesToJS(u8, unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v)))
	}
	return js.Global().Get("Float32Array").New(u8.Get("buffer"))
}

// FloatsFromJS copies a Float32Array into Go (both sides are little-endian).
func FloatsFromJS(a js.Value) []float32 {
	n := a.Get("length").Int()
	out := make([]float32, n)
	if n > 0 {
		u8 := js.Global().Get("Uint8Array").New(a.Get("buffer"), a.Get("byteOffset"), 4*n)
		js.CopyBytesToGo(unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 4*n), u8)
	}
	return out
}

// StringsToJS makes a JS array of strings; nil becomes null.
func StringsToJS(s []string) js.Value {
	if s == nil {
		return js.Null()
	}
	a := js.Global().Get("Array").New(len(s))
	for i, x := range s {
		a.SetIndex(i, x)
	}
	return a
}

// StringsFromJS reads a JS array of strings; null or undefined give nil.
func StringsFromJS(a js.Value) []string {
	if a.IsNull() || a.IsUndefined() {
		return nil
	}
	out := make([]string, a.Length())
	for i := range out {
		out[i] = a.Index(i).String()
	}
	return out
}

// RequestToJS encodes a predict message for model index model.
func RequestToJS(req Request, model int) js.Value {
	o := js.Global().Get("Object").New()
	o.Set("type", "predict")
	o.Set("seq", float64(req.Seq))
	o.Set("model", model)
	o.Set("photo", req.PhotoID)
	c := js.Global().Get("Object").New()
	c.Set("x", req.Crop.X)
	c.Set("y", req.Crop.Y)
	c.Set("size", req.Crop.Size)
	o.Set("crop", c)
	o.Set("rank", StringsToJS(req.Rank))
	o.Set("channels", req.Channels)
	return o
}

// RequestFromJS decodes a predict message: the request (without Photo and
// Model, which the worker fills in) and the model index.
func RequestFromJS(o js.Value) (Request, int) {
	c := o.Get("crop")
	return Request{
		Seq:      uint64(o.Get("seq").Float()),
		PhotoID:  o.Get("photo").Int(),
		Crop:     Crop{X: c.Get("x").Float(), Y: c.Get("y").Float(), Size: c.Get("size").Float()},
		Rank:     StringsFromJS(o.Get("rank")),
		Channels: intOr0(o.Get("channels")),
	}, o.Get("model").Int()
}

// ResultToJS encodes a result message.
func ResultToJS(r Result) js.Value {
	o := js.Global().Get("Object").New()
	o.Set("type", "result")
	o.Set("seq", float64(r.Seq))
	maps := js.Global().Get("Object").New()
	scores := js.Global().Get("Object").New()
	for t, m := range r.Maps {
		maps.Set(t, FloatsToJS(m))
	}
	for t, s := range r.Scores {
		so := js.Global().Get("Object").New()
		so.Set("spc", s.SPC) // NaN survives structured clone
		so.Set("mae", s.MAE)
		scores.Set(t, so)
	}
	o.Set("maps", maps)
	o.Set("scores", scores)
	if r.Salient != nil {
		p := js.Global().Get("Object").New()
		p.Set("x", r.Salient.X)
		p.Set("y", r.Salient.Y)
		o.Set("salient", p)
	} else {
		o.Set("salient", js.Null())
	}
	o.Set("latencyMs", float64(r.Latency.Microseconds())/1000)
	chs := js.Global().Get("Array").New(len(r.Channels))
	for i, c := range r.Channels {
		co := js.Global().Get("Object").New()
		co.Set("tap", c.Tap)
		co.Set("index", c.Index)
		co.Set("score", c.Score)
		co.Set("target", c.Target.String())
		co.Set("size", c.Size)
		co.Set("map", FloatsToJS(c.Map))
		chs.SetIndex(i, co)
	}
	o.Set("channels", chs)
	if r.Err != nil {
		o.Set("error", r.Err.Error())
	}
	return o
}

// ResultFromJS decodes a result message of req.
func ResultFromJS(o js.Value, req Request) Result {
	r := Result{Seq: req.Seq, Submitted: req.Submitted, Crop: req.Crop, Model: req.Model}
	if e := o.Get("error"); e.Type() == js.TypeString {
		r.Err = errors.New(e.String())
	}
	r.Latency = time.Duration(o.Get("latencyMs").Float() * float64(time.Millisecond))
	keys := func(v js.Value) []string {
		if v.Type() != js.TypeObject {
			return nil
		}
		k := StringsFromJS(js.Global().Get("Object").Call("keys", v))
		sort.Strings(k)
		return k
	}
	if maps := o.Get("maps"); len(keys(maps)) > 0 {
		r.Maps = map[string][]float32{}
		for _, t := range keys(maps) {
			r.Maps[t] = FloatsFromJS(maps.Get(t))
		}
	}
	if scores := o.Get("scores"); len(keys(scores)) > 0 {
		r.Scores = map[string]score.Score{}
		for _, t := range keys(scores) {
			s := scores.Get(t)
			r.Scores[t] = score.Score{SPC: num(s.Get("spc")), MAE: num(s.Get("mae"))}
		}
	}
	if p := o.Get("salient"); p.Type() == js.TypeObject {
		r.Salient = &Point{X: p.Get("x").Float(), Y: p.Get("y").Float()}
	}
	if chs := o.Get("channels"); chs.Type() == js.TypeObject {
		for i := 0; i < chs.Length(); i++ {
			c := chs.Index(i)
			tg, _ := posmap.ParseTarget(c.Get("target").String()) // a name ResultToJS wrote
			r.Channels = append(r.Channels, ChannelMap{Tap: c.Get("tap").String(), Index: c.Get("index").Int(),
				Score: num(c.Get("score")), Target: tg, Size: c.Get("size").Int(), Map: FloatsFromJS(c.Get("map"))})
		}
	}
	return r
}

func intOr0(v js.Value) int {
	if v.Type() != js.TypeNumber {
		return 0
	}
	return v.Int()
}

func num(v js.Value) float64 {
	if v.Type() != js.TypeNumber {
		return math.NaN()
	}
	return v.Float()
}
