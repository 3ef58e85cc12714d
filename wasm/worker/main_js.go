//go:build js

// Command worker is the demo's inference engine in the browser: it runs in a
// Web Worker (site/worker.js), loads encoders and readouts from the site and
// answers the page's predict messages (demo/wire_js.go) with the predicted
// maps, their SPC/MAE and the salient point. The page's own wasm thread then
// only draws, so dragging stays smooth while a forward pass runs.
package main

import (
	"fmt"
	"image"
	"sync"
	"syscall/js"
	"time"

	"github.com/posprobe/posprobe/wasm/demo"
	"github.com/posprobe/posprobe/wasm/probe"
)

type worker struct {
	src  demo.Source
	man  demo.Manifest
	pipe demo.Pipeline

	mu      sync.Mutex
	preds   map[int]*probe.Predictor
	loading map[int]bool

	photoID int
	photo   image.Image
	photoEr error
}

func post(m js.Value) { js.Global().Call("postMessage", m) }

func obj(kv ...any) js.Value {
	o := js.Global().Get("Object").New()
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

func main() {
	// Messages that arrived while the runtime started were queued by
	// worker.js; take them first, in order, then every later one.
	msgs := make(chan js.Value, 1024)
	if q := js.Global().Get("posprobeEarly"); q.Type() == js.TypeObject {
		for i := 0; i < q.Length(); i++ {
			msgs <- q.Index(i)
		}
	}
	js.Global().Set("onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
		select {
		case msgs <- args[0].Get("data"):
		default:
			post(obj("type", "fatal", "error", "message queue full"))
		}
		return nil
	}))

	src, err := demo.NewHTTPSource(js.Global().Get("location").Get("href").String())
	if err != nil {
		post(obj("type", "fatal", "error", err.Error()))
		return
	}
	w := &worker{src: src, pipe: probe.Pipeline(), preds: map[int]*probe.Predictor{}, loading: map[int]bool{}}
	if w.man, err = demo.ReadManifest(src); err != nil {
		fmt.Println("worker:", err)
	}
	for m := range msgs {
		// Let the event loop hand over what queued up during the last
		// prediction, then run only the newest predict request: the page
		// posts one per crop change and wants the latest crop.
		time.Sleep(time.Millisecond)
		batch := []js.Value{m}
	drain:
		for {
			select {
			case m := <-msgs:
				batch = append(batch, m)
			default:
				break drain
			}
		}
		var newest js.Value
		for _, m := range batch {
			if m.Get("type").String() == "predict" {
				newest = m
				continue
			}
			w.handle(m)
		}
		if !newest.IsUndefined() {
			w.handle(newest)
		}
	}
}

func (w *worker) handle(m js.Value) {
	switch t := m.Get("type").String(); t {
	case "load":
		i := m.Get("model").Int()
		if i < 0 || i >= len(demo.Models) {
			post(obj("type", "loaded", "model", i, "error", fmt.Sprintf("no model %d", i)))
			return
		}
		go w.load(i) // downloads yield; predictions of loaded models go on
	case "photo":
		b := make([]byte, m.Get("bytes").Length())
		js.CopyBytesToGo(b, m.Get("bytes"))
		w.photoID = m.Get("id").Int()
		w.photo, w.photoEr = demo.DecodePhoto(b, m.Get("name").String())
	case "predict":
		req, i := demo.RequestFromJS(m)
		w.mu.Lock()
		p := w.preds[i]
		w.mu.Unlock()
		var res demo.Result
		switch {
		case p == nil:
			res = demo.Result{Seq: req.Seq, Err: fmt.Errorf("model %d is not loaded in the worker", i)}
		case req.PhotoID != w.photoID || w.photo == nil:
			err := fmt.Errorf("photo %d is not in the worker (it has %d)", req.PhotoID, w.photoID)
			if w.photoEr != nil {
				err = w.photoEr
			}
			res = demo.Result{Seq: req.Seq, Err: err}
		default:
			req.Photo, req.Model = w.photo, p
			res = w.pipe.Run(req)
		}
		post(demo.ResultToJS(res))
	default:
		fmt.Println("worker: unknown message", t)
	}
}

func (w *worker) load(i int) {
	w.mu.Lock()
	if w.preds[i] != nil || w.loading[i] {
		p := w.preds[i]
		w.mu.Unlock()
		if p != nil {
			post(obj("type", "loaded", "model", i, "targets", demo.StringsToJS(p.Targets()), "missing", demo.StringsToJS(p.Missing)))
		}
		return
	}
	w.loading[i] = true
	w.mu.Unlock()
	start := time.Now()
	p, err := probe.LoadModel(demo.Models[i], w.src, w.man, "", func(frac float64, msg string) {
		post(obj("type", "progress", "model", i, "frac", frac, "msg", msg))
	})
	w.mu.Lock()
	w.loading[i] = false
	if err == nil {
		w.preds[i] = p
	}
	w.mu.Unlock()
	if err != nil {
		post(obj("type", "loaded", "model", i, "error", err.Error()))
		return
	}
	fmt.Printf("worker: %s loaded in %d ms\n", demo.Models[i].Key, time.Since(start).Milliseconds())
	post(obj("type", "loaded", "model", i, "targets", demo.StringsToJS(p.Targets()), "missing", demo.StringsToJS(p.Missing)))
}
