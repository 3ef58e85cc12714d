//go:build js

//lint:file-ignore SA1019 SetFPSMode/ScheduleFrame are the only way to draw on demand (see initFrames)

package main

import (
	"sync/atomic"
	"syscall/js"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
)

// initFrames makes the page draw frames on demand: ebiten's default loop
// runs every animation frame, and after any change it presents the
// unchanged screen three more times. Where WebGL runs in software
// (SwiftShader in headless Chromium, machines without a GPU) each present
// costs tens of ms of CPU that the inference workers need. Frames now come
// from input events, from results and loading progress (wake), and from a
// heartbeat when a timed change is due (wakeAt: the shown rate decaying).
// FPSModeVsyncOffMinimum is deprecated for SetScreenClearedEveryFrame(false),
// which the app also uses, but that alone does not stop the presents.
//
// In this mode ebiten already runs a frame for each mouse, touch, wheel and
// key event its canvas gets (and presents it even when nothing changed), so
// only the events it does not handle ask for one here: asking on every
// pointer move too presented each drag step twice (a full-canvas clear and
// copy each, the most expensive draws of a drag frame in SwiftShader).
//
// Its loop still asks for an animation frame every vsync to see whether a
// frame is due, and a pending animation frame keeps the browser producing
// frames. The page (app.html) hands that loop a requestAnimationFrame that
// waits for posprobeFrame, which scheduleFrame calls.
func initFrames() {
	ebiten.SetFPSMode(ebiten.FPSModeVsyncOffMinimum) //nolint:staticcheck // see above
	if f := js.Global().Get("posprobeFrame"); f.Type() == js.TypeFunction {
		pageFrame = f
	}
	cb := js.FuncOf(func(js.Value, []js.Value) any {
		scheduleFrame()
		return nil
	})
	opts := map[string]any{"capture": true, "passive": true}
	for _, ev := range []string{"pointercancel", "touchcancel", "drop", "resize", "focus", "blur"} {
		js.Global().Call("addEventListener", ev, cb, opts)
	}
	go func() {
		n := 0
		for now := range time.Tick(heartbeat) {
			n++
			if overlayUp.Load() {
				continue
			}
			// A frame that draws nothing is still presented (ebiten presents
			// the three frames after a change): wake only when something
			// timed is due, and every idleBeats beats in case.
			if t := dueAt.Load(); (t != 0 && now.UnixNano() >= t) || n%idleBeats == 0 {
				wake()
			}
		}
	}()
}

// pageFrame releases ebiten's loop for one animation frame (see initFrames);
// undefined where the page does not hold it.
var pageFrame js.Value

// scheduleFrame has ebiten run a frame at the next animation frame.
func scheduleFrame() {
	ebiten.ScheduleFrame() //nolint:staticcheck
	if pageFrame.Truthy() {
		pageFrame.Invoke()
	}
}

// overlayUp: the page's loading overlay covers the canvas (setProgress
// shows and hides it). Until it goes, frames would draw what nobody sees
// and take CPU from compiling and loading the model: there is no
// heartbeat, progress messages ask for no frame, and Draw draws nothing.
var overlayUp atomic.Bool

func init() { overlayUp.Store(true) }

// progressWake asks for a frame for a loading message, unless the overlay
// shows the message instead.
func progressWake() {
	if !overlayUp.Load() {
		wake()
	}
}

func hidden() bool { return overlayUp.Load() }

// heartbeat is the longest a timed change (wakeAt) waits for a frame;
// idleBeats beats are the longest any change not announced by wake does.
const (
	heartbeat = 250 * time.Millisecond
	idleBeats = 8
)

// dueAt: unix ns of the next timed change (0: none); see wakeAt.
var dueAt atomic.Int64

// wakeAt asks for a frame at t (zero: none) for a change no event
// announces: the rate shown dropping as predictions leave its window.
func wakeAt(t time.Time) {
	if t.IsZero() {
		dueAt.Store(0)
		return
	}
	dueAt.Store(t.UnixNano())
}

var (
	quietUntil atomic.Int64 // unix ns; see holdFrames
	timerSet   atomic.Bool
)

// wake asks for a frame soon (safe from any goroutine); during a hold it
// asks for one when the hold ends.
func wake() {
	t := quietUntil.Load()
	if d := time.Duration(t - time.Now().UnixNano()); d > 0 {
		if timerSet.CompareAndSwap(false, true) {
			time.AfterFunc(d, func() {
				timerSet.Store(false)
				wake()
			})
		}
		return
	}
	scheduleFrame()
}

// holdFrames keeps wake from asking for frames for d (0 ends a hold): while
// the crop is dragged the next pointer move brings a frame anyway, and a
// frame that changes nothing still costs ebiten's presents.
func holdFrames(d time.Duration) {
	if d <= 0 {
		quietUntil.Store(0)
		return
	}
	quietUntil.Store(time.Now().Add(d).UnixNano())
}
