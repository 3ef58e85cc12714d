// Package cnn is a small convolutional classifier trained from scratch:
// 3x3 convolutions (no bias) with ReLU, a global max pool and a linear
// layer, with softmax cross-entropy. It is the network of Kayhan & van
// Gemert's red/green experiment, and its backward pass is checked against
// finite differences and PyTorch (testdata/torch_grads.json).
//
// Every convolution runs as im2col + one GEMM per image; the backward pass
// recomputes the columns instead of storing them.
package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/posprobe/posprobe/core/gemm"
	"github.com/posprobe/posprobe/core/nn"
)

// PadKind is how a convolution pads its input.
type PadKind int

const (
	PadZeros    PadKind = iota // zeros outside the input
	PadCircular                // wrap around (PyTorch padding_mode="circular")
)

// Conv is a KxK convolution without bias; W is [OutC, InC, K, K].
type Conv struct {
	InC, OutC, K, Stride, Pad int
	Mode                      PadKind
	W                         []float32
}

// OutSize is the output side for an n x n input.
func (c *Conv) OutSize(n int) int { return (n+2*c.Pad-c.K)/c.Stride + 1 }

// Net is conv-ReLU layers, a global max pool and a linear classifier.
type Net struct {
	Convs   []*Conv
	FC      []float32 // [Classes, last OutC]
	FCB     []float32 // [Classes]
	Classes int
	InSize  int
}

// Layer describes one convolution of a network to build.
type Layer struct {
	OutC, Stride int
}

// New builds a network for inC x size x size inputs with PyTorch's default
// initialisation (kaiming_uniform with a=sqrt(5): U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)) for every weight and the linear bias), seeded.
func New(inC, size, classes, k, pad int, mode PadKind, layers []Layer, seed uint64) (*Net, error) {
	rng := rand.New(rand.NewPCG(seed, 0x636e6e))
	uni := func(n, fanIn int) []float32 {
		b := 1 / math.Sqrt(float64(fanIn))
		w := make([]float32, n)
		for i := range w {
			w[i] = float32((2*rng.Float64() - 1) * b)
		}
		return w
	}
	n := &Net{Classes: classes, InSize: size}
	c, s := inC, size
	for i, l := range layers {
		cv := &Conv{InC: c, OutC: l.OutC, K: k, Stride: max(1, l.Stride), Pad: pad, Mode: mode}
		if cv.OutSize(s) < 1 {
			return nil, fmt.Errorf("cnn: layer %d gets a %dx%d input, too small for a %dx%d kernel with padding %d", i+1, s, s, k, k, pad)
		}
		if mode == PadCircular && pad > s {
			return nil, fmt.Errorf("cnn: circular padding %d wider than the %d-pixel input of layer %d", pad, s, i+1)
		}
		cv.W = uni(l.OutC*c*k*k, c*k*k)
		n.Convs = append(n.Convs, cv)
		c, s = l.OutC, cv.OutSize(s)
	}
	n.FC = uni(classes*c, c)
	n.FCB = uni(classes, c)
	return n, nil
}

// Params lists the trainable tensors in a fixed order (conv weights, FC, FC bias).
func (n *Net) Params() [][]float32 {
	var ps [][]float32
	for _, c := range n.Convs {
		ps = append(ps, c.W)
	}
	return append(ps, n.FC, n.FCB)
}

// Clone returns a deep copy.
func (n *Net) Clone() *Net {
	m := &Net{Classes: n.Classes, InSize: n.InSize, FC: append([]float32(nil), n.FC...), FCB: append([]float32(nil), n.FCB...)}
	for _, c := range n.Convs {
		cc := *c
		cc.W = append([]float32(nil), c.W...)
		m.Convs = append(m.Convs, &cc)
	}
	return m
}

// padIndex maps coordinate i of the padded axis (relative to the input
// origin) to an input index, or -1 for a zero.
func padIndex(i, n int, mode PadKind) int {
	if i >= 0 && i < n {
		return i
	}
	if mode == PadCircular {
		return ((i % n) + n) % n
	}
	return -1
}

// index returns, for kernel offset i and output coordinate y, the input
// coordinate read (or -1 for a zero) at idx[i*o+y]; both axes share it.
func (c *Conv) index(s, o int, idx []int) []int {
	idx = idx[:0]
	for i := 0; i < c.K; i++ {
		for y := 0; y < o; y++ {
			idx = append(idx, padIndex(y*c.Stride+i-c.Pad, s, c.Mode))
		}
	}
	return idx
}

// im2col writes the columns [InC*K*K, o*o] of x [InC, s, s] for output side o.
func (c *Conv) im2col(x []float32, s, o int, cols []float32, idx []int) {
	p := o * o
	for ci := 0; ci < c.InC; ci++ {
		xp := x[ci*s*s : (ci+1)*s*s]
		for i := 0; i < c.K; i++ {
			for j := 0; j < c.K; j++ {
				row := cols[((ci*c.K+i)*c.K+j)*p:][:p]
				sxs := idx[j*o : (j+1)*o]
				for y := 0; y < o; y++ {
					dst := row[y*o : (y+1)*o]
					sy := idx[i*o+y]
					if sy < 0 {
						clear(dst)
						continue
					}
					nn.GatherRow(dst, xp[sy*s:(sy+1)*s], sxs)
				}
			}
		}
	}
}

// col2im adds the column gradient dcols [InC*K*K, o*o] onto dx [InC, s, s]
// (dx is cleared first); circular padding folds the border back in.
func (c *Conv) col2im(dcols []float32, s, o int, dx []float32, idx []int) {
	clear(dx[:c.InC*s*s])
	p := o * o
	for ci := 0; ci < c.InC; ci++ {
		dp := dx[ci*s*s : (ci+1)*s*s]
		for i := 0; i < c.K; i++ {
			for j := 0; j < c.K; j++ {
				row := dcols[((ci*c.K+i)*c.K+j)*p:][:p]
				sxs := idx[j*o : (j+1)*o]
				for y := 0; y < o; y++ {
					sy := idx[i*o+y]
					if sy < 0 {
						continue
					}
					dst := dp[sy*s : (sy+1)*s]
					src := row[y*o : (y+1)*o]
					for xx, sx := range sxs {
						if sx >= 0 {
							dst[sx] += src[xx]
						}
					}
				}
			}
		}
	}
}

// scratch is one goroutine's buffers.
type scratch struct {
	dcols, wT, doutT, dwT []float32
	idx                   []int
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// trace is one image's forward pass: acts[l] is the input of conv l
// (acts[0] the image, acts[l>0] a ReLU output), acts[L] the last ReLU
// output; arg[c] the argmax pixel of the global max pool.
type trace struct {
	acts   [][]float32
	cols   [][]float32 // per layer: the im2col columns, reused by backward
	sizes  []int
	pooled []float32
	arg    []int
	logits []float32
}

// forward runs one image x [InC, InSize, InSize] and fills tr.
func (n *Net) forward(x []float32, tr *trace, sc *scratch) {
	L := len(n.Convs)
	if tr.acts == nil {
		tr.acts = make([][]float32, L+1)
		tr.cols = make([][]float32, L)
		tr.sizes = make([]int, L+1)
	}
	tr.acts[0], tr.sizes[0] = x, n.InSize
	for l, c := range n.Convs {
		s := tr.sizes[l]
		o := c.OutSize(s)
		kk, p := c.InC*c.K*c.K, o*o
		tr.cols[l] = grow(tr.cols[l], kk*p)
		sc.idx = c.index(s, o, sc.idx)
		c.im2col(tr.acts[l], s, o, tr.cols[l], sc.idx)
		out := grow(tr.acts[l+1], c.OutC*p)
		gemm.Sgemm(c.OutC, p, kk, c.W, kk, tr.cols[l], p, out, p, false)
		for i, v := range out {
			if v < 0 {
				out[i] = 0
			}
		}
		tr.acts[l+1], tr.sizes[l+1] = out, o
	}
	last := n.Convs[L-1]
	p := tr.sizes[L] * tr.sizes[L]
	tr.pooled = grow(tr.pooled, last.OutC)
	if cap(tr.arg) < last.OutC {
		tr.arg = make([]int, last.OutC)
	}
	tr.arg = tr.arg[:last.OutC]
	for ch := 0; ch < last.OutC; ch++ {
		plane := tr.acts[L][ch*p : (ch+1)*p]
		best, bi := plane[0], 0
		for i, v := range plane {
			if v > best { // first maximum, as PyTorch's CPU max pool
				best, bi = v, i
			}
		}
		tr.pooled[ch], tr.arg[ch] = best, bi
	}
	tr.logits = grow(tr.logits, n.Classes)
	for k := 0; k < n.Classes; k++ {
		s := float64(n.FCB[k])
		for ch, v := range tr.pooled {
			s += float64(n.FC[k*last.OutC+ch]) * float64(v)
		}
		tr.logits[k] = float32(s)
	}
}

// Logits returns the class scores for one image.
func (n *Net) Logits(x []float32) []float32 {
	var tr trace
	var sc scratch
	n.forward(x, &tr, &sc)
	return append([]float32(nil), tr.logits...)
}

// crossEntropy returns -log softmax(logits)[label] and writes
// softmax - onehot, times scale, into d.
func crossEntropy(logits []float32, label int, scale float32, d []float32) float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	z := 0.0
	for _, v := range logits {
		z += math.Exp(float64(v) - m)
	}
	for k, v := range logits {
		p := math.Exp(float64(v)-m) / z
		if k == label {
			p--
		}
		d[k] = scale * float32(p)
	}
	return -(float64(logits[label]) - m - math.Log(z))
}

// backward adds the gradients of scale * CE(image) to grads (same layout as
// Params) given the image's trace.
func (n *Net) backward(tr *trace, label int, scale float32, grads [][]float32, sc *scratch) float64 {
	L := len(n.Convs)
	dl := make([]float32, n.Classes)
	loss := crossEntropy(tr.logits, label, scale, dl)
	last := n.Convs[L-1]
	dFC, dFCB := grads[L], grads[L+1]
	dpool := make([]float32, last.OutC)
	for k := 0; k < n.Classes; k++ {
		dFCB[k] += dl[k]
		for ch, v := range tr.pooled {
			dFC[k*last.OutC+ch] += dl[k] * v
			dpool[ch] += dl[k] * n.FC[k*last.OutC+ch]
		}
	}
	p := tr.sizes[L] * tr.sizes[L]
	dout := make([]float32, last.OutC*p)
	for ch, i := range tr.arg {
		dout[ch*p+i] = dpool[ch]
	}
	for l := L - 1; l >= 0; l-- {
		c := n.Convs[l]
		out := tr.acts[l+1]
		for i, v := range out { // through the ReLU
			if v <= 0 {
				dout[i] = 0
			}
		}
		s, o := tr.sizes[l], tr.sizes[l+1]
		kk, pp := c.InC*c.K*c.K, o*o
		// dWᵀ = cols · doutᵀ, then added transposed (keeps the columns in
		// their forward layout).
		sc.doutT = grow(sc.doutT, pp*c.OutC)
		for oc := 0; oc < c.OutC; oc++ {
			for q, v := range dout[oc*pp : (oc+1)*pp] {
				sc.doutT[q*c.OutC+oc] = v
			}
		}
		sc.dwT = grow(sc.dwT, kk*c.OutC)
		gemm.Sgemm(kk, c.OutC, pp, tr.cols[l], pp, sc.doutT, c.OutC, sc.dwT, c.OutC, false)
		gw := grads[l]
		for r := 0; r < kk; r++ {
			for oc := 0; oc < c.OutC; oc++ {
				gw[oc*kk+r] += sc.dwT[r*c.OutC+oc]
			}
		}
		if l == 0 {
			break
		}
		sc.wT = grow(sc.wT, kk*c.OutC)
		for oc := 0; oc < c.OutC; oc++ {
			for r := 0; r < kk; r++ {
				sc.wT[r*c.OutC+oc] = c.W[oc*kk+r]
			}
		}
		sc.dcols = grow(sc.dcols, kk*pp)
		gemm.Sgemm(kk, pp, c.OutC, sc.wT, c.OutC, dout, pp, sc.dcols, pp, false)
		dx := make([]float32, c.InC*s*s)
		sc.idx = c.index(s, o, sc.idx)
		c.col2im(sc.dcols, s, o, dx, sc.idx)
		dout = dx
	}
	return loss
}

// LossAndGrad returns the mean cross-entropy over the images xs (each
// [InC, InSize, InSize]) and its gradient, laid out as Params. It runs on
// one goroutine; the trainer splits batches itself.
func (n *Net) LossAndGrad(xs [][]float32, labels []int) (float64, [][]float32) {
	grads := n.zeroGrads()
	var tr trace
	var sc scratch
	loss := 0.0
	scale := 1 / float32(len(xs))
	for i, x := range xs {
		n.forward(x, &tr, &sc)
		loss += n.backward(&tr, labels[i], scale, grads, &sc)
	}
	return loss / float64(len(xs)), grads
}

func (n *Net) zeroGrads() [][]float32 {
	var g [][]float32
	for _, p := range n.Params() {
		g = append(g, make([]float32, len(p)))
	}
	return g
}
