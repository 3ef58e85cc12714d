//go:build js

package main

import "syscall/js"

// pageWorkers returns the inference workers site/app.html started before
// app.wasm ran (window.posprobeWorkers): they download and compile
// worker.wasm, and load the first model, while app.wasm downloads. Their
// count comes from navigator.hardwareConcurrency or ?workers=N.
func pageWorkers() []js.Value {
	a := js.Global().Get("posprobeWorkers")
	if a.Type() != js.TypeObject {
		return nil
	}
	ws := make([]js.Value, a.Length())
	for i := range ws {
		ws[i] = a.Index(i)
	}
	return ws
}
