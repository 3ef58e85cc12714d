//go:build !(goexperiment.simd && wasm)

package nn

// pilAccVec: without the SIMD128 build the scalar loop does all the work
// (see pil_simd_wasm.go).
func pilAccVec([]int32, []uint8, int32) int { return 0 }
