//go:build js

package weights

// builtinData: the js/wasm builds leave the weight files out (the page fetches
// them), so that app.wasm and worker.wasm stay small.
func builtinData(string) []byte { return nil }
