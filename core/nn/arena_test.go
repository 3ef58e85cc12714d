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
	if z := a.New(3, 2); first(z) != first(x) {
		t.Error("a released buffer of the same size was not reused")
	}
	if w := a.New(4, 3); first(w) == first(y) {
		t.Error("a live buffer was handed out again")
	}
	in := New(2, 3)
	a.Release(in, nil) // not the arena's: ignored
	if z := a.New(2, 3); first(z) == first(in) {
		t.Error("the arena took a tensor it did not hand out")
	}
	// End of pass: y is a result, everything else comes back.
	a.Reset(y)
	if a.Owned() != 0 {
		t.Errorf("%d tensors still owned after Reset", a.Owned())
	}
	got := map[*float32]bool{}
	for range 3 {
		got[first(a.New(2, 3))] = true
	}
	if got[first(y)] {
		t.Error("a kept result was reused")
	}
	if !got[first(x)] {
		t.Error("a pass intermediate was not reused by the next pass")
	}
	// y recycled: the next pass may take it.
	a.Reset()
	a.Recycle(y)
	a.Recycle(y.ShallowClone()) // owned by the free list already: a second copy must not appear
	seen := 0
	for range 5 {
		if first(a.New(2, 3)) == first(y) {
			seen++
		}
	}
	if seen != 1 {
		t.Errorf("recycled buffer handed out %d times in one pass, want 1", seen)
	}
	// A pass that uses nothing of size 6 drops those buffers.
	a.Reset()
	if a.FreeValues() == 0 {
		t.Fatal("no free buffers after a pass")
	}
	a.New(7)
	a.Reset()
	if got := a.FreeValues(); got != 7 {
		t.Errorf("free list keeps %d values, want the 7 the last pass used", got)
	}
	// A nil arena allocates fresh zeroed tensors and ignores the rest.
	var nilA *Arena
	z := nilA.New(2, 2)
	if !slices.Equal(Data(z), make([]float32, 4)) {
		t.Error("nil arena tensor not zeroed")
	}
	nilA.Release(z)
	nilA.Reset(z)
	nilA.Recycle(z)
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
		a.Reset()
	}
}
