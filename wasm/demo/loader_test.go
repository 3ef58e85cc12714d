package demo

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// loaderRecorder collects a Loader's hook calls.
type loaderRecorder struct {
	mu       sync.Mutex
	changed  int
	progress []string
	logs     []string
}

func (r *loaderRecorder) hooks() LoaderHooks {
	return LoaderHooks{
		Changed: func() { r.mu.Lock(); r.changed++; r.mu.Unlock() },
		Progress: func(frac float64, msg string) {
			r.mu.Lock()
			r.progress = append(r.progress, fmt.Sprintf("%.1f %s", frac, msg))
			r.mu.Unlock()
		},
		Log: func(format string, args ...any) {
			r.mu.Lock()
			r.logs = append(r.logs, fmt.Sprintf(format, args...))
			r.mu.Unlock()
		},
	}
}

func TestLoaderLoadsOnce(t *testing.T) {
	gate := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	var rec loaderRecorder
	msgSeen := make(chan string, 1)
	var l *Loader
	l = NewLoader(func(i int, progress func(float64, string)) (Predictor, []string, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		progress(0.5, "Reading weights")
		msgSeen <- l.Message()
		<-gate
		return &fakeModel{}, []string{"HS.readout"}, nil
	}, rec.hooks())
	if got := l.Status(0); got.State != NotLoaded || got.Pred != nil || got.Err != nil {
		t.Fatalf("before Ensure: %+v", got)
	}
	if l.Message() != "Loading…" {
		t.Errorf("initial message %q", l.Message())
	}
	v0 := l.Version()
	done := l.Ensure(0)
	if again := l.Ensure(0); !isClosed(again) {
		t.Error("a second Ensure while loading started another load")
	}
	if s := l.Status(0); s.State != Loading {
		t.Errorf("while loading: state %v", s.State)
	}
	if l.Version() == v0 {
		t.Error("Version unchanged by the start of a load")
	}
	if m := <-msgSeen; m != "Reading weights" {
		t.Errorf("message during the load %q, want the progress message", m)
	}
	close(gate)
	<-done
	s := l.Status(0)
	if s.State != Loaded || s.Pred == nil || s.Err != nil {
		t.Fatalf("after the load: %+v", s)
	}
	if l.Message() != "" {
		t.Errorf("message after the load %q, want none", l.Message())
	}
	<-l.Ensure(0)
	if calls != 1 {
		t.Errorf("%d loads of model 0, want 1", calls)
	}
	if l.Status(1).State != NotLoaded {
		t.Error("model 1 changed by loading model 0")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Equal(rec.progress, []string{"0.5 Reading weights"}) {
		t.Errorf("progress %q", rec.progress)
	}
	if rec.changed == 0 {
		t.Error("no Changed call after the load")
	}
	key := Models[0].Key
	if len(rec.logs) != 2 || rec.logs[0] != "MODEL "+key+": no readout HS.readout" ||
		!strings.HasPrefix(rec.logs[1], "MODEL "+key+" loaded in ") || !strings.HasSuffix(rec.logs[1], "(targets [G H])") {
		t.Errorf("logs %q", rec.logs)
	}
}

func TestLoaderFailure(t *testing.T) {
	var rec loaderRecorder
	calls := 0
	l := NewLoader(func(i int, _ func(float64, string)) (Predictor, []string, error) {
		calls++
		return nil, nil, errors.New("weights not found")
	}, rec.hooks())
	<-l.Ensure(2)
	s := l.Status(2)
	if s.State != Failed || s.Pred != nil || s.Err == nil || s.Err.Error() != "weights not found" {
		t.Fatalf("after a failed load: %+v", s)
	}
	<-l.Ensure(2) // a failed model is not retried
	if calls != 1 {
		t.Errorf("%d loads, want 1", calls)
	}
	if want := []string{"-1.0 "}; !slices.Equal(rec.progress, want) {
		t.Errorf("progress %q, want %q (the page's bar hidden)", rec.progress, want)
	}
	if want := "MODEL " + Models[2].Key + " missing: weights not found"; len(rec.logs) != 1 || rec.logs[0] != want {
		t.Errorf("logs %q, want %q", rec.logs, want)
	}
}

func TestLoaderPhotoAndMessage(t *testing.T) {
	var rec loaderRecorder
	l := NewLoader(nil, rec.hooks())
	if _, ok := l.TakePhoto(); ok {
		t.Fatal("a photo before any was set")
	}
	l.SetPhoto(PhotoFile{Data: []byte{1}, Name: "photo/a.jpg", Builtin: true})
	l.SetPhoto(PhotoFile{Data: []byte{2}, Name: "mine.png"}) // replaces the one not taken
	p, ok := l.TakePhoto()
	if !ok || p.Name != "mine.png" || p.Builtin || p.Data[0] != 2 {
		t.Errorf("TakePhoto = %+v, %v; want the newer photo", p, ok)
	}
	if _, ok := l.TakePhoto(); ok {
		t.Error("the photo taken twice")
	}
	l.SetMessage("Cannot load the photo: 404")
	if l.Message() != "Cannot load the photo: 404" {
		t.Errorf("message %q", l.Message())
	}
	if rec.changed != 3 || len(rec.logs) != 1 || rec.logs[0] != "STATUS Cannot load the photo: 404" {
		t.Errorf("changed %d times, logs %q", rec.changed, rec.logs)
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
