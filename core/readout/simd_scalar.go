//go:build !(goexperiment.simd && wasm)

package readout

// lerpVec: without the SIMD128 build the scalar loop does all the work (see
// simd_wasm.go).
func lerpVec(_, _, _ []float32, _, _ float32) int { return 0 }
