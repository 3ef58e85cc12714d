package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestActivationsSpecialValues checks the branch-free kernels (two builds:
// native and wasm) against the definitions, NaN and infinities included.
func TestActivationsSpecialValues(t *testing.T) {
	nan := float32(math.NaN())
	negNaN := math.Float32frombits(math.Float32bits(nan) | 1<<31)
	inf := float32(math.Inf(1))
	x := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 6, math.Nextafter32(6, 7), math.Nextafter32(6, 0),
		inf, -inf, nan, negNaN, 1e-45, -1e-45, math.MaxFloat32, -math.MaxFloat32, 3, -3, 5}
	r := rand.New(rand.NewPCG(7, 8))
	for range 37 {
		x = append(x, float32(r.NormFloat64()*5))
	}
	same := func(a, b float32) bool { return a == b || (a != a && b != b) }
	for _, tc := range []struct {
		name string
		f    func([]float32)
		ref  func(float32) float32
	}{
		{"relu", relu, func(v float32) float32 {
			if v < 0 {
				return 0
			}
			return v
		}},
		{"relu6", relu6, func(v float32) float32 {
			if v < 0 {
				return 0
			}
			if v > 6 {
				return 6
			}
			return v
		}},
		{"leaky", func(d []float32) { leaky(d, 0.1) }, func(v float32) float32 {
			if v < 0 {
				return v * 0.1
			}
			return v
		}},
	} {
		got := append([]float32(nil), x...)
		tc.f(got)
		for i, v := range x {
			if want := tc.ref(v); !same(got[i], want) {
				t.Errorf("%s(%v) = %v, want %v", tc.name, v, got[i], want)
			}
		}
	}
	for i := 0; i < len(x); i++ {
		for j := 0; j < len(x); j++ {
			a, b := x[i], x[j]
			want := a
			if b > a || b != b {
				want = b
			}
			if a != a {
				want = a
			}
			if got := max32(a, b); !same(got, want) {
				t.Errorf("max32(%v, %v) = %v, want %v", a, b, got, want)
			}
		}
	}
}
