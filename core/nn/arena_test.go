package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

func first(t *tensor.Dense) *float32 { return &Data(t)[0] }

func TestArenaReuse(t *testing.T) {
	a := NewArena()
	x := a.New(2, 3)
	y := a.New(2, 3)
	a.Release(x)
	z := a.New(3, 2)
	if first(z) != first(x) {
		t.Error("a released buffer of the same size was not reused")
	}
	w := a.New(4, 3)
	if first(w) == first(y) || first(w) == first(z) {
		t.Error("a live buffer was handed out again")
	}
	in := New(2, 3)
	a.Release(in, nil) // not the arena's: ignored
	v := a.New(2, 3)
	if first(v) == first(in) {
		t.Error("the arena took a tensor it did not hand out")
	}
	// Best fit: 5 values go to the 6-value buffer, not the 12-value one.
	a.Release(w, z)
	if v5 := a.New(5); first(v5) != first(z) || len(Data(v5)) != 5 {
		t.Error("best fit did not pick the smallest free buffer that holds the request")
	}
	// End of pass: y (request 1) is a result, everything else comes back.
	res := []*tensor.Dense{y}
	a.Reset(res)
	if a.Owned() != 0 || res[0] != y {
		t.Errorf("after Reset: %d tensors still owned, result replaced %v", a.Owned(), res[0] != y)
	}
	p0 := a.New(2, 3) // request 0: an intermediate, from the free list
	p1 := a.New(2, 3) // request 1: a result last pass, so fresh memory of its size
	if first(p1) == first(y) || first(p0) == first(y) {
		t.Error("a kept result was reused")
	}
	old := []*float32{first(x), first(w), first(v)} // z shares x's buffer
	if !slices.Contains(old, first(p0)) {
		t.Error("a pass intermediate was not reused by the next pass")
	}
	if slices.Contains(old, first(p1)) {
		t.Error("a result was given an intermediate's buffer")
	}
	a.Reset(nil)

	// A result that lands in a bigger buffer is copied out; the buffer stays.
	b := NewArena()
	big := b.New(12)
	b.Release(big)
	r := b.New(2, 3)
	for i := range Data(r) {
		Data(r)[i] = float32(i)
	}
	res = []*tensor.Dense{r, r}
	b.Reset(res)
	if res[0] == r || res[1] != res[0] || !slices.Equal(Data(res[0]), []float32{0, 1, 2, 3, 4, 5}) ||
		!slices.Equal(res[0].Shape(), tensor.Shape{2, 3}) || first(res[0]) == first(big) {
		t.Error("a result in a bigger buffer was not replaced by an exact copy")
	}
	// Recycled results serve the results of the next pass; twice is once.
	b.Recycle(res[0])
	b.Recycle(res[0].ShallowClone())
	if n := b.FreeValues(); n != 12+6 {
		t.Errorf("arena holds %d values after recycling, want 18", n)
	}
	if q := b.New(12); first(q) != first(big) {
		t.Error("the big buffer was not reused")
	}
	if q := b.New(2, 3); first(q) != first(res[0]) {
		t.Error("a recycled result did not serve the same result of the next pass")
	}
	b.Reset(nil)
	// A pass that uses one buffer (7 values in the 12-value one) drops the
	// rest (the 6-value one).
	b.New(7)
	b.Reset(nil)
	if got := b.FreeValues(); got != 12 {
		t.Errorf("free list keeps %d values, want the 12 the last pass used", got)
	}
	// A nil arena allocates fresh zeroed tensors and ignores the rest.
	var nilA *Arena
	nv := nilA.New(2, 2)
	if !slices.Equal(Data(nv), make([]float32, 4)) {
		t.Error("nil arena tensor not zeroed")
	}
	nilA.Release(nv)
	nilA.Reset([]*tensor.Dense{nv})
	nilA.Recycle(nv)
}

// dirty fills a's free list with NaN buffers of the given sizes, as a
// previous pass would leave them.
func dirty(a *Arena, sizes ...int) {
	for _, n := range sizes {
		t := a.New(n)
		for i := range Data(t) {
			Data(t)[i] = float32(math.NaN())
		}
		a.Release(t)
	}
	for i := range a.scratch {
		a.scratch[i] = make([]float32, 1<<16)
		for j := range a.scratch[i] {
			a.scratch[i][j] = float32(math.NaN())
		}
	}
}

// TestArenaLayersMatch: the ...In variants on reused, dirty memory give
// bit-identical outputs to the allocating layers.
func TestArenaLayersMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fill := func(d []float32) {
		for i := range d {
			d[i] = float32(r.NormFloat64())
		}
	}
	x := New(2, 8, 11, 9)
	fill(Data(x))
	same := func(name string, got, want *tensor.Dense) {
		t.Helper()
		if !slices.Equal(got.Shape(), want.Shape()) || !slices.Equal(Data(got), Data(want)) {
			t.Errorf("%s: arena output differs", name)
		}
	}
	convs := []*Conv2D{
		{InC: 8, OutC: 6, KH: 3, KW: 3, Stride: 1, Pad: 1, Mode: PadZero},
		{InC: 8, OutC: 6, KH: 3, KW: 3, Stride: 2, Pad: 1, Mode: PadReflect},
		{InC: 8, OutC: 6, KH: 3, KW: 3, Stride: 1, Pad: 1, Mode: PadNone},
		{InC: 8, OutC: 4, KH: 1, KW: 1, Stride: 1},
		{InC: 8, OutC: 8, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 8, Mode: PadZero},
		{InC: 8, OutC: 8, KH: 3, KW: 3, Stride: 2, Pad: 1, Groups: 8, Mode: PadCircular},
		{InC: 8, OutC: 4, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 2, Mode: PadReplicate},
	}
	for i, c := range convs {
		c.W = make([]float32, c.OutC*(c.InC/c.groups())*c.KH*c.KW)
		fill(c.W)
		if i%2 == 0 {
			c.B = make([]float32, c.OutC)
			fill(c.B)
		}
		want := c.Forward(x)
		a := NewArena()
		dirty(a, len(Data(want)))
		same(fmt.Sprintf("conv %d %+v", i, *c), c.ForwardIn(a, x), want)
	}
	a := NewArena()
	for range 2 {
		mp := MaxPool2D(x, 3, 2, 1, true)
		dirty(a, len(Data(mp)))
		same("maxpool", MaxPool2DIn(a, x, 3, 2, 1, true), mp)
		ap := AvgPool2D(x, 3, 2, 1, true, false)
		dirty(a, len(Data(ap)))
		same("avgpool", AvgPool2DIn(a, x, 3, 2, 1, true, false), ap)
		gp := GlobalAvgPool(x)
		dirty(a, len(Data(gp)))
		same("global avgpool", GlobalAvgPoolIn(a, x), gp)
		cr := CenterCrop(x, 7, 5)
		dirty(a, len(Data(cr)))
		same("crop", CenterCropIn(a, x, 7, 5), cr)
		ct := Concat(x, x)
		dirty(a, len(Data(ct)))
		same("concat", ConcatIn(a, x, x), ct)
		same("copy", a.Copy(x), x)
		a.Reset(nil)
	}
}
