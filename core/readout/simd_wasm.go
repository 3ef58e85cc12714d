//go:build goexperiment.simd && wasm

package readout

import (
	"simd/archsimd"
	"unsafe"
)

// lerpVec does o[j] = l0*a[j] + l1*b[j] (a and b at least as long as o) four
// values at a time with SIMD128 (wasm, Go 1.27, GOEXPERIMENT=simd), in the
// scalar loop's order of operations, and returns how many it did; the
// caller's loop does the rest. simd_scalar.go's version does nothing.
func lerpVec(o, a, b []float32, l0, l1 float32) int {
	n := len(o) &^ 3
	if n == 0 {
		return 0
	}
	_, _, _ = o[n-1], a[n-1], b[n-1]
	w0, w1 := archsimd.BroadcastFloat32x4(l0), archsimd.BroadcastFloat32x4(l1)
	po, pa, pb := unsafe.Pointer(&o[0]), unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0])
	for j := uintptr(0); j < uintptr(n); j += 4 {
		x := archsimd.LoadFloat32x4Array((*[4]float32)(unsafe.Add(pa, 4*j)))
		y := archsimd.LoadFloat32x4Array((*[4]float32)(unsafe.Add(pb, 4*j)))
		w0.Mul(x).Add(w1.Mul(y)).StoreArray((*[4]float32)(unsafe.Add(po, 4*j)))
	}
	return n
}
