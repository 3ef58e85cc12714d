package nn

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParsePadMode(t *testing.T) {
	for _, m := range []PadMode{PadZero, PadNone, PadReflect, PadReplicate, PadCircular} {
		got, err := ParsePadMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParsePadMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if m, err := ParsePadMode(" Zeros "); err != nil || m != PadZero {
		t.Errorf("zeros: %v %v", m, err)
	}
	if _, err := ParsePadMode("mirror"); err == nil || !strings.Contains(err.Error(), `"mirror"`) {
		t.Errorf("want an error naming the bad mode, got %v", err)
	}
}

func TestPadNoneIsIdentity(t *testing.T) {
	x := New(1, 2, 3, 4)
	if Pad2D(x, 1, 1, 1, 1, PadNone) != x {
		t.Error("Pad2D with PadNone must return its input")
	}
	c := &Conv2D{InC: 2, OutC: 1, KH: 3, KW: 3, Pad: 1, Mode: PadNone, W: make([]float32, 18)}
	if oh, ow := c.OutSize(3, 4); oh != 1 || ow != 2 {
		t.Errorf("PadNone OutSize = %d,%d, want 1,2", oh, ow)
	}
}

// Reflect and circular pads wider than the input keep folding (PyTorch refuses
// those); the sequences are numpy.pad([1,2,3], 4, mode="reflect"/"wrap"/"edge").
func TestWidePads(t *testing.T) {
	x := FromData([]float32{1, 2, 3}, 1, 1, 1, 3)
	for _, c := range []struct {
		mode PadMode
		want []float32
	}{
		{PadReflect, []float32{1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3}},
		{PadCircular, []float32{3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1}},
		{PadReplicate, []float32{1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3}},
	} {
		got := Data(Pad2D(x, 0, 0, 4, 4, c.mode))
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Errorf("%v: got %v, want %v", c.mode, got, c.want)
				break
			}
		}
	}
}

func TestConvCheck(t *testing.T) {
	for _, c := range []struct {
		conv Conv2D
		msg  string
	}{
		{Conv2D{InC: 3, OutC: 4, KH: 3, KW: 3, Groups: 2, W: make([]float32, 54)}, "divisible"},
		{Conv2D{InC: 3, OutC: 4, KH: 3, KW: 3, W: make([]float32, 10)}, "weight has 10 values"},
		{Conv2D{InC: 3, OutC: 4, KH: 1, KW: 1, W: make([]float32, 12), B: make([]float32, 3)}, "bias"},
	} {
		if err := c.conv.Check(); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Check() = %v, want mention of %q", err, c.msg)
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "channels") {
			t.Errorf("want a panic about channels, got %v", r)
		}
	}()
	c := &Conv2D{InC: 3, OutC: 1, KH: 1, KW: 1, W: make([]float32, 3)}
	c.Forward(New(1, 4, 2, 2))
}

// Folding BN into a bias-free conv must equal conv then BN.
func TestFoldIntoNoBias(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	// weights ~ 1/sqrt(fan-in) keep outputs of order 1, where tol is meaningful
	w := randSlice(r, 108)
	for i := range w {
		w[i] /= 5
	}
	c := &Conv2D{InC: 3, OutC: 4, KH: 3, KW: 3, Stride: 2, Pad: 1, Mode: PadReflect, W: w}
	bn := &BatchNorm{Gamma: randSlice(r, 4), Beta: randSlice(r, 4), Mean: randSlice(r, 4),
		Var: []float32{0.5, 1, 2, 0.8}, Eps: 1e-5}
	x := FromData(randSlice(r, 2*3*9*8), 2, 3, 9, 8)
	want := Data(bn.Forward(c.Forward(x)))
	bn.FoldInto(c)
	if c.B == nil {
		t.Fatal("FoldInto left the conv without a bias")
	}
	closeAll(t, "folded", Data(c.Forward(x)), want)
}

func TestConcatAddCrop(t *testing.T) {
	a := FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 1, 2, 2)
	b := FromData([]float32{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160}, 2, 2, 2, 2)
	got := Concat(a, b)
	want := []float32{1, 2, 3, 4, 10, 20, 30, 40, 50, 60, 70, 80, 5, 6, 7, 8, 90, 100, 110, 120, 130, 140, 150, 160}
	if s := got.Shape(); s[0] != 2 || s[1] != 3 || s[2] != 2 || s[3] != 2 {
		t.Fatalf("shape %v", s)
	}
	closeAll(t, "concat", Data(got), want)
	Add(a, FromData([]float32{1, 1, 1, 1, 2, 2, 2, 2}, 2, 1, 2, 2))
	closeAll(t, "add", Data(a), []float32{2, 3, 4, 5, 7, 8, 9, 10})
}

func TestLinearFlattens(t *testing.T) {
	l := &Linear{In: 3, Out: 2, W: []float32{1, 0, -1, 2, 2, 2}}
	got := l.Forward(FromData([]float32{1, 2, 3, 0, 1, 0}, 2, 3, 1, 1))
	closeAll(t, "linear", Data(got), []float32{-2, 12, 0, 2})
}

func TestSoftmaxExtremes(t *testing.T) {
	x := Softmax([]float32{1000, 1000, -1000})
	closeAll(t, "softmax", x, []float32{0.5, 0.5, 0})
	if len(Softmax(nil)) != 0 {
		t.Error("empty softmax")
	}
}

func TestResizePILIdentityCopies(t *testing.T) {
	src := hashImage(5, 4, 3)
	got := ResizePIL(src, 5, 4, 3, 5, 4)
	if string(got) != string(src) || &got[0] == &src[0] {
		t.Error("same-size ResizePIL must return an equal copy")
	}
}

// ConcatConvsIn equals ConcatIn of the convs' outputs, for one image (written
// in place) and for a batch.
func TestConcatConvs(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	c1 := &Conv2D{InC: 5, OutC: 3, KH: 1, KW: 1, W: randSlice(r, 15), B: randSlice(r, 3)}
	c3 := &Conv2D{InC: 5, OutC: 4, KH: 3, KW: 3, Pad: 1, W: randSlice(r, 4*5*9), B: randSlice(r, 4)}
	for _, n := range []int{1, 2} {
		x := FromData(randSlice(r, n*5*9*11), n, 5, 9, 11)
		want := Data(Concat(ReLU(c1.Forward(x)), ReLU(c3.Forward(x))))
		a := NewArena()
		got := ConcatConvsIn(a, x, ActReLU, c1, c3)
		if s := got.Shape(); s[0] != n || s[1] != 7 || s[2] != 9 || s[3] != 11 {
			t.Fatalf("n %d: shape %v", n, s)
		}
		for i, v := range Data(got) {
			if v != want[i] {
				t.Fatalf("n %d: [%d] = %g, want %g", n, i, v, want[i])
			}
		}
	}
}
