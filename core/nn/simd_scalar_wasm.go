//go:build wasm && !goexperiment.simd

package nn

// The activation hooks exist only where act_wasm.go calls them; without
// GOEXPERIMENT=simd they do nothing (see simd_scalar.go).

func reluVec([]float32) int  { return 0 }
func relu6Vec([]float32) int { return 0 }
