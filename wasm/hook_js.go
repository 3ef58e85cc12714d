//go:build js

package main

import (
	"fmt"
	"syscall/js"
)

// installHook publishes window.posprobe for the page and the e2e test:
// state() returns the app state (demo.State.Hook) in photo pixels, and
// openPhoto(bytes, name) replaces the photo (the page's file picker uses it).
func installHook(g *Game) {
	api := js.Global().Get("Object").New()
	api.Set("state", js.FuncOf(func(js.Value, []js.Value) any {
		return g.snapshot().Hook()
	}))
	api.Set("openPhoto", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) < 1 {
			return "openPhoto(bytes, name): no bytes"
		}
		b := make([]byte, args[0].Get("length").Int())
		js.CopyBytesToGo(b, args[0])
		name := "photo"
		if len(args) > 1 {
			name = args[1].String()
		}
		g.openPhoto(b, name)
		return nil
	}))
	js.Global().Set("posprobe", api)
	setProgress(0, "Starting")
}

// logf goes to the browser console (Go's stdout there).
func logf(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// setProgress tells the page's loader how far loading is (fraction in
// [0,1]; negative hides the bar).
func setProgress(frac float64, msg string) {
	up := frac >= 0
	if overlayUp.Swap(up) && !up {
		wake() // the canvas shows again: draw it
	}
	if f := js.Global().Get("posprobeProgress"); f.Type() == js.TypeFunction {
		f.Invoke(frac, msg)
	}
}

// inBrowser: the page around the app already carries the title.
const inBrowser = true

// wheelNotch: browsers report the wheel in pixels (100 a notch in Chromium
// and Firefox on a mouse, a few per event on a touchpad), ebiten's desktop
// build in notches; one notch resizes the crop by 10%.
const wheelNotch = 100
