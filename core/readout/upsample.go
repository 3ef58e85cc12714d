package readout

// upsampler is PyTorch's bilinear interpolate with align_corners=False on
// one square map, separable: out = Uy · in · Uxᵀ (same U both ways).
// Indices and weights are computed in float32 like PyTorch's CPU kernel.
type upsampler struct {
	in, out int
	i0, i1  []int
	l0, l1  []float32
}

func newUpsampler(in, out int) *upsampler {
	u := &upsampler{in: in, out: out, i0: make([]int, out), i1: make([]int, out),
		l0: make([]float32, out), l1: make([]float32, out)}
	scale := float32(in) / float32(out)
	for d := 0; d < out; d++ {
		src := scale*(float32(d)+0.5) - 0.5
		if src < 0 {
			src = 0
		}
		i0 := int(src)
		i1 := i0
		if i0 < in-1 {
			i1 = i0 + 1
		}
		l1 := src - float32(i0)
		u.i0[d], u.i1[d], u.l0[d], u.l1[d] = i0, i1, 1-l1, l1
	}
	return u
}

// forward maps x [in*in] to y [out*out]; tmp holds in*out values.
func (u *upsampler) forward(x, y, tmp []float32) {
	n, m := u.in, u.out
	// The tables are taken into locals and the slices cut to one length:
	// the loops then run without reloading them or checking bounds (wasm).
	i0, i1, w0, w1 := u.i0[:m], u.i1[:m], u.l0[:m], u.l1[:m]
	for r := 0; r < n; r++ { // along x
		row, t := x[r*n:(r+1)*n], tmp[r*m:(r+1)*m]
		for d := range t {
			t[d] = w0[d]*row[i0[d]] + w1[d]*row[i1[d]]
		}
	}
	for d := 0; d < m; d++ { // along y
		o := y[d*m : (d+1)*m]
		a, b := tmp[i0[d]*m:][:len(o)], tmp[i1[d]*m:][:len(o)]
		l0, l1 := w0[d], w1[d]
		for j := lerpVec(o, a, b, l0, l1); j < len(o); j++ {
			o[j] = l0*a[j] + l1*b[j]
		}
	}
}

// backward maps the gradient gy [out*out] to gx [in*in] (overwritten);
// tmp holds in*out values.
func (u *upsampler) backward(gy, gx, tmp []float32) {
	n, m := u.in, u.out
	clear(tmp[:n*m])
	for d := 0; d < m; d++ {
		a, b := tmp[u.i0[d]*m:(u.i0[d]+1)*m], tmp[u.i1[d]*m:(u.i1[d]+1)*m]
		l0, l1 := u.l0[d], u.l1[d]
		for j, g := range gy[d*m : (d+1)*m] {
			a[j] += l0 * g
			b[j] += l1 * g
		}
	}
	clear(gx[:n*n])
	for r := 0; r < n; r++ {
		t, row := tmp[r*m:(r+1)*m], gx[r*n:(r+1)*n]
		for d, g := range t {
			row[u.i0[d]] += u.l0[d] * g
			row[u.i1[d]] += u.l1[d] * g
		}
	}
}
