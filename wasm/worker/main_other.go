//go:build !js

// Command worker is the demo's inference Web Worker; it runs only in the
// browser (GOOS=js GOARCH=wasm, started by site/worker.js).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "worker: the demo's inference worker runs in the browser only (GOOS=js GOARCH=wasm go build -o site/dist/worker.wasm ./wasm/worker)")
	os.Exit(2)
}
