//go:build js

package main

import (
	"syscall/js"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
)

// initFrames makes the page draw frames on demand: ebiten's default loop
// runs every animation frame and, after any change, presents the unchanged
// screen three more times. Where WebGL runs in software (SwiftShader in
// headless Chromium, machines without a GPU) each present costs tens of ms
// of CPU that the inference workers need. Frames now come from input
// events, from results and loading progress (wake), and from a slow
// heartbeat that keeps timers and the decaying rate display honest.
// FPSModeVsyncOffMinimum is deprecated for SetScreenClearedEveryFrame(false),
// which the app also uses, but that alone does not stop the presents.
func initFrames() {
	ebiten.SetFPSMode(ebiten.FPSModeVsyncOffMinimum) //nolint:staticcheck // see above
	cb := js.FuncOf(func(js.Value, []js.Value) any {
		ebiten.ScheduleFrame() //nolint:staticcheck
		return nil
	})
	opts := map[string]any{"capture": true, "passive": true}
	for _, ev := range []string{"pointerdown", "pointermove", "pointerup", "pointercancel", "mousedown", "mousemove", "mouseup",
		"touchstart", "touchmove", "touchend", "touchcancel", "wheel", "keydown", "keyup", "drop", "resize", "focus", "blur"} {
		js.Global().Call("addEventListener", ev, cb, opts)
	}
	go func() {
		for range time.Tick(heartbeat) {
			wake()
		}
	}()
}

// heartbeat is the longest a change not announced by wake waits for a frame.
const heartbeat = 250 * time.Millisecond

// wake asks for a frame soon (safe from any goroutine).
func wake() { ebiten.ScheduleFrame() } //nolint:staticcheck
