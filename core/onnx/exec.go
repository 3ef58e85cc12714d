package onnx

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// value is a tensor flowing through the graph: float32 maps (f) or int64
// shape arithmetic (i). buf, when set, is the arena tensor holding f; values
// that alias it (Reshape, Identity, in-place activations) share one owner.
type value struct {
	shape []int
	f     []float32
	i     []int64
	isInt bool
	buf   *owner
}

type owner struct {
	t    *tensor.Dense
	refs int
}

func (v *value) size() int { return prod(v.shape) }

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// step is a compiled node.
type step struct {
	node *Node
	in   []int // value ids, -1 for an omitted optional input
	out  []int
	run  func(r *runCtx, in []*value) ([]*value, error)
	// static: every input is a constant or derives from shapes only, so
	// the outputs depend on the input shape alone and are cached per shape.
	static bool
}

// Net is an ONNX graph compiled for the project's kernels.
type Net struct {
	Opset   int64
	Input   string // the image input
	Outputs []string
	ids     map[string]int
	names   []string
	consts  []*value // by id; nil when computed
	steps   []*step
	padding nn.PadMode
	folded  int // values made by constant folding (capped)

	mu    sync.Mutex
	cache map[string][]*value // static values by input shape
}

// compileErr names the node in an error.
func nodeErr(n *Node, format string, args ...any) error {
	name := n.Name
	if name == "" && len(n.Outputs) > 0 {
		name = "-> " + n.Outputs[0]
	}
	return fmt.Errorf("node %q (%s): %s", name, n.OpType, fmt.Sprintf(format, args...))
}

// Compile prepares m to run with the given padding mode (nn.PadZero keeps
// the model's own padding; see surgery in ops.go).
func Compile(m *Model, padding nn.PadMode) (*Net, error) {
	g := m.Graph
	net := &Net{Opset: m.Opset, ids: map[string]int{}, padding: padding, cache: map[string][]*value{}}
	id := func(name string) int {
		if k, ok := net.ids[name]; ok {
			return k
		}
		net.ids[name] = len(net.names)
		net.names = append(net.names, name)
		net.consts = append(net.consts, nil)
		return len(net.names) - 1
	}
	for _, t := range g.Initializers {
		if t.External != nil {
			return nil, fmt.Errorf("initializer %q: external data not loaded (read the model with ReadFile)", t.Name)
		}
		net.consts[id(t.Name)] = tensorValue(t)
	}
	for _, in := range g.Inputs {
		if _, ok := net.ids[in.Name]; ok {
			continue // an initializer listed as input (older exporters)
		}
		if net.Input != "" {
			return nil, fmt.Errorf("the graph has more than one input (%s, %s): posprobe feeds one image", net.Input, in.Name)
		}
		net.Input = in.Name
		id(in.Name)
	}
	if net.Input == "" {
		return nil, errors.New("the graph has no input")
	}
	known := map[int]bool{net.ids[net.Input]: true}
	static := map[int]bool{}
	for k, c := range net.consts {
		if c != nil {
			known[k], static[k] = true, true
		}
	}
	for _, n := range g.Nodes {
		if n.Domain != "" && n.Domain != "ai.onnx" {
			return nil, nodeErr(n, "operator domain %q is not supported", n.Domain)
		}
		st := &step{node: n, static: true}
		for _, name := range n.Inputs {
			if name == "" {
				st.in = append(st.in, -1)
				continue
			}
			k, ok := net.ids[name]
			if !ok || !known[k] {
				return nil, nodeErr(n, "input %q is not computed before this node (graph not in topological order?)", name)
			}
			st.in = append(st.in, k)
			st.static = st.static && static[k]
		}
		if n.OpType == "Shape" {
			st.static = true
		}
		if err := compileOp(net, st); err != nil {
			return nil, err
		}
		folded, err := net.fold(st)
		if err != nil {
			return nil, err
		}
		for _, name := range n.Outputs {
			if name == "" {
				st.out = append(st.out, -1)
				continue
			}
			if k, ok := net.ids[name]; ok && known[k] {
				return nil, nodeErr(n, "output %q is written twice", name)
			}
			k := id(name)
			known[k], static[k] = true, st.static
			st.out = append(st.out, k)
			if folded != nil {
				if len(folded) <= len(st.out)-1 || folded[len(st.out)-1] == nil {
					return nil, nodeErr(n, "output %q is not supported", name)
				}
				net.consts[k] = folded[len(st.out)-1]
			}
		}
		if folded == nil {
			net.steps = append(net.steps, st)
		}
	}
	for _, o := range g.Outputs {
		k, ok := net.ids[o.Name]
		if !ok || !known[k] {
			return nil, fmt.Errorf("graph output %q is never computed", o.Name)
		}
		net.Outputs = append(net.Outputs, o.Name)
	}
	return net, nil
}

// fold evaluates, once, a step whose inputs are all constants (no
// dependence on the input at all); nil when it is not one.
func (net *Net) fold(st *step) ([]*value, error) {
	if st.node.OpType == "Shape" || !allConst(net, st) {
		return nil, nil
	}
	in := make([]*value, len(st.in))
	for j, k := range st.in {
		if k >= 0 {
			in[j] = net.consts[k]
		}
	}
	outs, err := (&runCtx{net: net}).call(st, in)
	if err != nil {
		return nil, err
	}
	for _, o := range outs {
		if o != nil {
			o.buf = nil
			net.folded += o.size()
		}
	}
	if net.folded > MaxTensorElems {
		return nil, nodeErr(st.node, "constant folding makes over %d values", MaxTensorElems)
	}
	return outs, nil
}

func allConst(net *Net, st *step) bool {
	for _, k := range st.in {
		if k >= 0 && net.consts[k] == nil {
			return false
		}
	}
	return true
}

// tensorValue converts an initializer or a Constant's tensor.
func tensorValue(t *Tensor) *value {
	shape := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		shape[i] = int(d)
	}
	if t.IsFloat() {
		return &value{shape: shape, f: t.F}
	}
	return &value{shape: shape, i: t.I, isInt: true}
}

// Names lists every value name in graph order (inputs, initializers, then
// node outputs).
func (net *Net) Names() []string { return slices.Clone(net.names) }

// Has reports whether the graph computes a value called name.
func (net *Net) Has(name string) bool {
	_, ok := net.ids[name]
	return ok
}

// runCtx is one pass.
type runCtx struct {
	net  *Net
	a    *nn.Arena
	vals []*value
	st   *step // the step being run
	last []int // last step index reading each value
	keep []bool
	k    int // index of the current step
}

// newF returns a float value of the shape from the arena (contents dirty).
func (r *runCtx) newF(shape ...int) *value {
	checkSize(shape)
	if prod(shape) == 0 {
		return &value{shape: shape, f: []float32{}}
	}
	t := r.a.New(shape...)
	return &value{shape: shape, f: nn.Data(t), buf: &owner{t: t, refs: 1}}
}

// checkSize panics (an error naming the node, once call recovers it) for
// an output over MaxTensorElems: a hostile graph cannot make one huge map.
func checkSize(shape []int) {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > MaxTensorElems/d) {
			panic(fmt.Sprintf("output shape %v is over the %d-value limit", shape, MaxTensorElems))
		}
		n *= d
	}
}

// alias returns a value sharing v's memory with another shape.
func alias(v *value, shape []int) *value {
	if v.buf != nil {
		v.buf.refs++
	}
	return &value{shape: shape, f: v.f, i: v.i, isInt: v.isInt, buf: v.buf}
}

// mutable reports whether input j of the current step may be overwritten:
// an arena value no other live value shares, read for the last time here.
func (r *runCtx) mutable(j int) bool {
	if r.a == nil || j >= len(r.st.in) || r.st.in[j] < 0 {
		return false
	}
	k := r.st.in[j]
	v := r.vals[k]
	return v != nil && v.buf != nil && v.buf.refs == 1 && !r.keep[k] && r.last[k] == r.k
}

// dense wraps a 4-d float value as a tensor for the nn kernels.
func dense(v *value) *tensor.Dense {
	if v.buf != nil && len(nn.Data(v.buf.t)) == len(v.f) && slices.Equal(v.buf.t.Shape(), v.shape) {
		return v.buf.t
	}
	return nn.FromData(v.f, v.shape...)
}

// fromDense makes a value of an arena tensor an nn kernel returned.
func fromDense(t *tensor.Dense) *value {
	return &value{shape: slices.Clone([]int(t.Shape())), f: nn.Data(t), buf: &owner{t: t, refs: 1}}
}

// call runs one step, turning a kernel panic into an error naming the node.
func (r *runCtx) call(st *step, in []*value) (outs []*value, err error) {
	r.st = st
	defer func() {
		if p := recover(); p != nil {
			outs, err = nil, nodeErr(st.node, "%v", p)
		}
	}()
	outs, err = st.run(r, in)
	if err != nil && !strings.HasPrefix(err.Error(), "node ") {
		err = nodeErr(st.node, "%v", err)
	}
	return outs, err
}

// Run computes the named values (graph outputs or intermediates) for the
// input x [N,C,H,W]. Float results come back as tensors that own their memory
// (they leave the arena a); a nil arena allocates everything.
func (net *Net) Run(a *nn.Arena, x *tensor.Dense, want []string) ([]*tensor.Dense, error) {
	wantIDs := make([]int, len(want))
	for i, w := range want {
		k, ok := net.ids[w]
		if !ok {
			return nil, fmt.Errorf("the graph has no tensor %q", w)
		}
		wantIDs[i] = k
	}
	vals, err := net.run(a, x, wantIDs, false, nil)
	if err != nil {
		a.Reset(nil)
		return nil, err
	}
	out := make([]*tensor.Dense, len(want))
	taken := map[*float32]bool{}
	for i, k := range wantIDs {
		v := vals[k]
		if v.isInt {
			f := make([]float32, len(v.i))
			for j, x := range v.i {
				f[j] = float32(x)
			}
			v = &value{shape: v.shape, f: f}
		}
		shape := v.shape
		if len(shape) == 0 {
			shape = []int{1}
		}
		if v.buf == nil {
			out[i] = nn.FromData(slices.Clone(v.f), shape...) // constants stay the net's
			continue
		}
		if len(v.f) == 0 || taken[&v.f[0]] || &nn.Data(v.buf.t)[0] != &v.f[0] {
			out[i] = nn.FromData(slices.Clone(v.f), shape...)
			continue
		}
		taken[&v.f[0]] = true
		out[i] = v.buf.t.ShallowClone()
		out[i].Reshape(shape...)
	}
	a.Reset(out)
	return out, nil
}

// run executes the steps needed for want.
// With all set it runs every step; record, when set, sees every value a
// step computes.
func (net *Net) run(a *nn.Arena, x *tensor.Dense, want []int, all bool, record func(k int, v *value)) ([]*value, error) {
	in := net.ids[net.Input]
	shape := slices.Clone([]int(x.Shape()))
	key := fmt.Sprint(shape)
	// Which steps are needed, and the last reader of every value.
	need := make([]bool, len(net.names))
	for _, k := range want {
		need[k] = true
	}
	run := make([]bool, len(net.steps))
	for s := len(net.steps) - 1; s >= 0; s-- {
		st := net.steps[s]
		for _, k := range st.out {
			if k >= 0 && need[k] {
				run[s] = true
			}
		}
		run[s] = run[s] || all
		if run[s] {
			for _, k := range st.in {
				if k >= 0 {
					need[k] = true
				}
			}
		}
	}
	r := &runCtx{net: net, a: a, vals: make([]*value, len(net.names)), last: make([]int, len(net.names)), keep: make([]bool, len(net.names))}
	for k := range r.last {
		r.last[k] = -1
	}
	for _, k := range want {
		r.keep[k] = true
	}
	for s, st := range net.steps {
		if run[s] {
			for _, k := range st.in {
				if k >= 0 {
					r.last[k] = s
				}
			}
		}
	}
	copy(r.vals, net.consts)
	r.vals[in] = &value{shape: shape, f: nn.Data(x)}
	for s, st := range net.steps {
		if !run[s] {
			continue
		}
		r.k = s
		if st.static && net.cached(key, st, r.vals) {
			continue
		}
		ins := make([]*value, len(st.in))
		for j, k := range st.in {
			if k >= 0 {
				ins[j] = r.vals[k]
			}
		}
		var outs []*value
		var err error
		if st.static {
			sr := &runCtx{net: net, vals: r.vals, last: r.last, keep: r.keep, k: s}
			outs, err = sr.call(st, ins)
		} else {
			outs, err = r.call(st, ins)
		}
		if err != nil {
			return nil, err
		}
		for j, k := range st.out {
			if k < 0 {
				continue
			}
			if j >= len(outs) || outs[j] == nil {
				return nil, nodeErr(st.node, "output %d (%s) is not supported", j, net.names[k])
			}
			r.vals[k] = outs[j]
			if record != nil {
				record(k, outs[j])
			}
		}
		if st.static {
			net.store(key, st, r.vals)
		}
		for _, k := range st.out {
			if k >= 0 && r.last[k] < 0 && !r.keep[k] {
				r.drop(k)
			}
		}
		for _, k := range st.in {
			if k >= 0 && r.last[k] == s && !r.keep[k] {
				r.drop(k)
			}
		}
	}
	return r.vals, nil
}

// cached fills the outputs of a static step from the cache of the input
// shape key, and reports whether all were there.
func (net *Net) cached(key string, st *step, vals []*value) bool {
	net.mu.Lock()
	defer net.mu.Unlock()
	c := net.cache[key]
	if c == nil {
		return false
	}
	for _, k := range st.out {
		if k >= 0 && c[k] == nil {
			return false
		}
	}
	for _, k := range st.out {
		if k >= 0 {
			vals[k] = c[k]
		}
	}
	return true
}

// store remembers the outputs of a static step for the input shape key.
func (net *Net) store(key string, st *step, vals []*value) {
	net.mu.Lock()
	defer net.mu.Unlock()
	c := net.cache[key]
	if c == nil {
		if len(net.cache) >= 64 {
			return
		}
		c = make([]*value, len(net.names))
		net.cache[key] = c
	}
	for _, k := range st.out {
		if k >= 0 {
			c[k] = vals[k]
		}
	}
}

// Info describes one tensor of the graph at a given input size.
type Info struct {
	Name, Op, Node string // Op and Node: the producer ("input", "initializer")
	Shape          []int
	Int            bool
	Stride         int // Conv/pool stride of the producer (1 otherwise)
	Input          string
}

// Inspect runs the whole graph once on x and describes every value it
// computes, in graph order.
func (net *Net) Inspect(x *tensor.Dense) ([]Info, error) {
	shapes := map[int]*value{}
	_, err := net.run(nil, x, nil, true, func(k int, v *value) { shapes[k] = &value{shape: slices.Clone(v.shape), isInt: v.isInt} })
	if err != nil {
		return nil, err
	}
	infos := []Info{{Name: net.Input, Op: "input", Shape: slices.Clone([]int(x.Shape()))}}
	for _, st := range net.steps {
		for _, k := range st.out {
			v := shapes[k]
			if k < 0 || v == nil {
				continue
			}
			in := ""
			if len(st.in) > 0 && st.in[0] >= 0 {
				in = net.names[st.in[0]]
			}
			stride := 1
			if s, err := (attrs{st.node}).intsN("strides", nil, 1); err == nil {
				for _, d := range s {
					stride = max(stride, d)
				}
			}
			infos = append(infos, Info{Name: net.names[k], Op: st.node.OpType, Node: st.node.Name, Shape: v.shape, Int: v.isInt, Stride: stride, Input: in})
		}
	}
	return infos, nil
}

// drop ends the life of value k: its memory returns to the arena once no
// alias is left.
func (r *runCtx) drop(k int) {
	v := r.vals[k]
	r.vals[k] = nil
	if v == nil || v.buf == nil {
		return
	}
	v.buf.refs--
	if v.buf.refs == 0 {
		r.a.Release(v.buf.t)
	}
}
