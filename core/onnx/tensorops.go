package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/posprobe/posprobe/core/gemm"
	"github.com/posprobe/posprobe/core/nn"
)

// newLike returns an output of the shape with v's element type.
func (r *runCtx) newLike(v *value, shape []int) *value {
	checkSize(shape)
	if v.isInt {
		return &value{shape: shape, i: make([]int64, prod(shape)), isInt: true}
	}
	return r.newF(shape...)
}

// remap fills a new value of shape with v at the flat index src(idx).
func (r *runCtx) remap(v *value, shape []int, src func(idx []int) int) *value {
	y := r.newLike(v, shape)
	forIndex(shape, func(i int, idx []int) {
		if v.isInt {
			y.i[i] = v.i[src(idx)]
		} else {
			y.f[i] = v.f[src(idx)]
		}
	})
	return y
}

func toFloat(v *value) *value {
	if !v.isInt {
		return v
	}
	f := make([]float32, len(v.i))
	for i, x := range v.i {
		f[i] = float32(x)
	}
	return &value{shape: v.shape, f: f}
}

// crop4 centre-crops a 4-d value to h×w (offsets as torchvision's
// center_crop); v itself when it has that size.
func (r *runCtx) crop4(v *value, h, w int) *value {
	if v.shape[2] == h && v.shape[3] == w {
		return v
	}
	return fromDense(nn.CenterCropIn(r.a, dense(v), h, w))
}

// matchSizes applies the centre-crop rule to 4-d maps whose heights or
// widths differ: all are cut to the smallest. With broadcast (element-wise
// ops) a side of 1 broadcasts and is left alone. It returns the values to use
// and those to release after.
func (r *runCtx) matchSizes(vs []*value, broadcast bool) (out, tmp []*value) {
	h, w := math.MaxInt, math.MaxInt
	for _, v := range vs {
		if v.isInt || len(v.shape) != 4 {
			return vs, nil
		}
		if v.shape[2] > 1 || !broadcast {
			h = min(h, v.shape[2])
		}
		if v.shape[3] > 1 || !broadcast {
			w = min(w, v.shape[3])
		}
	}
	out = slices.Clone(vs)
	for i, v := range vs {
		if (v.shape[2] > h) || (v.shape[3] > w) {
			out[i] = r.crop4(v, min(v.shape[2], h), min(v.shape[3], w))
			tmp = append(tmp, out[i])
		}
	}
	return out, tmp
}

// broadcastShape is numpy's broadcast of a and b.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for k := 0; k < n; k++ {
		da, db := 1, 1
		if j := k - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := k - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[k] = da
		case da == 1:
			out[k] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// padRank left-pads s with ones to rank n.
func padRank(s []int, n int) []int {
	out := make([]int, n)
	for k := range out {
		out[k] = 1
	}
	copy(out[n-len(s):], s)
	return out
}

// blockIndex reports whether s (rank of out) reads out's elements as
// (i/inner)%mid — ones, then out's own dims, then ones — and returns inner
// and mid.
func blockIndex(s, out []int) (inner, mid int, ok bool) {
	lo, hi := 0, len(s)
	for lo < hi && s[lo] == 1 {
		lo++
	}
	for hi > lo && s[hi-1] == 1 {
		hi--
	}
	for k := lo; k < hi; k++ {
		if s[k] != out[k] {
			return 0, 0, false
		}
	}
	return prod(out[hi:]), prod(out[lo:hi]), true
}

func binaryOp(op string) func(r *runCtx, in []*value) ([]*value, error) {
	return func(r *runCtx, in []*value) ([]*value, error) {
		if len(in) != 2 || in[0] == nil || in[1] == nil {
			return nil, fmt.Errorf("want two inputs")
		}
		if in[0].isInt && in[1].isInt {
			return intBinary(op, in[0], in[1])
		}
		vs, tmp := r.matchSizes([]*value{toFloat(in[0]), toFloat(in[1])}, true)
		a, b := vs[0], vs[1]
		shape, err := broadcastShape(a.shape, b.shape)
		if err != nil {
			return nil, err
		}
		var y *value
		switch {
		case slices.Equal(a.shape, shape) && a == in[0] && r.mutable(0):
			y = alias(a, shape)
		case slices.Equal(b.shape, shape) && b == in[1] && r.mutable(1):
			y = alias(b, shape)
		default:
			y = r.newF(shape...)
		}
		f := map[string]func(x, y float32) float32{
			"Add": func(x, y float32) float32 { return x + y },
			"Sub": func(x, y float32) float32 { return x - y },
			"Mul": func(x, y float32) float32 { return x * y },
			"Div": func(x, y float32) float32 { return x / y },
		}[op]
		pa, pb := padRank(a.shape, len(shape)), padRank(b.shape, len(shape))
		ia, ma, oka := blockIndex(pa, shape)
		ib, mb, okb := blockIndex(pb, shape)
		switch {
		case oka && okb && ia == 1 && ib == 1 && ma == len(y.f) && mb == len(y.f) && op == "Add":
			for i := range y.f {
				y.f[i] = a.f[i] + b.f[i]
			}
		case oka && okb && ia == 1 && ib == 1 && ma == len(y.f) && mb == len(y.f) && op == "Mul":
			for i := range y.f {
				y.f[i] = a.f[i] * b.f[i]
			}
		case oka && okb && ia == 1 && ma == len(y.f):
			for i0 := 0; i0 < len(y.f); i0 += ib {
				bv := b.f[(i0/ib)%mb]
				for i := i0; i < i0+ib; i++ {
					y.f[i] = f(a.f[i], bv)
				}
			}
		case oka && okb && ib == 1 && mb == len(y.f):
			for i0 := 0; i0 < len(y.f); i0 += ia {
				av := a.f[(i0/ia)%ma]
				for i := i0; i < i0+ia; i++ {
					y.f[i] = f(av, b.f[i])
				}
			}
		case oka && okb:
			for i := range y.f {
				y.f[i] = f(a.f[(i/ia)%ma], b.f[(i/ib)%mb])
			}
		default:
			sa, sb := broadcastStrides(pa, shape), broadcastStrides(pb, shape)
			forIndex(shape, func(i int, idx []int) {
				oa, ob := 0, 0
				for k, v := range idx {
					oa += v * sa[k]
					ob += v * sb[k]
				}
				y.f[i] = f(a.f[oa], b.f[ob])
			})
		}
		for _, t := range tmp {
			r.release(t)
		}
		return []*value{y}, nil
	}
}

// intBinary is shape arithmetic on int64 tensors.
func intBinary(op string, a, b *value) ([]*value, error) {
	shape, err := broadcastShape(a.shape, b.shape)
	if err != nil {
		return nil, err
	}
	pa, pb := padRank(a.shape, len(shape)), padRank(b.shape, len(shape))
	sa, sb := broadcastStrides(pa, shape), broadcastStrides(pb, shape)
	y := &value{shape: shape, i: make([]int64, prod(shape)), isInt: true}
	var bad error
	forIndex(shape, func(i int, idx []int) {
		oa, ob := 0, 0
		for k, v := range idx {
			oa += v * sa[k]
			ob += v * sb[k]
		}
		x, z := a.i[oa], b.i[ob]
		switch op {
		case "Add":
			y.i[i] = x + z
		case "Sub":
			y.i[i] = x - z
		case "Mul":
			y.i[i] = x * z
		case "Div":
			if z == 0 {
				bad = fmt.Errorf("integer division by zero")
				return
			}
			y.i[i] = x / z
		}
	})
	return []*value{y}, bad
}

func compileConcat(st *step) error {
	ax, ok := st.node.Attrs["axis"]
	if !ok {
		return fmt.Errorf("no axis")
	}
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		if len(in) == 0 {
			return nil, fmt.Errorf("no inputs")
		}
		vs, tmp := in, []*value(nil)
		anyInt, allInt := false, true
		for _, v := range in {
			if v == nil {
				return nil, fmt.Errorf("omitted input")
			}
			anyInt, allInt = anyInt || v.isInt, allInt && v.isInt
		}
		if anyInt && !allInt {
			for i := range vs {
				vs[i] = toFloat(vs[i])
			}
		}
		rank := len(vs[0].shape)
		k, err := axis(ax.I, rank)
		if err != nil {
			return nil, err
		}
		if k == 1 && rank == 4 {
			vs, tmp = r.matchSizes(vs, false)
		}
		shape := slices.Clone(vs[0].shape)
		shape[k] = 0
		for _, v := range vs {
			if len(v.shape) != rank {
				return nil, fmt.Errorf("inputs of ranks %d and %d", rank, len(v.shape))
			}
			for d := range rank {
				if d != k && v.shape[d] != vs[0].shape[d] {
					return nil, fmt.Errorf("shapes %v and %v differ off axis %d", vs[0].shape, v.shape, k)
				}
			}
			shape[k] += v.shape[k]
		}
		y := r.newLike(vs[0], shape)
		outer, inner := prod(shape[:k]), prod(shape[k+1:])
		off := 0
		for _, v := range vs {
			chunk := v.shape[k] * inner
			for o := 0; o < outer; o++ {
				if y.isInt {
					copy(y.i[o*shape[k]*inner+off:], v.i[o*chunk:(o+1)*chunk])
				} else {
					copy(y.f[o*shape[k]*inner+off:], v.f[o*chunk:(o+1)*chunk])
				}
			}
			off += chunk
		}
		for _, t := range tmp {
			r.release(t)
		}
		return []*value{y}, nil
	}
	return nil
}

// compileReshape handles the ops that only change the shape (the output
// shares the input's memory).
func compileReshape(net *Net, st *step) error {
	n := st.node
	a := attrs{n}
	op := n.OpType
	if op == "Dropout" && len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return fmt.Errorf("the mask output is not supported")
	}
	axesAttr, hasAxes := a.ints("axes")
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		x := in[0]
		var shape []int
		switch op {
		case "Identity", "Dropout":
			shape = x.shape
		case "Flatten":
			k := int(a.int("axis", 1))
			if k < 0 {
				k += len(x.shape)
			}
			if k < 0 || k > len(x.shape) {
				return nil, fmt.Errorf("axis %d out of range", k)
			}
			shape = []int{prod(x.shape[:k]), prod(x.shape[k:])}
		case "Reshape":
			if len(in) < 2 || in[1] == nil {
				return nil, fmt.Errorf("no shape input")
			}
			want, err := intsOf(in[1])
			if err != nil {
				return nil, err
			}
			if shape, err = reshapeTo(x.shape, want, a.int("allowzero", 0) != 0); err != nil {
				return nil, err
			}
		case "Squeeze", "Unsqueeze":
			axes := axesAttr
			if !hasAxes && len(in) > 1 && in[1] != nil {
				var err error
				if axes, err = intsOf(in[1]); err != nil {
					return nil, err
				}
			}
			var err error
			if op == "Squeeze" {
				shape, err = squeeze(x.shape, axes)
			} else {
				shape, err = unsqueeze(x.shape, axes)
			}
			if err != nil {
				return nil, err
			}
		}
		if prod(shape) != x.size() {
			return nil, fmt.Errorf("cannot reshape %v to %v", x.shape, shape)
		}
		return []*value{alias(x, shape)}, nil
	}
	return nil
}

func reshapeTo(in []int, want []int64, allowZero bool) ([]int, error) {
	if len(want) > MaxRank {
		return nil, fmt.Errorf("shape %v of rank over %d", want, MaxRank)
	}
	out := make([]int, len(want))
	infer := -1
	known := 1
	for i, d := range want {
		switch {
		case d == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies a dimension %v lacks", want, in)
			}
			out[i] = in[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1", want)
			}
			infer = i
			continue
		case d < 0 || d > MaxTensorElems:
			return nil, fmt.Errorf("bad dimension %d", d)
		default:
			out[i] = int(d)
		}
		known *= out[i]
		if known > MaxTensorElems {
			return nil, fmt.Errorf("shape %v too large", want)
		}
	}
	if infer >= 0 {
		if known == 0 || prod(in)%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", in, want)
		}
		out[infer] = prod(in) / known
	}
	return out, nil
}

func squeeze(in []int, axes []int64) ([]int, error) {
	drop := make([]bool, len(in))
	for _, a := range axes {
		k, err := axis(a, len(in))
		if err != nil {
			return nil, err
		}
		if in[k] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of %v", k, in)
		}
		drop[k] = true
	}
	var out []int
	for k, d := range in {
		if (len(axes) == 0 && d == 1) || drop[k] {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

func unsqueeze(in []int, axes []int64) ([]int, error) {
	r := len(in) + len(axes)
	if r > MaxRank {
		return nil, fmt.Errorf("rank %d over %d", r, MaxRank)
	}
	ins := make([]bool, r)
	for _, a := range axes {
		k, err := axis(a, r)
		if err != nil {
			return nil, err
		}
		if ins[k] {
			return nil, fmt.Errorf("axis %d repeated", k)
		}
		ins[k] = true
	}
	out := make([]int, 0, r)
	j := 0
	for k := 0; k < r; k++ {
		if ins[k] {
			out = append(out, 1)
		} else {
			out = append(out, in[j])
			j++
		}
	}
	return out, nil
}

func compileTranspose(st *step) error {
	perm, hasPerm := attrs{st.node}.ints("perm")
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		x := in[0]
		rank := len(x.shape)
		p := make([]int, rank)
		for k := range p {
			p[k] = rank - 1 - k
		}
		if hasPerm {
			if len(perm) != rank {
				return nil, fmt.Errorf("perm %v for rank %d", perm, rank)
			}
			seen := make([]bool, rank)
			for k, v := range perm {
				if v < 0 || v >= int64(rank) || seen[v] {
					return nil, fmt.Errorf("bad perm %v", perm)
				}
				seen[v], p[k] = true, int(v)
			}
		}
		strides := make([]int, rank)
		acc := 1
		for k := rank - 1; k >= 0; k-- {
			strides[k] = acc
			acc *= x.shape[k]
		}
		shape := make([]int, rank)
		for k := range shape {
			shape[k] = x.shape[p[k]]
		}
		return []*value{r.remap(x, shape, func(idx []int) int {
			o := 0
			for k, v := range idx {
				o += v * strides[p[k]]
			}
			return o
		})}, nil
	}
	return nil
}

// padIndex maps an output coordinate to the input for a pad mode, -1 for
// the constant.
func padIndex(i, n int, mode string) int {
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case "reflect":
		if n == 1 {
			return 0
		}
		p := 2 * (n - 1)
		i = ((i % p) + p) % p
		if i >= n {
			i = p - i
		}
		return i
	case "edge":
		return min(max(i, 0), n-1)
	case "wrap":
		return ((i % n) + n) % n
	}
	return -1
}

func compilePad(net *Net, st *step) error {
	a := attrs{st.node}
	mode := a.str("mode", "constant")
	switch mode {
	case "constant", "reflect", "edge", "wrap":
	default:
		return fmt.Errorf("mode %q is not supported", mode)
	}
	attrPads, hasAttr := a.ints("pads")
	if !hasAttr {
		attrPads, hasAttr = a.ints("paddings") // opset 1
	}
	val := a.float("value", 0)
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		x := in[0]
		pads, cval := attrPads, val
		if !hasAttr {
			if len(in) < 2 || in[1] == nil {
				return nil, fmt.Errorf("no pads")
			}
			var err error
			if pads, err = intsOf(in[1]); err != nil {
				return nil, err
			}
			if len(in) > 2 && in[2] != nil && in[2].size() == 1 {
				cval = toFloat(in[2]).f[0]
			}
			if len(in) > 3 && in[3] != nil {
				return nil, fmt.Errorf("the axes input is not supported")
			}
		}
		rank := len(x.shape)
		if len(pads) != 2*rank {
			return nil, fmt.Errorf("%d pads for rank %d", len(pads), rank)
		}
		m := mode
		surgery := r.net.padding
		if m == "constant" && cval == 0 && surgery != nn.PadZero {
			// a zero border is padding the probe replaces, as a Conv's
			switch surgery {
			case nn.PadNone:
				return []*value{alias(x, x.shape)}, nil
			case nn.PadReflect:
				m = "reflect"
			case nn.PadReplicate:
				m = "edge"
			case nn.PadCircular:
				m = "wrap"
			}
		}
		shape := make([]int, rank)
		for k := range shape {
			b, e := pads[k], pads[k+rank]
			if b < 0 || e < 0 || b > 1<<20 || e > 1<<20 {
				return nil, fmt.Errorf("pads %v: negative or huge padding is not supported", pads)
			}
			shape[k] = x.shape[k] + int(b+e)
			if m != "constant" && x.shape[k] == 0 {
				return nil, fmt.Errorf("cannot pad an empty axis")
			}
		}
		if prod(shape) > MaxTensorElems {
			return nil, fmt.Errorf("padded shape %v too large", shape)
		}
		strides := make([]int, rank)
		acc := 1
		for k := rank - 1; k >= 0; k-- {
			strides[k] = acc
			acc *= x.shape[k]
		}
		y := r.newLike(x, shape)
		forIndex(shape, func(i int, idx []int) {
			o := 0
			for k, v := range idx {
				s := padIndex(v-int(pads[k]), x.shape[k], m)
				if s < 0 {
					o = -1
					break
				}
				o += s * strides[k]
			}
			switch {
			case y.isInt && o < 0:
				y.i[i] = int64(cval)
			case y.isInt:
				y.i[i] = x.i[o]
			case o < 0:
				y.f[i] = cval
			default:
				y.f[i] = x.f[o]
			}
		})
		return []*value{y}, nil
	}
	return nil
}

func compileGemm(st *step) error {
	a := attrs{st.node}
	alpha, beta := a.float("alpha", 1), a.float("beta", 1)
	ta, tb := a.int("transA", 0) != 0, a.int("transB", 0) != 0
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		if len(in) < 2 || in[0] == nil || in[1] == nil {
			return nil, fmt.Errorf("want A and B")
		}
		A, B := toFloat(in[0]), toFloat(in[1])
		if len(A.shape) != 2 || len(B.shape) != 2 {
			return nil, fmt.Errorf("want 2-d A and B, got %v and %v", A.shape, B.shape)
		}
		am, ak := A.shape[0], A.shape[1]
		if ta {
			am, ak = ak, am
		}
		bk, bn := B.shape[0], B.shape[1]
		if tb {
			bk, bn = bn, bk
		}
		if ak != bk {
			return nil, fmt.Errorf("matrices A %v and B %v do not multiply", A.shape, B.shape)
		}
		av, bv := A.f, B.f
		if ta {
			av = transpose2(A.f, A.shape[0], A.shape[1])
		}
		if tb {
			bv = transpose2(B.f, B.shape[0], B.shape[1])
		}
		y := r.newF(am, bn)
		gemm.Sgemm(am, bn, ak, av, ak, bv, bn, y.f, bn, false)
		for i := range y.f {
			y.f[i] *= alpha
		}
		if len(in) > 2 && in[2] != nil && beta != 0 {
			C := toFloat(in[2])
			pc := padRank(C.shape, 2)
			if len(C.shape) > 2 || (pc[0] != 1 && pc[0] != am) || (pc[1] != 1 && pc[1] != bn) {
				return nil, fmt.Errorf("bias C %v does not broadcast to [%d,%d]", C.shape, am, bn)
			}
			for i := 0; i < am; i++ {
				for j := 0; j < bn; j++ {
					y.f[i*bn+j] += beta * C.f[(i%pc[0])*pc[1]+j%pc[1]]
				}
			}
		}
		return []*value{y}, nil
	}
	return nil
}

func transpose2(x []float32, m, n int) []float32 {
	t := make([]float32, len(x))
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			t[j*m+i] = x[i*n+j]
		}
	}
	return t
}

// matmul supports [..., M, K] x [K, N] and equal batch dims.
func matmul(r *runCtx, in []*value) ([]*value, error) {
	A, B := toFloat(in[0]), toFloat(in[1])
	as, bs := A.shape, B.shape
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	squeezeN := false
	if len(bs) == 1 {
		bs, squeezeN = []int{bs[0], 1}, true
	}
	if len(as) < 2 || len(bs) < 2 {
		return nil, fmt.Errorf("shapes %v and %v", A.shape, B.shape)
	}
	m, k, k2, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		return nil, fmt.Errorf("shapes %v and %v do not multiply", A.shape, B.shape)
	}
	var shape []int
	switch {
	case len(bs) == 2:
		shape = append(slices.Clone(as[:len(as)-1]), n)
		y := r.newF(shape...)
		gemm.Sgemm(prod(as[:len(as)-1]), n, k, A.f, k, B.f, n, y.f, n, false)
		return finishMatmul(y, A, squeezeN), nil
	case slices.Equal(as[:len(as)-2], bs[:len(bs)-2]):
		shape = append(slices.Clone(as[:len(as)-1]), n)
		y := r.newF(shape...)
		for b := 0; b < prod(as[:len(as)-2]); b++ {
			gemm.Sgemm(m, n, k, A.f[b*m*k:], k, B.f[b*k*n:], n, y.f[b*m*n:], n, false)
		}
		return finishMatmul(y, A, squeezeN), nil
	}
	return nil, fmt.Errorf("broadcast batch shapes %v and %v are not supported", A.shape, B.shape)
}

func finishMatmul(y, A *value, squeezeN bool) []*value {
	if len(A.shape) == 1 {
		y.shape = y.shape[1:]
	}
	if squeezeN {
		y.shape = y.shape[:len(y.shape)-1]
	}
	return []*value{y}
}

func shapeOp(start, end int64, hasEnd bool) func(r *runCtx, in []*value) ([]*value, error) {
	return func(r *runCtx, in []*value) ([]*value, error) {
		s := in[0].shape
		n := int64(len(s))
		clamp := func(v int64) int64 {
			if v < 0 {
				v += n
			}
			return min(max(v, 0), n)
		}
		b, e := clamp(start), n
		if hasEnd {
			e = clamp(end)
		}
		y := &value{shape: []int{0}, isInt: true}
		for k := b; k < e; k++ {
			y.i = append(y.i, int64(s[k]))
		}
		y.shape[0] = len(y.i)
		return []*value{y}, nil
	}
}

func gather(ax int64) func(r *runCtx, in []*value) ([]*value, error) {
	return func(r *runCtx, in []*value) ([]*value, error) {
		x, ind := in[0], in[1]
		k, err := axis(ax, len(x.shape))
		if err != nil {
			return nil, err
		}
		idx, err := intsOf(ind)
		if err != nil {
			return nil, err
		}
		d := x.shape[k]
		for i, v := range idx {
			if v < 0 {
				v += int64(d)
			}
			if v < 0 || v >= int64(d) {
				return nil, fmt.Errorf("index %d out of range for axis of %d", idx[i], d)
			}
			idx[i] = v
		}
		shape := append(append(slices.Clone(x.shape[:k]), ind.shape...), x.shape[k+1:]...)
		inner := prod(x.shape[k+1:])
		r0 := len(ind.shape)
		return []*value{r.remap(x, shape, func(id []int) int {
			o := 0
			for a := 0; a < k; a++ {
				o = o*x.shape[a] + id[a]
			}
			j := 0
			for a := 0; a < r0; a++ {
				j = j*ind.shape[a] + id[k+a]
			}
			o = o*d + int(idx[j])
			t := 0
			for a := k + r0; a < len(id); a++ {
				t = t*shape[a] + id[a]
			}
			return o*inner + t
		})}, nil
	}
}

func cast(to int64) func(r *runCtx, in []*value) ([]*value, error) {
	return func(r *runCtx, in []*value) ([]*value, error) {
		x := in[0]
		switch to {
		case TypeFloat, TypeDouble, TypeFloat16:
			if x.isInt {
				return []*value{toFloat(x)}, nil
			}
			return []*value{alias(x, x.shape)}, nil
		case TypeInt64, TypeInt32, TypeInt8, TypeUint8, TypeBool, 4, 5, 12, 13:
			if x.isInt {
				return []*value{alias(x, x.shape)}, nil
			}
			y := &value{shape: x.shape, i: make([]int64, len(x.f)), isInt: true}
			for i, v := range x.f {
				if to == TypeBool {
					if v != 0 {
						y.i[i] = 1
					}
				} else {
					y.i[i] = int64(v)
				}
			}
			return []*value{y}, nil
		}
		return nil, fmt.Errorf("cast to type %d is not supported", to)
	}
}

func compileSlice(net *Net, st *step) error {
	a := attrs{st.node}
	aStarts, hasAttr := a.ints("starts")
	aEnds, _ := a.ints("ends")
	aAxes, _ := a.ints("axes")
	st.run = func(r *runCtx, in []*value) ([]*value, error) {
		x := in[0]
		starts, ends, axes := aStarts, aEnds, aAxes
		var steps []int64
		if !hasAttr {
			var err error
			for j, p := range []*[]int64{&starts, &ends, &axes, &steps} {
				if j+1 < len(in) && in[j+1] != nil {
					if *p, err = intsOf(in[j+1]); err != nil {
						return nil, err
					}
				}
			}
		}
		rank := len(x.shape)
		if len(starts) != len(ends) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
			return nil, fmt.Errorf("starts, ends, axes and steps of different lengths")
		}
		b, stp := make([]int, rank), make([]int, rank)
		shape := slices.Clone(x.shape)
		for k := range stp {
			stp[k] = 1
		}
		for j := range starts {
			k := j
			if axes != nil {
				var err error
				if k, err = axis(axes[j], rank); err != nil {
					return nil, err
				}
			}
			s := int64(1)
			if steps != nil {
				s = steps[j]
			}
			if s == 0 || s > 1<<30 || s < -(1<<30) {
				return nil, fmt.Errorf("bad step %d", s)
			}
			d := int64(x.shape[k])
			lo, hi := starts[j], ends[j]
			if lo < 0 {
				lo += d
			}
			if hi < 0 {
				hi += d
			}
			if s > 0 {
				lo, hi = min(max(lo, 0), d), min(max(hi, 0), d)
				shape[k] = int(max(0, (hi-lo+s-1)/s))
			} else {
				lo, hi = min(max(lo, 0), d-1), min(max(hi, -1), d-1)
				shape[k] = int(max(0, (lo-hi-s-1)/(-s)))
			}
			b[k], stp[k] = int(lo), int(s)
		}
		strides := make([]int, rank)
		acc := 1
		for k := rank - 1; k >= 0; k-- {
			strides[k] = acc
			acc *= x.shape[k]
		}
		return []*value{r.remap(x, shape, func(idx []int) int {
			o := 0
			for k, v := range idx {
				o += (b[k] + v*stp[k]) * strides[k]
			}
			return o
		})}, nil
	}
	return nil
}
