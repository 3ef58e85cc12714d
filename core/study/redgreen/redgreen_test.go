package redgreen

import (
	"context"
	"testing"
)

// boxes returns the top-left corners of the 4x4 boxes in channel ch.
func boxes(im []float32, size, ch int) [][2]int {
	var out [][2]int
	p := im[ch*size*size : (ch+1)*size*size]
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			if p[y*size+x] == 1 && (y == 0 || p[(y-1)*size+x] == 0) && (x == 0 || p[y*size+x-1] == 0) {
				out = append(out, [2]int{x, y})
			}
		}
	}
	return out
}

// The generator follows the official rule: class 0 has red left of green in
// rows 3..14, class 1 green left of red in rows 19..30, at least 5 columns
// apart; the Dissimilar twin moves both boxes by 16 rows.
func TestGenerateRule(t *testing.T) {
	c := Default()
	sim := Generate(c, 200, 3, false)
	dis := Generate(c, 200, 3, true)
	for i := range sim.X {
		cls := sim.Labels[i]
		r, g := boxes(sim.X[i], 32, 0), boxes(sim.X[i], 32, 1)
		if len(r) != 1 || len(g) != 1 || cls != i%2 {
			t.Fatalf("image %d: red %v green %v class %d", i, r, g, cls)
		}
		left, right := r[0], g[0]
		lo, hi := 3, 11
		if cls == 1 {
			left, right = g[0], r[0]
			lo, hi = 19, 27
		}
		if left[0] >= right[0] || right[0]-left[0] < 5 || left[0] >= 10 {
			t.Errorf("image %d class %d: boxes at x %d, %d", i, cls, left[0], right[0])
		}
		for _, b := range [][2]int{r[0], g[0]} {
			if b[1] < lo || b[1] >= hi {
				t.Errorf("image %d class %d: box at row %d, want [%d,%d)", i, cls, b[1], lo, hi)
			}
		}
		dr, dg := boxes(dis.X[i], 32, 0), boxes(dis.X[i], 32, 1)
		shift := 16
		if cls == 1 {
			shift = -16
		}
		if len(dr) != 1 || len(dg) != 1 || dr[0] != [2]int{r[0][0], r[0][1] + shift} || dg[0] != [2]int{g[0][0], g[0][1] + shift} || dis.Labels[i] != cls {
			t.Errorf("image %d: dissimilar red %v green %v, similar %v %v", i, dr, dg, r, g)
		}
	}
}

func TestPattern(t *testing.T) {
	rs := []Result{
		{Conv: "same-zero", Test: "similar", Accuracy: .95}, {Conv: "same-zero", Test: "dissimilar", Accuracy: .1},
		{Conv: "full", Test: "similar", Accuracy: .8}, {Conv: "full", Test: "dissimilar", Accuracy: .6},
		{Conv: "same-circular", Test: "similar", Accuracy: .8}, {Conv: "same-circular", Test: "dissimilar", Accuracy: .7},
	}
	want := []bool{true, false, true}
	got := Pattern(rs)
	if len(got) != 3 {
		t.Fatalf("%d checks", len(got))
	}
	for i, c := range got {
		if c.OK != want[i] {
			t.Errorf("%s: %v", c.What, c.OK)
		}
	}
}

// Circular same padding with strides 1, 2, 2, 2 on 32 pixels is exactly
// equivariant to 16-row shifts, so a net, trained or not, gives the same
// prediction on an image and its Dissimilar twin.
func TestCircularIsShiftBlind(t *testing.T) {
	c := Quick()
	c.Epochs = 1
	sim := Generate(c, 50, 9, false)
	dis := Generate(c, 50, 9, true)
	net, _, _, err := trainOne(context.Background(), c, "same-circular", 1, sim, sim, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sim.X {
		a, b := net.Logits(sim.X[i]), net.Logits(dis.X[i])
		for k := range a {
			if d := a[k] - b[k]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("image %d: logits %v on Similar, %v on Dissimilar", i, a, b)
			}
		}
	}
}
