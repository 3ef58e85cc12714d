package encoder

import (
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/nn"
)

// Options.Before sees the input of each tap's layers once per pass; an
// identity leaves the taps as they were, and a channel reversal before
// fire5's layers changes fire5 onwards but not conv1 and fire3.
func TestSqueezeNetBefore(t *testing.T) {
	x := fixedInput(1, 64, 64)
	run := func(before func(int, *tensor.Dense) *tensor.Dense) [][]float32 {
		enc, err := New("squeezenet1.1", Options{Init: InitRandom, Width: 16, Padding: nn.PadZero, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		taps, err := enc.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for _, tp := range taps {
			out = append(out, slices.Clone(nn.Data(tp)))
		}
		return out
	}
	plain := run(nil)
	var seen []int
	same := run(func(tap int, in *tensor.Dense) *tensor.Dense { seen = append(seen, tap); return in })
	if !slices.Equal(seen, []int{0, 1, 2, 3, 4}) {
		t.Errorf("Before saw taps %v, want 0..4", seen)
	}
	for i := range plain {
		if !slices.Equal(plain[i], same[i]) {
			t.Errorf("tap %d changed by an identity Before", i)
		}
	}
	rev := run(func(tap int, in *tensor.Dense) *tensor.Dense {
		if tap != 2 {
			return in
		}
		n, c, h, w := nn.Dims4(in)
		out := nn.New(n, c, h, w)
		for ch := 0; ch < c; ch++ {
			copy(nn.Data(out)[ch*h*w:(ch+1)*h*w], nn.Data(in)[(c-1-ch)*h*w:(c-ch)*h*w])
		}
		return out
	})
	for i := range plain {
		if changed := !slices.Equal(plain[i], rev[i]); changed != (i >= 2) {
			t.Errorf("tap %d changed %v by reversing fire5's input channels", i, changed)
		}
	}
	if _, err := New("vgg16", Options{Init: InitRandom, Width: 4, Before: func(_ int, x *tensor.Dense) *tensor.Dense { return x }}); err == nil {
		t.Error("vgg16 accepted a Before it does not apply")
	}
}
