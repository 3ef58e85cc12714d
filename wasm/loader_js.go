//go:build js

package main

import (
	"syscall/js"

	"github.com/posprobe/posprobe/wasm/demo"
)

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

// withPageManifest serves site.json from the copy the page's loader read
// (window.posprobeSiteJSON, fetched with cache: "no-cache", so the app
// never pairs a cached manifest with new files) and the rest from src.
func withPageManifest(src demo.Source) demo.Source {
	v := js.Global().Get("posprobeSiteJSON")
	if v.Type() != js.TypeString {
		return src
	}
	return manifestSource{src, []byte(v.String())}
}

type manifestSource struct {
	demo.Source
	manifest []byte
}

func (s manifestSource) Read(path string, progress func(done, total int64)) ([]byte, error) {
	if path == "site.json" {
		return s.manifest, nil
	}
	return s.Source.Read(path, progress)
}
