package readout

import (
	"math/rand/v2"
	"testing"
)

// upsampleRef is the upsampler's forward before its loops were tightened:
// the outputs must be bit-identical.
func upsampleRef(u *upsampler, x, y []float32) {
	n, m := u.in, u.out
	tmp := make([]float32, n*m)
	for r := 0; r < n; r++ {
		row, t := x[r*n:(r+1)*n], tmp[r*m:(r+1)*m]
		for d := 0; d < m; d++ {
			t[d] = u.l0[d]*row[u.i0[d]] + u.l1[d]*row[u.i1[d]]
		}
	}
	for d := 0; d < m; d++ {
		a, b := tmp[u.i0[d]*m:(u.i0[d]+1)*m], tmp[u.i1[d]*m:(u.i1[d]+1)*m]
		l0, l1 := u.l0[d], u.l1[d]
		o := y[d*m : (d+1)*m]
		for j := range o {
			o[j] = l0*a[j] + l1*b[j]
		}
	}
}

func TestUpsampleMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, s := range [][2]int{{26, 224}, {28, 224}, {1, 5}, {7, 3}, {5, 5}} {
		u := newUpsampler(s[0], s[1])
		x := make([]float32, s[0]*s[0])
		for i := range x {
			x[i] = rng.Float32()
		}
		got, want := make([]float32, s[1]*s[1]), make([]float32, s[1]*s[1])
		u.forward(x, got, make([]float32, s[0]*s[1]))
		upsampleRef(u, x, want)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v: value %d is %v, want %v", s, i, got[i], want[i])
			}
		}
	}
}

func BenchmarkUpsample26to224(b *testing.B) {
	u := newUpsampler(26, 224)
	x, y, tmp := make([]float32, 26*26), make([]float32, 224*224), make([]float32, 26*224)
	b.Run("new", func(b *testing.B) {
		for b.Loop() {
			u.forward(x, y, tmp)
		}
	})
	b.Run("ref", func(b *testing.B) {
		for b.Loop() {
			upsampleRef(u, x, y)
		}
	})
}
