package channels

import (
	"testing"

	"github.com/posprobe/posprobe/core/nn"
)

func TestMirrorAndOrder(t *testing.T) {
	x := nn.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 1, 2, 3)
	m := nn.Data(mirror(x))
	want := []float32{3, 2, 1, 6, 5, 4}
	for i := range want {
		if m[i] != want[i] {
			t.Fatalf("mirror %v, want %v", m, want)
		}
	}
	rs := []Ranked{{Flip: 1}, {Flip: 3}, {Flip: 2}}
	o := order(rs, func(r Ranked) float64 { return r.Flip })
	if o[0] != 1 || o[1] != 2 || o[2] != 0 {
		t.Fatalf("order %v", o)
	}
	if tap, i := splitName("fire3\x0017"); tap != "fire3" || i != 17 {
		t.Fatalf("splitName: %s %d", tap, i)
	}
}
