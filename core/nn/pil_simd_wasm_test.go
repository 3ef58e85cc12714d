//go:build goexperiment.simd && wasm

package nn

import (
	"bytes"
	"testing"
)

// TestResizePILVec checks ResizePIL with the SIMD128 vertical pass against
// the scalar loops, byte for byte, up and down, for row lengths with and
// without a tail.
func TestResizePILVec(t *testing.T) {
	for _, c := range [][5]int{{200, 200, 3, 224, 224}, {481, 321, 3, 224, 224}, {37, 29, 1, 50, 61}, {5, 40, 3, 7, 13}} {
		src := hashImage(c[0], c[1], c[2])
		got := ResizePIL(src, c[0], c[1], c[2], c[3], c[4])
		simdOn = false
		want := ResizePIL(src, c[0], c[1], c[2], c[3], c[4])
		simdOn = true
		if !bytes.Equal(got, want) {
			t.Errorf("%v: SIMD and scalar results differ", c)
		}
	}
}
