package channels

import (
	"math/rand/v2"
	"sort"
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

// permuter moves whole channel planes per image, and per pixel permutes
// each pixel's channel values; other taps pass through untouched.
func TestPermuter(t *testing.T) {
	const c, hw = 5, 6
	x := nn.New(1, c, 2, 3)
	for i, d := 0, nn.Data(x); i < len(d); i++ {
		d[i] = float32(i)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	if y := permuter(2, false, rng)(1, x); y != x {
		t.Fatal("another tap's input was changed")
	}
	y := nn.Data(permuter(2, false, rng)(2, x))
	moved := false
	for ch := 0; ch < c; ch++ {
		from := int(y[ch*hw]) / hw
		moved = moved || from != ch
		for p := 0; p < hw; p++ {
			if y[ch*hw+p] != float32(from*hw+p) {
				t.Fatalf("per image: channel %d is not a whole plane: %v", ch, y)
			}
		}
	}
	if !moved {
		t.Error("per image: the identity permutation came out")
	}
	y = nn.Data(permuter(2, true, rng)(2, x))
	reordered := 0
	for p := 0; p < hw; p++ {
		var got []int
		for ch := 0; ch < c; ch++ {
			v := int(y[ch*hw+p])
			if v%hw != p {
				t.Fatalf("per position: pixel %d got a value of pixel %d", p, v%hw)
			}
			got = append(got, v/hw)
		}
		sort.Ints(got)
		for ch := range got {
			if got[ch] != ch {
				t.Fatalf("per position: pixel %d channels %v are not a permutation", p, got)
			}
		}
		if int(y[p])/hw != int(y[hw+p])/hw-1 {
			reordered++
		}
	}
	if reordered == 0 {
		t.Error("per position: every pixel kept the same order")
	}
}
