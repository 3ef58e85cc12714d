// Package nn holds the layers of posprobe's CNN forward pass. Every tensor is a
// float32 gorgonia.org/tensor Dense in NCHW layout; kernels work on the backing
// slice directly.
package nn

import (
	"fmt"

	"gorgonia.org/tensor"
)

// New returns a zeroed float32 tensor of the given shape.
func New(shape ...int) *tensor.Dense {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]float32, n)))
}

// FromData wraps data (not copied) as a tensor of the given shape.
// It panics if len(data) does not match the shape: that is a programming error.
func FromData(data []float32, shape ...int) *tensor.Dense {
	n := 1
	for _, s := range shape {
		n *= s
	}
	if n != len(data) {
		panic(fmt.Sprintf("nn.FromData: %d values for shape %v", len(data), shape))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// Data returns the backing float32 slice of t. It panics if t does not hold
// float32 values.
func Data(t *tensor.Dense) []float32 {
	if t.Dtype() == tensor.Float32 && !t.IsScalar() {
		// The typed accessor, without the reflection (and the allocation
		// per call) of t.Data(); the same slice.
		return t.Float32s()
	}
	return t.Data().([]float32)
}

// Dims4 returns N, C, H, W of a 4-d tensor.
func Dims4(t *tensor.Dense) (n, c, h, w int) {
	s := t.Shape()
	if len(s) != 4 {
		panic(fmt.Sprintf("nn: want a 4-d NCHW tensor, got shape %v", s))
	}
	return s[0], s[1], s[2], s[3]
}

// Batch returns items lo to hi-1 of t's leading (batch) axis as a view that
// shares t's values, shape [hi-lo, ...]: gorgonia's Slice, with the axis
// kept when hi-lo is 1 (Slice drops it). The view's values are one run,
// so Data works on it. It panics unless 0 <= lo < hi <= t.Shape()[0].
func Batch(t *tensor.Dense, lo, hi int) *tensor.Dense {
	s := t.Shape()
	v, err := t.Slice(tensor.S(lo, hi))
	if err != nil || len(s) == 0 || lo < 0 || hi <= lo || hi > s[0] {
		panic(fmt.Sprintf("nn.Batch: items %d to %d of shape %v: %v", lo, hi, s, err))
	}
	view := v.(*tensor.Dense)
	if err := view.Reshape(append([]int{hi - lo}, s[1:]...)...); err != nil {
		panic(err)
	}
	return view
}
