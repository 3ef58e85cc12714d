//go:build js

package probe

import "github.com/posprobe/posprobe/wasm/demo"

// encodeResult builds the worker's result message, as it posts it.
func encodeResult(r demo.Result) { demo.ResultToJS(r) }
