//go:build goexperiment.simd && wasm

package nn

import (
	"simd/archsimd"
	"unsafe"
)

// pilAccVec does acc[i] += int32(row[i]) * kv (ResizePIL's vertical pass)
// for a prefix of acc, a multiple of 16 values, with SIMD128, and returns
// its length; row is at least as long as acc. Wrapping 32-bit integer
// arithmetic, unsigned or not, gives the scalar loop's values exactly.
func pilAccVec(acc []int32, row []uint8, kv int32) int {
	n := len(acc) &^ 15
	if !simdOn || n == 0 {
		return 0
	}
	_, _ = acc[n-1], row[n-1]
	k := archsimd.BroadcastUint32x4(uint32(kv))
	pa, pr := unsafe.Pointer(&acc[0]), unsafe.Pointer(&row[0])
	for i := uintptr(0); i < uintptr(n); i += 16 {
		b := archsimd.LoadUint8x16Array((*[16]uint8)(unsafe.Add(pr, i)))
		lo, hi := b.ExtendLo8ToUint16(), b.ExtendHi8ToUint16()
		a0 := (*[4]uint32)(unsafe.Add(pa, 4*i))
		a1 := (*[4]uint32)(unsafe.Add(pa, 4*i+16))
		a2 := (*[4]uint32)(unsafe.Add(pa, 4*i+32))
		a3 := (*[4]uint32)(unsafe.Add(pa, 4*i+48))
		archsimd.LoadUint32x4Array(a0).Add(lo.ExtendLo4ToUint32().Mul(k)).StoreArray(a0)
		archsimd.LoadUint32x4Array(a1).Add(lo.ExtendHi4ToUint32().Mul(k)).StoreArray(a1)
		archsimd.LoadUint32x4Array(a2).Add(hi.ExtendLo4ToUint32().Mul(k)).StoreArray(a2)
		archsimd.LoadUint32x4Array(a3).Add(hi.ExtendHi4ToUint32().Mul(k)).StoreArray(a3)
	}
	return n
}
