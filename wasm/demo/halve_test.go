package demo

import (
	"math"
	"testing"
)

func TestHalve(t *testing.T) {
	m := []float32{
		0, 1, 2, 3,
		4, 5, 6, 7,
		8, 9, 10, 11,
		12, 13, 14, float32(math.NaN()),
	}
	got := Halve(make([]float32, 1), m, 4)
	want := []float32{2.5, 4.5, 10.5}
	if len(got) != 4 {
		t.Fatalf("len %d, want 4", len(got))
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("got[%d] = %v, want %v", i, got[i], w)
		}
	}
	if got[3] == got[3] {
		t.Errorf("a block with NaN gave %v, want NaN (painted grey)", got[3])
	}
}
