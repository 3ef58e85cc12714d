//go:build !js

package probe

import "github.com/posprobe/posprobe/wasm/demo"

// encodeResult: natively there is no message to build.
func encodeResult(demo.Result) {}
