package nn

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	"github.com/posprobe/posprobe/core/gemm"
	"gorgonia.org/tensor"
)

// Winograd F(2×2, 3×3) for dense 3×3 stride-1 convolutions: each 2×2 output
// tile costs 16 multiplies per input channel instead of 36. With the tile
// transforms U = G·g·Gᵀ (weights, once per layer), V = Bᵀ·d·B (4×4 input
// tiles) and Y = Aᵀ·M·A (output), the 16 elementwise products of all tiles
// are 16 GEMMs M[ξ] (OutC×T) = U[ξ] (OutC×InC) · V[ξ] (InC×T) over the T
// tiles of a band of tile rows.

var winoOn atomic.Bool

// Default: on in WebAssembly (no SIMD, the GEMM is most of a pass), off
// natively; POSPROBE_WINOGRAD=on|off overrides it.
func init() {
	on := runtime.GOARCH == "wasm"
	switch strings.ToLower(strings.TrimSpace(os.Getenv("POSPROBE_WINOGRAD"))) {
	case "on", "1", "true":
		on = true
	case "off", "0", "false":
		on = false
	}
	winoOn.Store(on)
}

// SetWinograd switches the Winograd path of 3×3 stride-1 convolutions on or
// off for every caller. The results differ from the direct path by float32
// rounding only.
func SetWinograd(on bool) { winoOn.Store(on) }

// Winograd reports whether 3×3 stride-1 convolutions use the Winograd path.
func Winograd() bool { return winoOn.Load() }

// winogradFits reports whether ForwardIn takes the Winograd path for an
// oh×ow output. Under node (BenchmarkWinograd), 4 input channels (to 64,
// 56×56) ran at par with the direct path, 3 at 0.85× and 8 1.4× faster. A
// 2×2 output (one tile, GEMMs one column wide) ran 1.8× slower, 3×3 (four
// partial tiles) 1.7× faster.
func (c *Conv2D) winogradFits(oh, ow int) bool {
	return winoOn.Load() && c.KH == 3 && c.KW == 3 && c.stride() == 1 && c.groups() == 1 &&
		c.InC >= 8 && oh >= 3 && ow >= 3
}

// winoWeights is a layer's transformed weights U, [16][OutC][InC], and what
// they were computed from.
type winoWeights struct {
	w          *float32
	n, in, out int
	u          []float32
}

// winoCache holds U per layer (weak.Pointer[Conv2D] -> *winoWeights); an
// entry goes when its layer is collected.
var winoCache sync.Map

// winoU returns the transformed weights of c, computed on first use and
// again when W's backing array or the sizes change.
func (c *Conv2D) winoU() []float32 {
	key := weak.Make(c)
	if v, ok := winoCache.Load(key); ok {
		e := v.(*winoWeights)
		if e.w == &c.W[0] && e.n == len(c.W) && e.in == c.InC && e.out == c.OutC {
			return e.u
		}
		e = c.transformWeights()
		winoCache.Store(key, e)
		return e.u
	}
	e := c.transformWeights()
	if _, loaded := winoCache.LoadOrStore(key, e); !loaded {
		runtime.AddCleanup(c, func(k weak.Pointer[Conv2D]) { winoCache.Delete(k) }, key)
	}
	return e.u
}

// transformWeights computes U[ξ][k][c] = (G·g·Gᵀ)[ξ] for each 3×3 kernel g,
// with G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1], in float64.
func (c *Conv2D) transformWeights() *winoWeights {
	ci, co := c.InC, c.OutC
	u := make([]float32, 16*co*ci)
	for k := 0; k < co; k++ {
		for ch := 0; ch < ci; ch++ {
			g := c.W[(k*ci+ch)*9 : (k*ci+ch)*9+9]
			var t [4][3]float64 // G·g
			for j := 0; j < 3; j++ {
				g0, g1, g2 := float64(g[j]), float64(g[3+j]), float64(g[6+j])
				t[0][j] = g0
				t[1][j] = (g0 + g1 + g2) / 2
				t[2][j] = (g0 - g1 + g2) / 2
				t[3][j] = g2
			}
			for i := 0; i < 4; i++ {
				a, b, d := t[i][0], t[i][1], t[i][2]
				row := [4]float64{a, (a + b + d) / 2, (a - b + d) / 2, d}
				for j, v := range row {
					u[((i*4+j)*co+k)*ci+ch] = float32(v)
				}
			}
		}
	}
	return &winoWeights{w: &c.W[0], n: len(c.W), in: ci, out: co, u: u}
}

// winograd writes the convolution of x into out [N,OutC,OH,OW]; c must
// qualify (3×3, stride 1, one group).
func (c *Conv2D) winograd(a *Arena, out, x *tensor.Dense) {
	n, ci, h, w := Dims4(x)
	co := c.OutC
	p := c.pad()
	oh, ow := c.OutSize(h, w)
	u := c.winoU()
	xd, od := Data(x), Data(out)

	// Tiles read the plane src (sh×sw) from (2·ty-off, 2·tx-off); values
	// outside it are zeros: zero padding, and the rows and columns that
	// partial last tiles read beyond a padded or valid input.
	sh, sw, off := h, w, p
	var padded []float32
	if p > 0 && c.Mode != PadZero {
		sh, sw, off = h+2*p, w+2*p, 0
		var pool *[]float32
		padded, pool = a.buf(scratchPad, ci*sh*sw)
		if pool != nil {
			defer putBuf(pool)
		}
	}
	th, tw := (oh+1)/2, (ow+1)/2
	// Bands of tile rows bound V and M to 16 MB; 4 MB (im2col's bound) made
	// the 16 GEMMs too narrow natively (VGG16's 512-channel layers ran 1.4×
	// slower at GOMAXPROCS=2).
	band := max(1, min(th, 4*colBandValues/(16*(ci+co)*tw)))
	we := 2*tw + 2 // a tile row's input rows with their zeros, per channel
	buf, pool := a.buf(scratchCol, 16*(winoStride(ci*band*tw)+winoStride(co*band*tw))+ci*4*we)
	if pool != nil {
		defer putBuf(pool)
	}
	ohw := oh * ow
	for b := 0; b < n; b++ {
		src := xd[b*ci*h*w : (b+1)*ci*h*w]
		if padded != nil {
			parallelFor(ci, ci*sh*sw, func(lo, hi int) {
				padPlanes(padded[lo*sh*sw:hi*sh*sw], src[lo*h*w:hi*h*w], hi-lo, h, w, p, p, sh, sw, c.Mode)
			})
			src = padded
		}
		dst := od[b*co*ohw : (b+1)*co*ohw]
		for t0 := 0; t0 < th; t0 += band {
			t1 := min(t0+band, th)
			nt := (t1 - t0) * tw
			vs, ms := winoStride(ci*nt), winoStride(co*nt)
			v, m, rows := buf[:16*vs], buf[16*vs:16*(vs+ms)], buf[16*(vs+ms):]
			parallelFor(ci, 16*ci*nt, func(lo, hi int) {
				r := rows[lo*4*we : (lo+1)*4*we]
				for ch := lo; ch < hi; ch++ {
					winoInput(v, src[ch*sh*sw:(ch+1)*sh*sw], r, sh, sw, off, t0, t1, tw, ch*nt, vs)
				}
			})
			for xi := 0; xi < 16; xi++ {
				gemm.Sgemm(co, nt, ci, u[xi*co*ci:], ci, v[xi*vs:], nt, m[xi*ms:], nt, false)
			}
			parallelFor(co, 16*co*nt, func(lo, hi int) {
				for k := lo; k < hi; k++ {
					var bv float32
					if c.B != nil {
						bv = c.B[k]
					}
					winoOutput(dst[k*ohw:(k+1)*ohw], m, bv, oh, ow, t0, t1, tw, k*nt, ms)
				}
			})
		}
	}
}

// winoStride is the distance between the 16 matrices of n values in V and
// M: a whole number of 4 KB pages plus one cache line, so that the 16 streams
// a tile transform reads or writes do not all fall into the same cache sets.
func winoStride(n int) int { return (n+1023)/1024*1024 + 16 }

// winoInput writes V = Bᵀ·d·B, Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
// for the tiles of tile rows [t0, t1) of one plane: value ξ of band tile t
// goes to v[ξ*stride+base+t]. The four input rows of a tile row are copied
// into r (4·(2·tw+2) values) with the zeros around them, so that every tile
// is an interior one; neighbouring tiles share two column transforms (Bᵀ·d).
// The 16 stores use unsafe offsets after one bounds check.
func winoInput(v, plane, r []float32, sh, sw, off, t0, t1, tw, base, stride int) {
	we := 2*tw + 2
	r = r[:4*we]
	nt := (t1 - t0) * tw
	_ = v[15*stride+base+nt-1]
	v0, ss := unsafe.Pointer(&v[0]), uintptr(stride)*4
	t := base
	for ty := t0; ty < t1; ty++ {
		y := 2*ty - off
		for i := 0; i < 4; i++ {
			e := r[i*we : (i+1)*we]
			if y+i < 0 || y+i >= sh {
				clear(e)
				continue
			}
			lo := min(off, we)
			clear(e[:lo])
			n := copy(e[lo:], plane[(y+i)*sw:(y+i+1)*sw])
			clear(e[lo+n:])
		}
		r0, r1, r2, r3 := r[:we], r[we:2*we], r[2*we:3*we], r[3*we:4*we]
		// Columns j-2, j-1 of the tile (Bᵀ·d): p, q.
		p0, p1, p2, p3 := r0[0]-r2[0], r1[0]+r2[0], r2[0]-r1[0], r1[0]-r3[0]
		q0, q1, q2, q3 := r0[1]-r2[1], r1[1]+r2[1], r2[1]-r1[1], r1[1]-r3[1]
		for j := 2; j+1 < we; j += 2 {
			a0, a1, a2, a3 := r0[j]-r2[j], r1[j]+r2[j], r2[j]-r1[j], r1[j]-r3[j]
			b0, b1, b2, b3 := r0[j+1]-r2[j+1], r1[j+1]+r2[j+1], r2[j+1]-r1[j+1], r1[j+1]-r3[j+1]
			o := unsafe.Add(v0, 4*t)
			st := func(xi uintptr, x float32) { *(*float32)(unsafe.Add(o, xi*ss)) = x }
			st(0, p0-a0)
			st(1, q0+a0)
			st(2, a0-q0)
			st(3, q0-b0)
			st(4, p1-a1)
			st(5, q1+a1)
			st(6, a1-q1)
			st(7, q1-b1)
			st(8, p2-a2)
			st(9, q2+a2)
			st(10, a2-q2)
			st(11, q2-b2)
			st(12, p3-a3)
			st(13, q3+a3)
			st(14, a3-q3)
			st(15, q3-b3)
			p0, p1, p2, p3 = a0, a1, a2, a3
			q0, q1, q2, q3 = b0, b1, b2, b3
			t++
		}
	}
}

// winoOutput writes Y = Aᵀ·M·A + bias, Aᵀ = [1 1 1 0; 0 1 -1 -1], of the
// tiles of tile rows [t0, t1) into the output plane (oh×ow), clipping the
// partial last tiles; value ξ of band tile t is m[ξ*stride+base+t], loaded
// at unsafe offsets after one bounds check.
func winoOutput(plane, m []float32, bv float32, oh, ow, t0, t1, tw, base, stride int) {
	nt := (t1 - t0) * tw
	_ = m[15*stride+base+nt-1]
	p0 := unsafe.Pointer(&m[base])
	st := uintptr(stride) * 4
	full := ow / 2 // tiles with both columns inside
	t := 0
	for ty := t0; ty < t1; ty++ {
		y := 2 * ty
		r0 := plane[y*ow : (y+1)*ow]
		var r1 []float32 // none for the partial last tile row
		if y+1 < oh {
			r1 = plane[(y+1)*ow : (y+2)*ow]
		}
		for tx := 0; tx < tw; tx++ {
			q := unsafe.Add(p0, 4*(t+tx))
			ld := func(xi uintptr) float32 { return *(*float32)(unsafe.Add(q, xi*st)) }
			// Aᵀ·M, then ·A.
			s0 := ld(0) + ld(4) + ld(8)
			s1 := ld(1) + ld(5) + ld(9)
			s2 := ld(2) + ld(6) + ld(10)
			s3 := ld(3) + ld(7) + ld(11)
			u0 := ld(4) - ld(8) - ld(12)
			u1 := ld(5) - ld(9) - ld(13)
			u2 := ld(6) - ld(10) - ld(14)
			u3 := ld(7) - ld(11) - ld(15)
			x := 2 * tx
			if tx < full {
				if y+1 < oh {
					r1[x], r1[x+1] = bv+u0+u1+u2, bv+u1-u2-u3
				}
				r0[x], r0[x+1] = bv+s0+s1+s2, bv+s1-s2-s3
				continue
			}
			if y+1 < oh {
				r1[x] = bv + u0 + u1 + u2
			}
			r0[x] = bv + s0 + s1 + s2
		}
		t += tw
	}
}
