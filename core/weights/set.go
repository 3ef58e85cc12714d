// Package weights reads and writes the weight files of the encoders and
// readouts: NumPy .npy folders, TensorFlow.js layers models, PyTorch
// checkpoints (zip and legacy torch.save formats) and safetensors.
package weights

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// Set is the tensors of one weight file or folder by name, each a float32
// *tensor.Dense in row-major (C) order (a 0-d shape is a scalar). Source
// names the file for error messages.
type Set struct {
	Source  string
	Tensors map[string]*tensor.Dense

	mu   sync.Mutex
	used map[string]bool
}

// NewSet returns an empty set for source.
func NewSet(source string) *Set {
	return &Set{Source: source, Tensors: map[string]*tensor.Dense{}}
}

// Add stores t as name, replacing a tensor of the same name.
func (s *Set) Add(name string, t *tensor.Dense) {
	if s.Tensors == nil {
		s.Tensors = map[string]*tensor.Dense{}
	}
	s.Tensors[name] = t
}

// newTensor wraps data (row-major, len = the product of shape); the tensor
// keeps a copy of shape.
func newTensor(shape []int, data []float32) *tensor.Dense { return nn.FromData(data, shape...) }

// oneRun reports whether t's values lie in one row-major run, all of
// Values(t) in order (a strided view's do not).
func oneRun(t *tensor.Dense) bool { return t.Len() == 0 || !t.RequiresIterator() }

// Values returns t's float32 values in row-major order, the scalar of a 0-d
// tensor included (nn.Data panics on scalars).
func Values(t *tensor.Dense) []float32 { return t.Float32s() }

// Get returns the data of tensor name, checking its shape when one is given.
// The error names the source and the tensor.
func (s *Set) Get(name string, shape ...int) ([]float32, error) {
	t, ok := s.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("%s: no tensor %q", s.Source, name)
	}
	if len(shape) > 0 && !slices.Equal(shape, []int(t.Shape())) {
		return nil, fmt.Errorf("%s: tensor %q: want %v, file has %v", s.Source, name, shape, []int(t.Shape()))
	}
	s.mu.Lock()
	if s.used == nil {
		s.used = map[string]bool{}
	}
	s.used[name] = true
	s.mu.Unlock()
	return Values(t), nil
}

// Has reports whether the set holds a tensor called name.
func (s *Set) Has(name string) bool {
	_, ok := s.Tensors[name]
	return ok
}

// Names returns the tensor names, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.Tensors))
	for n := range s.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Unused returns the sorted names never fetched with Get, so strict loaders
// can report weights a model did not consume.
func (s *Set) Unused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range s.Names() {
		if !s.used[n] {
			out = append(out, n)
		}
	}
	return out
}

// numel multiplies shape, failing on negative dimensions or when the count
// exceeds limit (the element budget the input can justify).
func numel(shape []int, limit int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > limit/d {
			return 0, fmt.Errorf("shape %v is larger than the file", shape)
		}
		n *= d
	}
	if n > limit {
		return 0, fmt.Errorf("shape %v is larger than the file", shape)
	}
	return n, nil
}

// HalfToFloat converts an IEEE 754 binary16 value (float16) to float32.
func HalfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: value = mant * 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// bf16ToFloat converts a bfloat16 value (the top half of a float32).
func bf16ToFloat(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

func joinShape(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, ",")
}
