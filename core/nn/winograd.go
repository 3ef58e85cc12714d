package nn

import (
	"fmt"
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

// Winograd F(m×m, 3×3) for dense 3×3 stride-1 convolutions, m = 2 or 4: each
// m×m output tile costs (m+2)² multiplies per input channel instead of 9m²
// (4 per output for m = 2, 2.25 for m = 4). With the tile transforms
// U = G·g·Gᵀ (weights, once per layer), V = Bᵀ·d·B ((m+2)² input tiles) and
// Y = Aᵀ·M·A (output), the (m+2)² elementwise products of all tiles are
// GEMMs M[ξ] (OutC×T) = U[ξ] (OutC×InC) · V[ξ] (InC×T) over the T tiles of
// a band of tile rows.

// Winograd modes: off, the faster tile size per layer, or one forced.
const (
	winoOff = iota
	winoBest
	winoF23
	winoF43
)

var winoMode atomic.Int32

// Default: on in WebAssembly (no SIMD, the GEMM is most of a pass), off
// natively; POSPROBE_WINOGRAD=on|off|f23|f43 overrides it.
func init() {
	def := int32(winoOff)
	if runtime.GOARCH == "wasm" {
		def = winoBest
	}
	winoMode.Store(parseWinoMode(os.Getenv("POSPROBE_WINOGRAD"), def))
}

// parseWinoMode reads a POSPROBE_WINOGRAD value; others give def.
func parseWinoMode(s string, def int32) int32 {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "1", "true":
		return winoBest
	case "off", "0", "false":
		return winoOff
	case "f23":
		return winoF23
	case "f43":
		return winoF43
	}
	return def
}

// SetWinograd switches the Winograd path of 3×3 stride-1 convolutions on
// (the faster tile size per layer) or off for every caller. The results
// differ from the direct path by float32 rounding only.
func SetWinograd(on bool) {
	if on {
		winoMode.Store(winoBest)
	} else {
		winoMode.Store(winoOff)
	}
}

// Winograd reports whether 3×3 stride-1 convolutions use the Winograd path.
func Winograd() bool { return winoMode.Load() != winoOff }

var winoNames = [...]string{winoOff: "off", winoBest: "on", winoF23: "f23", winoF43: "f43"}

// WinogradMode names the mode in use: off, on (the faster tile size per
// layer), f23 or f43 (one tile size forced).
func WinogradMode() string { return winoNames[winoMode.Load()] }

// SetWinogradMode sets the mode by name (as POSPROBE_WINOGRAD takes it;
// "auto" is this platform's default).
func SetWinogradMode(name string) error {
	def := int32(winoOff)
	if runtime.GOARCH == "wasm" {
		def = winoBest
	}
	m := parseWinoMode(name, -1)
	switch {
	case strings.EqualFold(strings.TrimSpace(name), "auto"):
		m = def
	case m < 0:
		return fmt.Errorf("nn: unknown Winograd mode %q (auto, on, off, f23, f43)", name)
	}
	winoMode.Store(m)
	return nil
}

// winogradFits reports whether ForwardIn takes the Winograd path for an
// oh×ow output. Under node (BenchmarkWinograd), 4 input channels (to 64,
// 56×56) ran at par with the direct path, 3 at 0.85× and 8 1.4× faster. A
// 2×2 output (one tile, GEMMs one column wide) ran 1.8× slower, 3×3 (four
// partial tiles) 1.7× faster.
func (c *Conv2D) winogradFits(oh, ow int) bool {
	return winoMode.Load() != winoOff && c.KH == 3 && c.KW == 3 && c.stride() == 1 && c.groups() == 1 &&
		c.InC >= 8 && oh >= 3 && ow >= 3
}

// winoTile is the output tile size m for an oh×ow output under the current
// mode. Under node (BenchmarkWinograd), 4×4 tiles ran 1.3-1.6× faster than
// 2×2 on SqueezeNet's layers (13×13 to 55×55 outputs) and 1.2-1.6× on 6×6
// and 8×8 ones, at par on 10×10, but 2.5× slower on 3×3 and 4×4 outputs
// (one tile, GEMMs one column wide): "on" takes 4×4 tiles where an output
// has at least four of them.
func (c *Conv2D) winoTile(oh, ow int) int {
	switch winoMode.Load() {
	case winoF23:
		return 2
	case winoF43:
		return 4
	}
	if ((oh+3)/4)*((ow+3)/4) >= 4 {
		return 4
	}
	return 2
}

// winoWeights is a layer's transformed weights U, [(m+2)²][OutC][InC], and
// what they were computed from.
type winoWeights struct {
	w          *float32
	n, in, out int
	u          []float32
}

// winoKey names a layer's U for one tile size.
type winoKey struct {
	c weak.Pointer[Conv2D]
	m int
}

// winoCache holds U per layer and tile size (winoKey -> *winoWeights); an
// entry goes when its layer is collected.
var winoCache sync.Map

// winoU returns the transformed weights of c for m×m output tiles, computed
// on first use and again when W's backing array or the sizes change.
func (c *Conv2D) winoU(m int) []float32 {
	key := winoKey{weak.Make(c), m}
	if v, ok := winoCache.Load(key); ok {
		e := v.(*winoWeights)
		if e.w == &c.W[0] && e.n == len(c.W) && e.in == c.InC && e.out == c.OutC {
			return e.u
		}
		e = c.transformWeights(m)
		winoCache.Store(key, e)
		return e.u
	}
	e := c.transformWeights(m)
	if _, loaded := winoCache.LoadOrStore(key, e); !loaded {
		runtime.AddCleanup(c, func(k winoKey) { winoCache.Delete(k) }, key)
	}
	return e.u
}

// winoG is G for m = 2 (4×3) and m = 4 (6×3, interpolation points 0, ±1, ±2
// and ∞).
var winoG = map[int][][3]float64{
	2: {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
	4: {
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	},
}

// transformWeights computes U[ξ][k][c] = (G·g·Gᵀ)[ξ] for each 3×3 kernel g,
// in float64. G is copied to an array and each kernel's values are
// converted once; the sums are the same expressions as ever (U unchanged):
// the first pass of ResNet-18 spent about 1 s here in node.
func (c *Conv2D) transformWeights(m int) *winoWeights {
	ci, co := c.InC, c.OutC
	var g [6][3]float64
	copy(g[:], winoG[m])
	al := m + 2
	plane := co * ci
	u := make([]float32, al*al*plane)
	var t [6][3]float64 // G·w
	for k := 0; k < co; k++ {
		for ch := 0; ch < ci; ch++ {
			w := (*[9]float32)(c.W[(k*ci+ch)*9:])
			w0, w1, w2 := float64(w[0]), float64(w[1]), float64(w[2])
			w3, w4, w5 := float64(w[3]), float64(w[4]), float64(w[5])
			w6, w7, w8 := float64(w[6]), float64(w[7]), float64(w[8])
			for i := range al {
				gi := &g[i]
				t[i] = [3]float64{gi[0]*w0 + gi[1]*w3 + gi[2]*w6, gi[0]*w1 + gi[1]*w4 + gi[2]*w7, gi[0]*w2 + gi[1]*w5 + gi[2]*w8}
			}
			o := k*ci + ch // U[(i*al+j)*plane + k*ci + ch]
			for i := range al {
				ti := &t[i]
				for j := range al {
					gj := &g[j]
					u[o] = float32(ti[0]*gj[0] + ti[1]*gj[1] + ti[2]*gj[2])
					o += plane
				}
			}
		}
	}
	return &winoWeights{w: &c.W[0], n: len(c.W), in: ci, out: co, u: u}
}

// winograd writes the convolution of x into out [N,OutC,OH,OW] with the tile
// size of the current mode; c must qualify (3×3, stride 1, one group).
func (c *Conv2D) winograd(a *Arena, out, x *tensor.Dense, act Act) {
	_, _, oh, ow := Dims4(out)
	c.winogradM(a, out, x, c.winoTile(oh, ow), act)
}

// winogradM is winograd with m×m output tiles, m = 2 or 4, and act applied
// to each band of output rows as it is written.
func (c *Conv2D) winogradM(a *Arena, out, x *tensor.Dense, m int, act Act) {
	n, ci, h, w := Dims4(x)
	co := c.OutC
	p := c.pad()
	oh, ow := c.OutSize(h, w)
	u := c.winoU(m)
	xd, od := Data(x), Data(out)
	al := m + 2
	nx := al * al

	// Tiles read the plane src (sh×sw) from (m·ty-off, m·tx-off); values
	// outside it are zeros: zero padding, and the rows and columns that
	// partial last tiles read beyond a padded or valid input.
	sh, sw, off := h, w, p
	var padded []float32
	if p > 0 && !c.Mode.Zeros() {
		sh, sw, off = h+2*p, w+2*p, 0
		var pool *[]float32
		padded, pool = a.buf(scratchPad, ci*sh*sw)
		if pool != nil {
			defer putBuf(pool)
		}
	}
	th, tw := (oh+m-1)/m, (ow+m-1)/m
	// Bands of tile rows bound V and M to 16 MB; 4 MB (im2col's bound) made
	// the GEMMs too narrow natively (VGG16's 512-channel layers ran 1.4×
	// slower at GOMAXPROCS=2).
	band := max(1, min(th, 4*colBandValues/(nx*(ci+co)*tw)))
	we := m*tw + 2 // a tile row's input rows with their zeros, per channel
	// Row scratch: al rows per input channel, and for F(4,3)'s output
	// transform 6·4·tw values per output channel.
	rn := ci * al * we
	if m == 4 {
		rn = max(rn, co*24*tw)
	}
	buf, pool := a.buf(scratchCol, nx*(winoStride(ci*band*tw)+winoStride(co*band*tw))+rn)
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
			v, mm, rows := buf[:nx*vs], buf[nx*vs:nx*(vs+ms)], buf[nx*(vs+ms):]
			parallelFor(ci, nx*ci*nt, func(lo, hi int) {
				r := rows[lo*al*we : (lo+1)*al*we]
				for ch := lo; ch < hi; ch++ {
					if m == 4 {
						winoInput43(v, src[ch*sh*sw:(ch+1)*sh*sw], r, sh, sw, off, t0, t1, tw, ch*nt, vs)
					} else {
						winoInput(v, src[ch*sh*sw:(ch+1)*sh*sw], r, sh, sw, off, t0, t1, tw, ch*nt, vs)
					}
				}
			})
			for xi := 0; xi < nx; xi++ {
				gemm.Sgemm(co, nt, ci, u[xi*co*ci:], ci, v[xi*vs:], nt, mm[xi*ms:], nt, false)
			}
			parallelFor(co, nx*co*nt, func(lo, hi int) {
				var r []float32
				if m == 4 {
					r = rows[lo*24*tw : (lo+1)*24*tw]
				}
				for k := lo; k < hi; k++ {
					var bv float32
					if c.B != nil {
						bv = c.B[k]
					}
					if m == 4 {
						winoOutput43(dst[k*ohw:(k+1)*ohw], mm, r, bv, oh, ow, t0, t1, tw, k*nt, ms)
					} else {
						winoOutput(dst[k*ohw:(k+1)*ohw], mm, bv, oh, ow, t0, t1, tw, k*nt, ms)
					}
					act.apply(dst[k*ohw+m*t0*ow : k*ohw+min(m*t1, oh)*ow])
				}
			})
		}
	}
}

// winoStride is the distance between the (m+2)² matrices of n values in V
// and M: a whole number of 4 KB pages plus one cache line, so that the streams
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
	v0, ss := winoV(v, 16, stride, base, (t1-t0)*tw)
	t := base
	for ty := t0; ty < t1; ty++ {
		tileRows(r, plane, 4, we, 2*ty-off, sh, sw, off)
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

// tileRows copies input rows y..y+rows-1 of plane (sh×sw) into r, we values
// each, shifted right by off: the zero padding around them is written too, so
// every tile of the row is an interior one.
func tileRows(r, plane []float32, rows, we, y, sh, sw, off int) {
	lo := min(off, we)
	for i := 0; i < rows; i++ {
		e := r[i*we : (i+1)*we]
		if y+i < 0 || y+i >= sh {
			clear(e)
			continue
		}
		clear(e[:lo])
		n := copy(e[lo:], plane[(y+i)*sw:(y+i+1)*sw])
		clear(e[lo+n:])
	}
}

// winoInput43 writes V = Bᵀ·d·B for 6×6 input tiles d (stride 4), with
//
//	Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
//	      0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
//
// for the tiles of tile rows [t0, t1) of one plane: value ξ of band tile t
// goes to v[ξ*stride+base+t]. The six input rows of a tile row are copied
// into r (6·(4·tw+2) values) with the zeros around them and transformed in
// place column by column (Bᵀ·d, shared by neighbouring tiles); each row of
// the result then gives 6 values per tile (·B), stored at unsafe offsets
// after one bounds check.
func winoInput43(v, plane, r []float32, sh, sw, off, t0, t1, tw, base, stride int) {
	we := 4*tw + 2
	r = r[:6*we]
	v0, ss := winoV(v, 36, stride, base, (t1-t0)*tw)
	t := base
	for ty := t0; ty < t1; ty++ {
		tileRows(r, plane, 6, we, 4*ty-off, sh, sw, off)
		r0 := r[:we:we]
		r1, r2, r3, r4, r5 := r[we : 2*we][:len(r0)], r[2*we : 3*we][:len(r0)], r[3*we : 4*we][:len(r0)], r[4*we : 5*we][:len(r0)], r[5*we : 6*we][:len(r0)]
		for j := winoInCols43(r, we); j < len(r0); j++ {
			d0, d1, d2, d3, d4, d5 := r0[j], r1[j], r2[j], r3[j], r4[j], r5[j]
			a, b := d4-4*d2, d3-4*d1
			c, e := d4-d2, 2*(d3-d1)
			r0[j] = 4*d0 - 5*d2 + d4
			r1[j] = a + b
			r2[j] = a - b
			r3[j] = c + e
			r4[j] = c - e
			r5[j] = 4*d1 - 5*d3 + d5
		}
		for i := 0; i < 6; i++ {
			row := r[i*we : (i+1)*we]
			o := unsafe.Add(v0, uintptr(4*t)+uintptr(6*i)*ss)
			for tx := 0; tx < tw; tx++ {
				d := row[4*tx : 4*tx+6]
				d0, d1, d2, d3, d4, d5 := d[0], d[1], d[2], d[3], d[4], d[5]
				a, b := d4-4*d2, d3-4*d1
				c, e := d4-d2, 2*(d3-d1)
				q := unsafe.Add(o, 4*tx)
				st := func(xi uintptr, x float32) { *(*float32)(unsafe.Add(q, xi*ss)) = x }
				st(0, 4*d0-5*d2+d4)
				st(1, a+b)
				st(2, a-b)
				st(3, c+e)
				st(4, c-e)
				st(5, 4*d1-5*d3+d5)
			}
		}
		t += tw
	}
}

// winoV checks that v holds nx matrices of stride values from base on
// with nt tiles each and returns its start and the stride in bytes.
func winoV(v []float32, nx, stride, base, nt int) (unsafe.Pointer, uintptr) {
	_ = v[(nx-1)*stride+base+nt-1]
	return unsafe.Pointer(&v[0]), uintptr(stride) * 4
}

// winoOutput43 writes Y = Aᵀ·M·A + bias,
//
//	Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1],
//
// of the 6×6 tiles of tile rows [t0, t1) into the output plane (oh×ow),
// clipping the partial last tiles; value ξ of band tile t is
// m[ξ*stride+base+t]. Each row of M gives 4 values per tile (·A) into r
// (6·4·tw values), whose columns then give the 4 output rows (Aᵀ·).
func winoOutput43(plane, m, r []float32, bv float32, oh, ow, t0, t1, tw, base, stride int) {
	nt := (t1 - t0) * tw
	_ = m[35*stride+base+nt-1]
	p0 := unsafe.Pointer(&m[base])
	st := uintptr(stride) * 4
	n := 4 * tw
	r = r[:6*n]
	t := 0
	for ty := t0; ty < t1; ty++ {
		for i := 0; i < 6; i++ {
			row := r[i*n : (i+1)*n]
			o := unsafe.Add(p0, 4*uintptr(t)+uintptr(6*i)*st)
			for tx := winoOutRow43(row, o, st, tw); tx < tw; tx++ {
				q := unsafe.Add(o, 4*tx)
				ld := func(xi uintptr) float32 { return *(*float32)(unsafe.Add(q, xi*st)) }
				m0, m1, m2, m3, m4, m5 := ld(0), ld(1), ld(2), ld(3), ld(4), ld(5)
				s, d := m1+m2, m1-m2
				s2, d2 := m3+m4, m3-m4
				w := row[4*tx : 4*tx+4]
				w[0] = m0 + s + s2
				w[1] = d + 2*d2
				w[2] = s + 4*s2
				w[3] = d + 8*d2 + m5
			}
		}
		y := 4 * ty
		r0 := r[:min(n, ow)]
		r1, r2, r3, r4, r5 := r[n : 2*n][:len(r0)], r[2*n : 3*n][:len(r0)], r[3*n : 4*n][:len(r0)], r[4*n : 5*n][:len(r0)], r[5*n : 6*n][:len(r0)]
		if y+3 < oh {
			y0 := plane[y*ow : (y+1)*ow][:len(r0)]
			y1 := plane[(y+1)*ow : (y+2)*ow][:len(r0)]
			y2 := plane[(y+2)*ow : (y+3)*ow][:len(r0)]
			y3 := plane[(y+3)*ow : (y+4)*ow][:len(r0)]
			for x := winoOutCols43(y0, y1, y2, y3, r, n, bv); x < len(r0); x++ {
				m0, m1, m2, m3, m4, m5 := r0[x], r1[x], r2[x], r3[x], r4[x], r5[x]
				s, d := m1+m2, m1-m2
				s2, d2 := m3+m4, m3-m4
				y0[x] = bv + m0 + s + s2
				y1[x] = bv + d + 2*d2
				y2[x] = bv + s + 4*s2
				y3[x] = bv + d + 8*d2 + m5
			}
		} else {
			for x := range r0 {
				m0, m1, m2, m3, m4, m5 := r0[x], r1[x], r2[x], r3[x], r4[x], r5[x]
				s, d := m1+m2, m1-m2
				s2, d2 := m3+m4, m3-m4
				ys := [4]float32{m0 + s + s2, d + 2*d2, s + 4*s2, d + 8*d2 + m5}
				for j := 0; y+j < oh; j++ {
					plane[(y+j)*ow+x] = bv + ys[j]
				}
			}
		}
		t += tw
	}
}
