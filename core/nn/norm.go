package nn

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// BatchNorm is an inference-mode batch normalisation over channels:
// y = (x - Mean) / sqrt(Var + Eps) * Gamma + Beta. A nil Gamma means 1 and a
// nil Beta means 0 (affine=False).
type BatchNorm struct {
	Gamma, Beta, Mean, Var []float32
	Eps                    float32
}

// check panics when the parameter lengths differ.
func (bn *BatchNorm) check() {
	c := len(bn.Mean)
	if len(bn.Var) != c || (bn.Gamma != nil && len(bn.Gamma) != c) || (bn.Beta != nil && len(bn.Beta) != c) {
		panic(fmt.Sprintf("nn.BatchNorm: parameter lengths differ (mean %d, var %d, gamma %d, beta %d)",
			c, len(bn.Var), len(bn.Gamma), len(bn.Beta)))
	}
}

// coef returns channel i's a, b with y = a·x + b, computed in float64.
func (bn *BatchNorm) coef(i int) (a, b float64) {
	g, be := 1.0, 0.0
	if bn.Gamma != nil {
		g = float64(bn.Gamma[i])
	}
	if bn.Beta != nil {
		be = float64(bn.Beta[i])
	}
	a = g / math.Sqrt(float64(bn.Var[i])+float64(bn.Eps))
	return a, be - float64(bn.Mean[i])*a
}

// scaleShift returns per-channel a, b with y = a·x + b, computed in float64.
func (bn *BatchNorm) scaleShift() (a, b []float64) {
	bn.check()
	c := len(bn.Mean)
	a, b = make([]float64, c), make([]float64, c)
	for i := range a {
		a[i], b[i] = bn.coef(i)
	}
	return a, b
}

// Forward normalises x [N,C,H,W] in place and returns it.
func (bn *BatchNorm) Forward(x *tensor.Dense) *tensor.Dense {
	n, c, h, w := Dims4(x)
	if c != len(bn.Mean) {
		panic(fmt.Sprintf("nn.BatchNorm: input has %d channels, layer has %d", c, len(bn.Mean)))
	}
	bn.check()
	d := Data(x)
	hw := h * w
	for ch := 0; ch < c; ch++ {
		a, b := bn.coef(ch) // per call, not stored: the fields may change
		av, bv := float32(a), float32(b)
		for i := ch; i < n*c; i += c {
			p := d[i*hw : (i+1)*hw]
			for j, v := range p {
				p[j] = v*av + bv
			}
		}
	}
	return x
}

// FoldInto merges this BatchNorm into the convolution that feeds it, so the
// conv alone computes conv→BN. The conv gets a bias if it had none.
func (bn *BatchNorm) FoldInto(c *Conv2D) {
	if c.OutC != len(bn.Mean) {
		panic(fmt.Sprintf("nn.BatchNorm.FoldInto: conv has %d outputs, BN has %d channels", c.OutC, len(bn.Mean)))
	}
	a, b := bn.scaleShift()
	per := len(c.W) / c.OutC
	w := make([]float32, len(c.W)) // never alias weights the caller may share
	bias := make([]float32, c.OutC)
	for o := 0; o < c.OutC; o++ {
		for i := o * per; i < (o+1)*per; i++ {
			w[i] = float32(float64(c.W[i]) * a[o])
		}
		cb := 0.0
		if c.B != nil {
			cb = float64(c.B[o])
		}
		bias[o] = float32(cb*a[o] + b[o])
	}
	c.W, c.B = w, bias
}

// ReLU sets negatives of x to 0 in place and returns x. NaN stays NaN, as
// in PyTorch.
func ReLU(x *tensor.Dense) *tensor.Dense {
	relu(Data(x))
	return x
}

// ReLU6 clamps x to [0, 6] in place and returns x. NaN stays NaN.
func ReLU6(x *tensor.Dense) *tensor.Dense {
	relu6(Data(x))
	return x
}

// LeakyReLU multiplies negatives of x by slope in place and returns x.
func LeakyReLU(x *tensor.Dense, slope float32) *tensor.Dense {
	leaky(Data(x), slope)
	return x
}
