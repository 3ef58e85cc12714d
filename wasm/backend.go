package main

import "github.com/posprobe/posprobe/wasm/demo"

// backend runs the models. Natively (the desktop window) it calls the core
// packages on the scheduler's goroutine; in the browser it hands the work to
// a Web Worker running worker.wasm, because Go's wasm is one thread and a
// 150 ms forward pass would freeze the canvas and the drag with it.
type backend interface {
	// Truth returns a target's size×size ground-truth map.
	Truth(target string, size int) ([]float32, error)
	// Load builds model i (demo.Models[i]); it blocks, and reports progress
	// as a fraction in [0,1] with a message. missing lists the readout
	// files not found.
	Load(i int, src demo.Source, man demo.Manifest, progress func(float64, string)) (p demo.Predictor, missing []string, err error)
	// SetPhoto tells the backend the bytes of photo id before any request
	// for it; it must not block the UI loop.
	SetPhoto(id int, data []byte, name string)
	// Runner returns what runs the requests, latest crop wins.
	Runner() runner
}

// runner takes prediction requests and hands back their results; a newer
// request supersedes older ones not yet started. demo.Scheduler is one.
type runner interface {
	Submit(req demo.Request)
	// Poll returns the newest result not returned before.
	Poll() (demo.Result, bool)
	// Busy reports whether a request is running or waiting.
	Busy() bool
}
