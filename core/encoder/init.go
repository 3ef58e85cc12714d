package encoder

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Rand draws initial weights deterministically: a math/rand/v2 PCG seeded
// with (seed, FNV-1a of stream), so every encoder has its own stream and the
// same seed gives the same weights natively and in WebAssembly. Only
// arithmetic, math.Sqrt (correctly rounded by IEEE 754 everywhere) and a
// portable logarithm are used, and every product that could be fused into an
// FMA on some architectures is rounded explicitly.
type Rand struct {
	r        *rand.Rand
	spare    float64
	hasSpare bool
}

// NewRand returns the initialisation stream named stream (usually the encoder
// name) for seed.
func NewRand(seed uint64, stream string) *Rand {
	h := fnv.New64a()
	h.Write([]byte(stream))
	return &Rand{r: rand.New(rand.NewPCG(seed, h.Sum64()))}
}

// Uniform fills dst from U(lo, hi).
func (g *Rand) Uniform(dst []float32, lo, hi float64) {
	for i := range dst {
		dst[i] = float32(lo + float64((hi-lo)*g.r.Float64()))
	}
}

// Normal fills dst from N(mean, std²).
func (g *Rand) Normal(dst []float32, mean, std float64) {
	for i := range dst {
		dst[i] = float32(mean + float64(std*g.norm()))
	}
}

// Constant fills dst with v.
func Constant(dst []float32, v float32) {
	for i := range dst {
		dst[i] = v
	}
}

// KaimingNormalFanOut is torch.nn.init.kaiming_normal_(mode="fan_out",
// nonlinearity="relu"): N(0, 2/fanOut) with fanOut = out channels × kernel
// area (torchvision's VGG and ResNet conv init).
func (g *Rand) KaimingNormalFanOut(dst []float32, fanOut int) {
	g.Normal(dst, 0, math.Sqrt(2/float64(fanOut)))
}

// KaimingUniform is torch.nn.init.kaiming_uniform_(a, mode="fan_in",
// nonlinearity="leaky_relu"): U(-b, b) with b = sqrt(6/((1+a²)·fanIn)).
// With a = sqrt(5) it is PyTorch's default Conv2d/Linear weight init.
func (g *Rand) KaimingUniform(dst []float32, fanIn int, a float64) {
	b := math.Sqrt(6 / (float64((1 + float64(a*a)) * float64(fanIn))))
	g.Uniform(dst, -b, b)
}

// TorchDefault fills a Conv2d or Linear layer as PyTorch's reset_parameters
// does: weights kaiming_uniform(a=sqrt(5)), bias U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
// fanIn is in channels/groups × kernel area (in features for Linear); b may be nil.
func (g *Rand) TorchDefault(w, b []float32, fanIn int) {
	g.KaimingUniform(w, fanIn, math.Sqrt(5))
	if b != nil {
		bound := 1 / math.Sqrt(float64(fanIn))
		g.Uniform(b, -bound, bound)
	}
}

// norm returns a standard normal variate (Marsaglia's polar method).
func (g *Rand) norm() float64 {
	if g.hasSpare {
		g.hasSpare = false
		return g.spare
	}
	for {
		u := 2*g.r.Float64() - 1
		v := 2*g.r.Float64() - 1
		s := float64(u*u) + float64(v*v)
		if s >= 1 || s == 0 {
			continue
		}
		f := math.Sqrt(-2 * logPortable(s) / s)
		g.spare, g.hasSpare = float64(v*f), true
		return float64(u * f)
	}
}

// logPortable is the natural logarithm for finite x > 0, computed the way Go's
// pure-Go math.log does (FreeBSD's e_log.c), with products rounded explicitly
// so no platform fuses them. math.Log itself uses assembly on amd64 and s390x,
// which need not round the same as the wasm build.
func logPortable(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		l1    = 6.666666666666735130e-01
		l2    = 3.999999999940941908e-01
		l3    = 2.857142874366239149e-01
		l4    = 2.222219843214978396e-01
		l5    = 1.818357216161805012e-01
		l6    = 1.531383769920937332e-01
		l7    = 1.479819860511658591e-01
	)
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := float64(s2 * (l1 + float64(s4*(l3+float64(s4*(l5+float64(s4*l7)))))))
	t2 := float64(s4 * (l2 + float64(s4*(l4+float64(s4*l6)))))
	r := t1 + t2
	hfsq := float64(float64(0.5*f) * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+r)) + float64(k*ln2Lo))) - f)
}
