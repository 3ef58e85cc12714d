package onnx

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/posprobe/posprobe/core/nn"
)

var negInf = math.Inf(-1)

// Ops lists the supported operators (opsets 11-18 and most earlier ones).
func Ops() []string {
	var s []string
	for k := range unary {
		s = append(s, k)
	}
	s = append(s, "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization",
		"Clip", "Add", "Sub", "Mul", "Div", "ReduceMean", "Concat", "Flatten", "Reshape", "Transpose", "Pad",
		"Identity", "Dropout", "Constant", "Squeeze", "Unsqueeze", "Gemm", "MatMul", "Softmax", "Shape",
		"Gather", "Cast", "ConstantOfShape", "Slice")
	sort.Strings(s)
	return s
}

// compileOp sets st.run for the node, or names why it cannot.
func compileOp(net *Net, st *step) error {
	n := st.node
	var err error
	if f, ok := unary[n.OpType]; ok {
		err = compileUnary(st, f(attrs{n}))
	} else {
		switch n.OpType {
		case "Conv":
			err = compileConv(net, st)
		case "MaxPool", "AveragePool":
			err = compilePool(net, st, n.OpType == "MaxPool")
		case "GlobalAveragePool", "GlobalMaxPool":
			st.run = globalPool(n.OpType == "GlobalMaxPool")
		case "BatchNormalization":
			err = compileBN(net, st)
		case "Clip":
			err = compileClip(net, st)
		case "Add", "Sub", "Mul", "Div":
			st.run = binaryOp(n.OpType)
		case "ReduceMean":
			err = compileReduceMean(net, st)
		case "Concat":
			err = compileConcat(st)
		case "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout":
			err = compileReshape(net, st)
		case "Transpose":
			err = compileTranspose(st)
		case "Pad":
			err = compilePad(net, st)
		case "Constant":
			err = compileConstant(st)
		case "Gemm":
			err = compileGemm(st)
		case "MatMul":
			st.run = matmul
		case "Softmax":
			st.run = softmax(net.Opset, attrs{n}.int("axis", map[bool]int64{true: -1, false: 1}[net.Opset >= 13]))
		case "Shape":
			st.run = shapeOp(attrs{n}.int("start", 0), attrs{n}.int("end", math.MaxInt32), n.Attrs["end"] != nil)
		case "Gather":
			st.run = gather(attrs{n}.int("axis", 0))
		case "Cast":
			st.run = cast(attrs{n}.int("to", TypeFloat))
		case "ConstantOfShape":
			err = compileConstantOfShape(st)
		case "Slice":
			err = compileSlice(net, st)
		default:
			return nodeErr(n, "operator %s is not supported (supported: %s)", n.OpType, strings.Join(Ops(), ", "))
		}
	}
	if err != nil {
		return nodeErr(n, "%v", err)
	}
	if len(st.node.Inputs) == 0 && n.OpType != "Constant" {
		return nodeErr(n, "no inputs")
	}
	return nil
}

// unary are the element-wise activations, built from their attributes.
var unary = map[string]func(a attrs) func(float32) float32{
	"Relu": func(attrs) func(float32) float32 {
		return func(x float32) float32 {
			if x > 0 || x != x {
				return x
			}
			return 0
		}
	},
	"LeakyRelu": func(a attrs) func(float32) float32 {
		s := a.float("alpha", 0.01)
		return func(x float32) float32 {
			if x < 0 {
				return x * s
			}
			return x
		}
	},
	"Sigmoid": func(attrs) func(float32) float32 { return sigmoid },
	"HardSigmoid": func(a attrs) func(float32) float32 {
		al, be := a.float("alpha", 0.2), a.float("beta", 0.5)
		return func(x float32) float32 { return max(0, min(1, al*x+be)) }
	},
	"HardSwish": func(attrs) func(float32) float32 {
		return func(x float32) float32 { return x * max(0, min(1, x/6+0.5)) }
	},
	"Tanh": func(attrs) func(float32) float32 {
		return func(x float32) float32 { return float32(math.Tanh(float64(x))) }
	},
	"Elu": func(a attrs) func(float32) float32 {
		al := a.float("alpha", 1)
		return func(x float32) float32 {
			if x < 0 {
				return al * float32(math.Expm1(float64(x)))
			}
			return x
		}
	},
}

func sigmoid(x float32) float32 {
	if x >= 0 {
		return float32(1 / (1 + math.Exp(-float64(x))))
	}
	e := math.Exp(float64(x))
	return float32(e / (1 + e))
}

// out1 returns the output of a step that may overwrite input j: the input
// itself when nothing else reads it, else fresh memory.
func (r *runCtx) out1(j int, v *value) *value {
	if r.mutable(j) {
		return alias(v, v.shape)
	}
	return r.newF(v.shape...)
}

func compileUnary(st *step, f func(float32) float32) error {
	relu := st.node.OpType == "Relu"
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		x := in[0]
		if x == nil || x.isInt {
			return nil, fmt.Errorf("want a float input")
		}
		y := r.out1(0, x)
		if relu && len(x.shape) == 4 && len(y.f) > 0 && y.buf != nil && &y.f[0] == &x.f[0] {
			nn.ReLU(dense(y)) // the project's vectorised in-place ReLU
			return []*value{y}, nil
		}
		for i, v := range x.f {
			y.f[i] = f(v)
		}
		return []*value{y}, nil
	}
	return nil
}

func compileClip(net *Net, st *step) error {
	a := attrs{st.node}
	lo, hi := a.float("min", float32(math.Inf(-1))), a.float("max", float32(math.Inf(1)))
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		lo, hi := lo, hi
		for j, p := range []*float32{&lo, &hi} {
			if j+1 < len(in) && in[j+1] != nil {
				b := in[j+1]
				if b.size() != 1 {
					return nil, fmt.Errorf("bound has %d values, want 1", b.size())
				}
				if b.isInt {
					*p = float32(b.i[0])
				} else {
					*p = b.f[0]
				}
			}
		}
		x := in[0]
		if x.isInt {
			return nil, fmt.Errorf("want a float input")
		}
		y := r.out1(0, x)
		for i, v := range x.f {
			y.f[i] = max(lo, min(hi, v))
		}
		return []*value{y}, nil
	}
	return nil
}

func globalPool(isMax bool) func(r *runCtx, in []*value) ([]*value, error) {
	return func(r *runCtx, in []*value) ([]*value, error) {
		x, err := image4(in[0], 0)
		if err != nil {
			return nil, err
		}
		if !isMax {
			return []*value{fromDense(nn.GlobalAvgPoolIn(r.a, dense(x)))}, nil
		}
		n, c, hw := x.shape[0], x.shape[1], x.shape[2]*x.shape[3]
		y := r.newF(n, c, 1, 1)
		for p := range y.f {
			m := float32(negInf)
			for _, v := range x.f[p*hw : (p+1)*hw] {
				m = max(m, v)
			}
			y.f[p] = m
		}
		return []*value{y}, nil
	}
}

func compileBN(net *Net, st *step) error {
	if len(st.node.Outputs) > 1 && slices.ContainsFunc(st.node.Outputs[1:], func(s string) bool { return s != "" }) {
		return fmt.Errorf("training mode (running statistics outputs) is not supported")
	}
	var p [4]*value
	for j := range p {
		if p[j] = constInput(net, st, j+1); p[j] == nil || p[j].isInt {
			return fmt.Errorf("scale, bias, mean and variance must be float initializers")
		}
	}
	c := p[0].size()
	for _, v := range p {
		if v.size() != c {
			return fmt.Errorf("parameters of different lengths")
		}
	}
	eps := float64(attrs{st.node}.float("epsilon", 1e-5))
	scale, shift := make([]float32, c), make([]float32, c)
	for i := range c {
		s := float64(p[0].f[i]) / math.Sqrt(float64(p[3].f[i])+eps)
		scale[i], shift[i] = float32(s), float32(float64(p[1].f[i])-float64(p[2].f[i])*s)
	}
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		x := in[0]
		if x.isInt || len(x.shape) < 2 || x.shape[1] != c {
			return nil, fmt.Errorf("input shape %v, want [N,%d,...]", x.shape, c)
		}
		y := r.out1(0, x)
		inner := prod(x.shape[2:])
		for i := 0; i < x.shape[0]*c; i++ {
			s, b := scale[i%c], shift[i%c]
			for j := i * inner; j < (i+1)*inner; j++ {
				y.f[j] = x.f[j]*s + b
			}
		}
		return []*value{y}, nil
	}
	return nil
}

func compileReduceMean(net *Net, st *step) error {
	a := attrs{st.node}
	keep := a.int("keepdims", 1) != 0
	axesAttr, hasAttr := a.ints("axes")
	noopEmpty := a.int("noop_with_empty_axes", 0) != 0
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		x := in[0]
		if x.isInt {
			return nil, fmt.Errorf("want a float input")
		}
		axes := axesAttr
		if !hasAttr && len(in) > 1 && in[1] != nil {
			var err error
			if axes, err = intsOf(in[1]); err != nil {
				return nil, err
			}
		}
		if len(axes) == 0 && noopEmpty {
			return []*value{alias(x, x.shape)}, nil
		}
		red := make([]bool, len(x.shape))
		for _, ax := range axes {
			k, err := axis(ax, len(x.shape))
			if err != nil {
				return nil, err
			}
			red[k] = true
		}
		if len(axes) == 0 {
			for k := range red {
				red[k] = true
			}
		}
		var shape, kept []int
		for k, d := range x.shape {
			if red[k] {
				if keep {
					shape = append(shape, 1)
				}
				kept = append(kept, 1)
			} else {
				shape = append(shape, d)
				kept = append(kept, d)
			}
		}
		if len(x.shape) == 4 && red[2] && red[3] && !red[0] && !red[1] {
			y := fromDense(nn.GlobalAvgPoolIn(r.a, dense(x)))
			y.shape = shape
			return []*value{y}, nil
		}
		y := r.newF(shape...)
		sum := make([]float64, y.size())
		cnt := x.size() / max(y.size(), 1)
		strides := broadcastStrides(kept, x.shape)
		forIndex(x.shape, func(i int, idx []int) {
			o := 0
			for k, v := range idx {
				o += v * strides[k]
			}
			sum[o] += float64(x.f[i])
		})
		for i, s := range sum {
			y.f[i] = float32(s / float64(cnt))
		}
		return []*value{y}, nil
	}
	return nil
}

// forIndex calls f for every element of shape with its flat and multi index.
func forIndex(shape []int, f func(i int, idx []int)) {
	n := prod(shape)
	idx := make([]int, len(shape))
	for i := 0; i < n; i++ {
		f(i, idx)
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
}

// broadcastStrides returns, for a tensor of shape s read along out (same
// rank, s[k] == out[k] or 1), the stride of each axis (0 where broadcast).
func broadcastStrides(s, out []int) []int {
	st := make([]int, len(out))
	acc := 1
	for k := len(s) - 1; k >= 0; k-- {
		if s[k] != 1 || out[k] == 1 {
			st[k] = acc
		}
		acc *= s[k]
	}
	return st
}

func compileConstant(st *step) error {
	n := st.node
	for name, a := range n.Attrs {
		var v *value
		switch name {
		case "value":
			if a.T == nil {
				return fmt.Errorf("value is not a tensor")
			}
			v = tensorValue(a.T)
		case "value_float":
			v = &value{shape: []int{}, f: []float32{a.F}}
		case "value_floats":
			v = &value{shape: []int{len(a.Floats)}, f: a.Floats}
		case "value_int":
			v = &value{shape: []int{}, i: []int64{a.I}, isInt: true}
		case "value_ints":
			v = &value{shape: []int{len(a.Ints)}, i: a.Ints, isInt: true}
		default:
			continue
		}
		st.run = func(*runCtx, []*value) ([]*value, error) { return []*value{v}, nil }
		return nil
	}
	return fmt.Errorf("no supported value attribute")
}

func compileConstantOfShape(st *step) error {
	v := &value{shape: []int{1}, f: []float32{0}}
	if a, ok := st.node.Attrs["value"]; ok && a.T != nil {
		v = tensorValue(a.T)
		if v.size() != 1 {
			return fmt.Errorf("value must hold one element")
		}
	}
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		s, err := shapeArg(in[0])
		if err != nil {
			return nil, err
		}
		y := &value{shape: s, isInt: v.isInt}
		if v.isInt {
			y.i = make([]int64, prod(s))
			for i := range y.i {
				y.i[i] = v.i[0]
			}
		} else {
			y.f = make([]float32, prod(s))
			for i := range y.f {
				y.f[i] = v.f[0]
			}
		}
		return []*value{y}, nil
	}
	return nil
}

// shapeArg reads a 1-d shape tensor, bounding the element count.
func shapeArg(v *value) ([]int, error) {
	d, err := intsOf(v)
	if err != nil {
		return nil, err
	}
	if len(d) > MaxRank {
		return nil, fmt.Errorf("shape of rank %d", len(d))
	}
	s := make([]int, len(d))
	n := int64(1)
	for i, x := range d {
		if x < 0 || x > MaxTensorElems {
			return nil, fmt.Errorf("bad dimension %d", x)
		}
		n *= x
		if n > MaxTensorElems {
			return nil, fmt.Errorf("shape %v too large", d)
		}
		s[i] = int(x)
	}
	return s, nil
}

func softmax(opset, ax int64) func(r *runCtx, in []*value) ([]*value, error) {
	return func(r *runCtx, in []*value) ([]*value, error) {
		x := in[0]
		if x.isInt {
			return nil, fmt.Errorf("want a float input")
		}
		k, err := axis(ax, len(x.shape))
		if err != nil {
			return nil, err
		}
		// opset < 13 flattens to 2-d at axis; 13+ takes one axis.
		outer, inner, n := prod(x.shape[:k]), prod(x.shape[k+1:]), x.shape[k]
		if opset < 13 {
			outer, inner, n = prod(x.shape[:k]), 1, prod(x.shape[k:])
		}
		y := r.newF(x.shape...)
		for o := 0; o < outer; o++ {
			for j := 0; j < inner; j++ {
				base := o*n*inner + j
				m := float32(negInf)
				for t := 0; t < n; t++ {
					m = max(m, x.f[base+t*inner])
				}
				var s float64
				for t := 0; t < n; t++ {
					e := math.Exp(float64(x.f[base+t*inner] - m))
					y.f[base+t*inner] = float32(e)
					s += e
				}
				for t := 0; t < n; t++ {
					y.f[base+t*inner] = float32(float64(y.f[base+t*inner]) / s)
				}
			}
		}
		return []*value{y}, nil
	}
}
