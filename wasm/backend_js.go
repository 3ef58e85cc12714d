//go:build js

package main

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"syscall/js"
	"time"

	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/wasm/demo"
)

// workerBackend runs the models in a Web Worker (site/worker.js starting
// worker.wasm): the page's wasm thread only draws and drags. Every crop
// change is posted at once; the worker runs only the newest request it has
// when it gets free (latest crop wins there), so it never waits for this
// thread, which may be busy with a slow software-WebGL frame.
//
// A model loads in the first worker only; the others load it after its first
// result, so on a cold start they neither compete for the CPU during the
// first prediction nor for the network (they read the weights from the HTTP
// cache: posprobe serve marks hashed files immutable).
type workerBackend struct {
	ws     []js.Value // the workers; requests go round-robin
	next   int
	mu     sync.Mutex
	loads  map[int]chan js.Value
	prog   map[int]func(float64, string)
	failed chan struct{}
	fatal  error
	has    map[int]map[int]bool // model -> the workers that loaded it
	later  map[int]bool         // models the other workers load after their first result

	pending map[uint64]demo.Request // posted, no result yet
	latest  *demo.Result            // newest result not yet polled
	shown   uint64                  // seq of the newest result received
}

// defaultWorkers: two workers (requests alternate between them) gave 4.4
// predictions/s against one worker's 3.6 while dragging in headless
// Chromium on 2 cores (see the README); more cores would take more.
const defaultWorkers = 2

// remoteModel stands for a model loaded in the worker; the UI only needs
// its identity and targets.
type remoteModel struct {
	index   int
	targets []string
}

func (m *remoteModel) Targets() []string { return m.targets }

func (m *remoteModel) Predict([]float32) (map[string][]float32, error) {
	return nil, errors.New("this model runs in the inference worker")
}

func newBackend() backend {
	b := &workerBackend{loads: map[int]chan js.Value{}, prog: map[int]func(float64, string){},
		failed: make(chan struct{}), pending: map[uint64]demo.Request{}, has: map[int]map[int]bool{}, later: map[int]bool{}}
	ctor := js.Global().Get("Worker")
	if ctor.Type() != js.TypeFunction {
		b.fail(errors.New("this browser has no Web Workers"))
		return b
	}
	started := pageWorkers() // site/app.html starts them early and hands them worker.wasm
	n := workerCount()
	if len(started) > 0 {
		n = len(started)
	}
	for i := 0; i < n; i++ {
		url := "worker.js"
		if i > 0 {
			url += "?shared" // waits for the first worker's compiled module
		}
		var w js.Value
		if i < len(started) {
			w = started[i]
		} else {
			w = ctor.New(url)
		}
		w.Set("onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
			b.receive(i, args[0].Get("data"))
			return nil
		}))
		w.Set("onerror", js.FuncOf(func(_ js.Value, args []js.Value) any {
			msg := "failed"
			if m := args[0].Get("message"); m.Type() == js.TypeString {
				msg = m.String()
			}
			b.fail(fmt.Errorf("the inference worker stopped: %s", msg))
			return nil
		}))
		b.ws = append(b.ws, w)
	}
	return b
}

// workerCount is how many inference workers run: ?workers=N (1 to 4), else
// defaultWorkers, or one on a single-core machine.
func workerCount() int {
	if n, err := strconv.Atoi(queryParam("workers")); err == nil && n >= 1 && n <= 4 {
		return n
	}
	if c := js.Global().Get("navigator").Get("hardwareConcurrency"); c.Type() == js.TypeNumber && c.Int() < 2 {
		return 1
	}
	return defaultWorkers
}

// receive runs on the page's event loop: it must never block.
func (b *workerBackend) receive(worker int, m js.Value) {
	t := m.Get("type").String()
	if worker > 0 && (t == "boot" || t == "progress") {
		return // the first worker reports for all
	}
	switch t {
	case "module": // the first worker's compiled worker.wasm, for the others
		msg := js.Global().Get("Object").New()
		msg.Set("type", "module")
		msg.Set("module", m.Get("module"))
		for _, w := range b.ws[1:] {
			w.Call("postMessage", msg)
		}
	case "boot": // worker.wasm downloading: the first part of every model's load
		b.mu.Lock()
		fs := make([]func(float64, string), 0, len(b.prog))
		for _, f := range b.prog {
			fs = append(fs, f)
		}
		b.mu.Unlock()
		for _, f := range fs {
			f(0.3*m.Get("frac").Float(), m.Get("msg").String())
		}
	case "progress":
		b.mu.Lock()
		f := b.prog[m.Get("model").Int()]
		b.mu.Unlock()
		if f != nil {
			f(0.3+0.7*m.Get("frac").Float(), m.Get("msg").String())
		}
	case "loaded":
		m.Set("worker", worker)
		i := m.Get("model").Int()
		b.mu.Lock()
		if m.Get("error").Type() != js.TypeString {
			if b.has[i] == nil {
				b.has[i] = map[int]bool{}
			}
			b.has[i][worker] = true
		}
		ch := b.loads[i]
		b.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	case "result":
		b.takeResult(m)
	case "fatal":
		b.fail(fmt.Errorf("the inference worker could not start: %s", m.Get("error").String()))
	}
}

func (b *workerBackend) fail(err error) {
	defer wake() // the failed request's result
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fatal == nil {
		b.fatal = err
		close(b.failed)
		logf("STATUS %v", err)
		var last *demo.Request
		for _, r := range b.pending {
			if last == nil || r.Seq > last.Seq {
				last = &r
			}
		}
		if last != nil { // the newest request fails with the worker
			b.latest = &demo.Result{Seq: last.Seq, Crop: last.Crop, Model: last.Model, Err: err}
		}
		clear(b.pending)
	}
}

func (b *workerBackend) err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fatal
}

func (b *workerBackend) Truth(target string, size int) ([]float32, error) {
	t, err := posmap.ParseTarget(target)
	if err != nil {
		return nil, err
	}
	return posmap.Map(t, size, posmap.Options{}), nil
}

func (b *workerBackend) Load(i int, _ demo.Source, _ demo.Manifest, progress func(float64, string)) (demo.Predictor, []string, error) {
	if err := b.err(); err != nil {
		return nil, nil, err
	}
	ch := make(chan js.Value, 2*len(b.ws))
	b.mu.Lock()
	b.loads[i], b.prog[i] = ch, progress
	b.later[i] = len(b.ws) > 1
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.loads, i)
		delete(b.prog, i)
		b.mu.Unlock()
	}()
	msg := js.Global().Get("Object").New()
	msg.Set("type", "load")
	msg.Set("model", i)
	b.ws[0].Call("postMessage", msg) // the others: loadLater
	for {
		select {
		case m := <-ch:
			if m.Get("worker").Int() != 0 {
				continue // another worker's answer to an earlier load
			}
			if e := m.Get("error"); e.Type() == js.TypeString {
				return nil, nil, errors.New(e.String())
			}
			return &remoteModel{index: i, targets: demo.StringsFromJS(m.Get("targets"))}, demo.StringsFromJS(m.Get("missing")), nil
		case <-b.failed:
			return nil, nil, b.err()
		}
	}
}

// loadLater asks the workers but the first to load model i, once, after the
// first result of that model. Called with b.mu held.
func (b *workerBackend) loadLater(i int) {
	if !b.later[i] {
		return
	}
	b.later[i] = false
	msg := js.Global().Get("Object").New()
	msg.Set("type", "load")
	msg.Set("model", i)
	for _, w := range b.ws[1:] {
		w.Call("postMessage", msg)
	}
}

func (b *workerBackend) SetPhoto(id int, data []byte, name string) {
	if b.err() != nil {
		return
	}
	for _, w := range b.ws {
		u8 := js.Global().Get("Uint8Array").New(len(data))
		js.CopyBytesToJS(u8, data)
		msg := js.Global().Get("Object").New()
		msg.Set("type", "photo")
		msg.Set("id", id)
		msg.Set("name", name)
		msg.Set("bytes", u8)
		w.Call("postMessage", msg, []any{u8.Get("buffer")})
	}
}

func (b *workerBackend) Runner() runner { return b }

// Submit posts req to the worker; it never blocks.
func (b *workerBackend) Submit(req demo.Request) {
	m, ok := req.Model.(*remoteModel)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.fatal != nil:
		b.latest = &demo.Result{Seq: req.Seq, Crop: req.Crop, Model: req.Model, Err: b.fatal}
	case !ok:
		b.latest = &demo.Result{Seq: req.Seq, Crop: req.Crop, Model: req.Model, Err: fmt.Errorf("model %T is not in the worker", req.Model)}
	default:
		b.pending[req.Seq] = req
		b.ws[b.pick(m.index)].Call("postMessage", demo.RequestToJS(req, m.index))
	}
}

// pick returns the next worker, round-robin, among those that have model i
// (the first worker always has it once Load returned). Called with b.mu held.
func (b *workerBackend) pick(i int) int {
	for range b.ws {
		w := b.next % len(b.ws)
		b.next++
		if w == 0 || b.has[i][w] {
			return w
		}
	}
	return 0
}

// takeResult keeps a result if it is newer than any before; requests older
// than it were skipped by the worker and are forgotten.
func (b *workerBackend) takeResult(o js.Value) {
	seq := uint64(o.Get("seq").Float())
	b.mu.Lock()
	defer b.mu.Unlock()
	req, ok := b.pending[seq]
	if !ok || seq <= b.shown {
		return
	}
	for s := range b.pending {
		if s <= seq {
			delete(b.pending, s)
		}
	}
	if m, ok := req.Model.(*remoteModel); ok {
		b.loadLater(m.index)
	}
	r := demo.ResultFromJS(o, req)
	if !req.Submitted.IsZero() { // waiting and transfer, not the worker's compute
		r.Wait = max(0, time.Since(req.Submitted)-r.Latency)
	}
	b.shown, b.latest = seq, &r
	wake()
}

func (b *workerBackend) Poll() (demo.Result, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return demo.TakeResult(&b.latest)
}

func (b *workerBackend) Busy() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending) > 0
}
