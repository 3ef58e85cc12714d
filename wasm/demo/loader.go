package demo

import (
	"strings"
	"sync"
	"time"
)

// LoadState is where a model stands in a Loader.
type LoadState int

const (
	NotLoaded LoadState = iota // never asked for
	Loading
	Loaded
	Failed // Err says why; it is not retried
)

// ModelStatus is one model's state in a Loader.
type ModelStatus struct {
	State LoadState
	Pred  Predictor // set when Loaded
	Err   error     // set when Failed
}

// PhotoFile is a photo handed to the UI loop (by the first load, the
// page's file picker or a dropped file) before it is decoded.
type PhotoFile struct {
	Data    []byte
	Name    string
	Builtin bool // one of the site's photos, named by its site path
}

// LoadFunc builds model i (Models[i]); it blocks, reports progress as a
// fraction in [0,1] with a message, and lists the readout files it lacks.
type LoadFunc func(i int, progress func(frac float64, msg string)) (p Predictor, missing []string, err error)

// LoaderHooks connect a Loader to the app; nil hooks are skipped. They are
// called without the Loader's lock held, from any goroutine.
type LoaderHooks struct {
	Changed  func()                         // the state changed: draw a frame
	Progress func(frac float64, msg string) // a load's progress; frac < 0: a load failed
	Log      func(format string, args ...any)
}

// Loader loads models off the UI loop, each at most once, and holds what
// the loading goroutines and the page hand to the UI loop: each model's
// state, the next photo and the status message. It is safe for concurrent
// use.
type Loader struct {
	load  LoadFunc
	hooks LoaderHooks

	mu      sync.Mutex
	models  map[int]ModelStatus
	photo   *PhotoFile
	message string
	version uint64 // counts changes of models
}

// NewLoader returns a Loader that builds models with load. The message
// starts as "Loading…".
func NewLoader(load LoadFunc, hooks LoaderHooks) *Loader {
	return &Loader{load: load, hooks: hooks, models: map[int]ModelStatus{}, message: "Loading…"}
}

// Status reports model i's state.
func (l *Loader) Status(i int) ModelStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.models[i]
}

// Version changes whenever a model's state does (a redraw key).
func (l *Loader) Version() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.version
}

// Ensure starts loading model i on a goroutine of its own unless it is
// loaded, loading or failed. It returns that goroutine's completion (closed
// at once when nothing was started).
func (l *Loader) Ensure(i int) <-chan struct{} {
	done := make(chan struct{})
	l.mu.Lock()
	if l.models[i].State != NotLoaded {
		l.mu.Unlock()
		close(done)
		return done
	}
	l.setLocked(i, ModelStatus{State: Loading})
	l.mu.Unlock()
	go func() {
		defer close(done)
		l.run(i)
	}()
	return done
}

func (l *Loader) run(i int) {
	key := Models[i].Key
	start := time.Now()
	p, missing, err := l.load(i, func(frac float64, msg string) {
		l.mu.Lock()
		l.message = msg
		l.mu.Unlock()
		l.progress(frac, msg)
	})
	l.mu.Lock()
	if err != nil {
		l.setLocked(i, ModelStatus{State: Failed, Err: err})
	} else {
		l.setLocked(i, ModelStatus{State: Loaded, Pred: p})
	}
	l.message = ""
	l.mu.Unlock()
	l.changed()
	switch {
	case err != nil:
		l.logf("MODEL %s missing: %v", key, err)
		l.progress(-1, "")
	default:
		if len(missing) > 0 {
			l.logf("MODEL %s: no readout %s", key, strings.Join(missing, ", "))
		}
		l.logf("MODEL %s loaded in %d ms (targets %v)", key, time.Since(start).Milliseconds(), p.Targets())
	}
}

func (l *Loader) setLocked(i int, s ModelStatus) {
	l.models[i] = s
	l.version++
}

// SetPhoto hands a photo to the UI loop (TakePhoto), replacing one not yet
// taken.
func (l *Loader) SetPhoto(p PhotoFile) {
	l.mu.Lock()
	l.photo = &p
	l.mu.Unlock()
	l.changed()
}

// TakePhoto returns the photo handed over since the last call, if any.
func (l *Loader) TakePhoto() (PhotoFile, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.photo
	l.photo = nil
	if p == nil {
		return PhotoFile{}, false
	}
	return *p, true
}

// SetMessage replaces the status message (empty: none) and logs it as a
// STATUS line.
func (l *Loader) SetMessage(m string) {
	l.mu.Lock()
	l.message = m
	l.mu.Unlock()
	l.changed()
	l.logf("STATUS %s", m)
}

// Message is the status message: a load's progress, or what went wrong.
func (l *Loader) Message() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.message
}

func (l *Loader) changed() {
	if l.hooks.Changed != nil {
		l.hooks.Changed()
	}
}

func (l *Loader) progress(frac float64, msg string) {
	if l.hooks.Progress != nil {
		l.hooks.Progress(frac, msg)
	}
}

func (l *Loader) logf(format string, args ...any) {
	if l.hooks.Log != nil {
		l.hooks.Log(format, args...)
	}
}
