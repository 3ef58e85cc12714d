package onnx

import (
	"fmt"
	"math"
)

// attrs reads a node's attributes with defaults.
type attrs struct{ n *Node }

func (a attrs) int(name string, def int64) int64 {
	if x, ok := a.n.Attrs[name]; ok {
		return x.I
	}
	return def
}

func (a attrs) float(name string, def float32) float32 {
	if x, ok := a.n.Attrs[name]; ok {
		return x.F
	}
	return def
}

func (a attrs) str(name, def string) string {
	if x, ok := a.n.Attrs[name]; ok {
		return string(x.S)
	}
	return def
}

func (a attrs) ints(name string) ([]int64, bool) {
	x, ok := a.n.Attrs[name]
	if !ok {
		return nil, false
	}
	return x.Ints, true
}

// intsN returns an ints attribute as ints, each checked to lie in
// [lo, 1<<20]; def when absent.
func (a attrs) intsN(name string, def []int, lo int64) ([]int, error) {
	x, ok := a.ints(name)
	if !ok {
		return def, nil
	}
	out := make([]int, len(x))
	for i, v := range x {
		if v < lo || v > 1<<20 {
			return nil, fmt.Errorf("attribute %s: value %d out of range", name, v)
		}
		out[i] = int(v)
	}
	return out, nil
}

// constInput returns input j of the step as a constant (initializer,
// Constant or folded), or nil.
func constInput(net *Net, st *step, j int) *value {
	if j >= len(st.in) || st.in[j] < 0 {
		return nil
	}
	return net.consts[st.in[j]]
}

// intsOf converts a value of ints (or whole floats) to ints within ±1<<40.
func intsOf(v *value) ([]int64, error) {
	if v.isInt {
		return v.i, nil
	}
	out := make([]int64, len(v.f))
	for i, f := range v.f {
		if f != float32(math.Trunc(float64(f))) || math.Abs(float64(f)) > 1<<40 {
			return nil, fmt.Errorf("want integers, got %v", f)
		}
		out[i] = int64(f)
	}
	return out, nil
}

// axis normalises a possibly negative axis for rank r.
func axis(a int64, r int) (int, error) {
	if a < 0 {
		a += int64(r)
	}
	if a < 0 || a >= int64(r) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", a, r)
	}
	return int(a), nil
}
