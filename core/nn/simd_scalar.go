//go:build !(goexperiment.simd && wasm)

package nn

import "unsafe"

// Without the SIMD128 kernels (native builds, and wasm without
// GOEXPERIMENT=simd) the hooks do nothing and the scalar loops do all the
// work; see simd_wasm.go.

// simdBuild: the hooks do nothing.
const simdBuild = false

func fillVec([]float32, float32) int                                 { return 0 }
func biasActVec([]float32, float32, Act) int                         { return 0 }
func addVec(_, _ []float32) int                                      { return 0 }
func maxRowVec([]float32, [][]float32, int, int, *maxRowScratch) int { return 0 }

// maxRowScratch is maxRowVec's buffer (unused here).
type maxRowScratch [0]float32

func dw3x3RowVec(_, _, _, _, _ []float32, _ float32, _ int) int   { return 0 }
func winoInCols43([]float32, int) int                             { return 0 }
func winoOutCols43(_, _, _, _, _ []float32, _ int, _ float32) int { return 0 }

func dw3x3ZeroVec(_, _, _ []float32, _ float32, _, _, _, _, _, _ int, _ *[]float32, _ Act) bool {
	return false
}

func lerpVec(_, _, _ []float32, _, _ float32) int { return 0 }

func winoOutRow43([]float32, unsafe.Pointer, uintptr, int) int { return 0 }

func gatherStridedVec(_, _ []float32, _ int) int { return 0 }
