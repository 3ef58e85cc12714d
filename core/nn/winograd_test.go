package nn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/posprobe/posprobe/core/gemm"
)

// forEachGemmPath runs f once per GEMM kernel path.
func forEachGemmPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer gemm.SetPath("")
	for _, name := range gemm.Paths() {
		if err := gemm.SetPath(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}

// withWinograd sets the switch for the rest of the test.
func withWinograd(t *testing.T, on bool) {
	prev := Winograd()
	SetWinograd(on)
	t.Cleanup(func() { SetWinograd(prev) })
}

// dirtyArena returns an arena whose scratch and free buffers hold NaNs.
func dirtyArena() *Arena {
	a := NewArena()
	for i := range a.scratch {
		a.scratch[i] = make([]float32, 1<<16)
		for j := range a.scratch[i] {
			a.scratch[i][j] = float32(math.NaN())
		}
	}
	return a
}

// winoCase is one layer and input size.
type winoCase struct {
	ci, co, h, w, pad int
	mode              PadMode
	bias              bool
}

// winoTiles are the output tile sizes m of F(m×m, 3×3).
var winoTiles = []int{2, 4}

// checkWinograd compares the Winograd path with m×m tiles with the direct
// one (and, for small cases, the float64 naive conv) for batch 2 and returns
// max|diff| / max|direct|.
func checkWinograd(t *testing.T, r *rand.Rand, a *Arena, k winoCase, m int) float64 {
	t.Helper()
	c := &Conv2D{InC: k.ci, OutC: k.co, KH: 3, KW: 3, Stride: 1, Pad: k.pad, Mode: k.mode}
	c.W = randSlice(r, k.co*k.ci*9)
	if k.bias {
		c.B = randSlice(r, k.co)
	}
	n := 2
	x := FromData(randSlice(r, n*k.ci*k.h*k.w), n, k.ci, k.h, k.w)
	SetWinograd(false)
	want := Data(c.Forward(x))
	SetWinograd(true)
	oh, ow := c.OutSize(k.h, k.w)
	out := a.New(n, k.co, oh, ow)
	for i := range Data(out) {
		Data(out)[i] = float32(math.NaN())
	}
	c.winogradM(a, out, x, m, ActNone)
	got := Data(out)
	a.Reset(nil)
	var scale, diff float64
	for i, v := range want {
		scale = max(scale, math.Abs(float64(v)))
		d := math.Abs(float64(got[i] - v))
		if math.IsNaN(d) {
			t.Fatalf("F(%d,3) %+v: [%d] got %g want %g", m, k, i, got[i], v)
		}
		diff = max(diff, d)
	}
	if diff > 1e-4*scale {
		t.Fatalf("F(%d,3) %+v: max |diff| %g > 1e-4 * max |direct| %g", m, k, diff, scale)
	}
	if k.ci*k.co*k.h*k.w <= 17*16*13*13 {
		ref := naiveConv(c, Data(x), n, k.h, k.w)
		for i, v := range ref {
			if d := math.Abs(float64(got[i] - v)); d > 1e-4*scale {
				t.Fatalf("F(%d,3) %+v: [%d] got %g, naive conv %g", m, k, i, got[i], v)
			}
		}
	}
	return diff / scale
}

var (
	winoSizes = [][2]int{{3, 3}, {4, 4}, {5, 7}, {7, 5}, {6, 9}, {13, 13}, {27, 27}, {55, 55}, {56, 56}}
	winoChans = [][2]int{{3, 5}, {5, 3}, {16, 17}, {17, 16}, {64, 64}, {3, 64}, {64, 17}}
	winoModes = []PadMode{PadZero, PadNone, PadReflect, PadReplicate, PadCircular}
)

func TestWinogradMatchesDirect(t *testing.T) {
	withWinograd(t, true)
	forEachGemmPath(t, func(t *testing.T) {
		for _, m := range winoTiles {
			r := rand.New(rand.NewPCG(7, 8))
			a := dirtyArena()
			var worst float64
			i := 0
			for si, sz := range winoSizes {
				for mi, mode := range winoModes {
					for _, pad := range []int{1, 2 * ((si + mi) % 2)} { // 1, and 0 or 2
						ch := winoChans[i%len(winoChans)]
						if sz[0]*sz[1] > 27*27 && ch[0]*ch[1] > 17*17 && (testing.Short() || gemm.Path() == "naive") {
							ch = [2]int{17, 5}
						}
						i++
						if mode == PadReflect && pad >= min(sz[0], sz[1]) {
							continue // PyTorch refuses a reflection as wide as the input
						}
						worst = max(worst, checkWinograd(t, r, a, winoCase{ch[0], ch[1], sz[0], sz[1], pad, mode, i%3 != 0}, m))
					}
				}
			}
			// Every channel pair on small maps, bias on and off.
			for _, ch := range winoChans {
				for _, sz := range [][2]int{{5, 7}, {13, 13}} {
					for _, bias := range []bool{false, true} {
						worst = max(worst, checkWinograd(t, r, a, winoCase{ch[0], ch[1], sz[0], sz[1], 1, PadZero, bias}, m))
					}
				}
			}
			t.Logf("F(%d,3): max |winograd - direct| / max |direct| = %.2g", m, worst)
		}
	})
}

// TestWinogradBands forces one tile row per band.
func TestWinogradBands(t *testing.T) {
	withWinograd(t, true)
	defer func(v int) { colBandValues = v }(colBandValues)
	colBandValues = 1
	for _, m := range winoTiles {
		r := rand.New(rand.NewPCG(9, 10))
		a := dirtyArena()
		for _, mode := range winoModes {
			for _, sz := range [][2]int{{9, 11}, {14, 13}} {
				checkWinograd(t, r, a, winoCase{6, 7, sz[0], sz[1], 1, mode, true}, m)
			}
		}
		checkWinograd(t, r, nil, winoCase{6, 7, 11, 9, 1, PadZero, false}, m)
	}
}

// TestWinogradHook checks that Forward takes the path only for layers it
// fits, and agrees with the direct path through it.
func TestWinogradHook(t *testing.T) {
	withWinograd(t, true)
	r := rand.New(rand.NewPCG(11, 12))
	cases := []struct {
		c    Conv2D
		h, w int
		fits bool
	}{
		{Conv2D{InC: 8, OutC: 5, KH: 3, KW: 3, Pad: 1}, 9, 9, true},
		{Conv2D{InC: 8, OutC: 5, KH: 3, KW: 3, Stride: 1, Pad: 1, Groups: 1, Mode: PadReflect}, 9, 9, true},
		{Conv2D{InC: 8, OutC: 5, KH: 3, KW: 3, Stride: 2, Pad: 1}, 9, 9, false},
		{Conv2D{InC: 8, OutC: 8, KH: 3, KW: 3, Pad: 1, Groups: 2}, 9, 9, false},
		{Conv2D{InC: 8, OutC: 5, KH: 5, KW: 5, Pad: 2}, 9, 9, false},
		{Conv2D{InC: 4, OutC: 5, KH: 3, KW: 3, Pad: 1}, 9, 9, false},
		{Conv2D{InC: 8, OutC: 5, KH: 3, KW: 3, Pad: 1}, 3, 3, true},
		{Conv2D{InC: 8, OutC: 5, KH: 3, KW: 3, Pad: 1}, 2, 3, false},
		{Conv2D{InC: 8, OutC: 5, KH: 3, KW: 3, Mode: PadNone}, 4, 9, false},
	}
	for _, k := range cases {
		c := k.c
		if got := c.winogradFits(c.OutSize(k.h, k.w)); got != k.fits {
			t.Errorf("%+v on %dx%d: fits %v, want %v", c, k.h, k.w, got, k.fits)
		}
		c.W = randSlice(r, c.OutC*c.InC/c.groups()*c.KH*c.KW)
		c.B = randSlice(r, c.OutC)
		x := FromData(randSlice(r, 2*c.InC*k.h*k.w), 2, c.InC, k.h, k.w)
		got := Data(c.ForwardIn(dirtyArena(), x))
		want := naiveConv(&c, Data(x), 2, k.h, k.w)
		for i := range want {
			if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("%+v: [%d] got %g want %g", c, i, got[i], want[i])
			}
		}
	}
	SetWinograd(false)
	if Winograd() || cases[0].c.winogradFits(9, 9) {
		t.Fatal("SetWinograd(false) left the path on")
	}
}

// TestWinogradModes checks POSPROBE_WINOGRAD's values and the tile size
// each mode picks.
func TestWinogradModes(t *testing.T) {
	prev := winoMode.Load()
	defer winoMode.Store(prev)
	for s, want := range map[string]int32{"on": winoBest, " ON ": winoBest, "1": winoBest, "off": winoOff, "false": winoOff,
		"f23": winoF23, "F43": winoF43, "": -1, "x": -1} {
		if got := parseWinoMode(s, -1); got != want {
			t.Errorf("POSPROBE_WINOGRAD=%q: mode %d, want %d", s, got, want)
		}
	}
	c := &Conv2D{InC: 8, OutC: 8, KH: 3, KW: 3, Pad: 1}
	for _, k := range []struct {
		mode          int32
		oh, ow, m     int
		fits, enabled bool
	}{
		{winoBest, 3, 3, 2, true, true}, {winoBest, 4, 4, 2, true, true}, {winoBest, 4, 16, 4, true, true},
		{winoBest, 5, 5, 4, true, true}, {winoBest, 13, 13, 4, true, true}, {winoBest, 55, 55, 4, true, true},
		{winoF23, 55, 55, 2, true, true}, {winoF43, 3, 3, 4, true, true}, {winoOff, 55, 55, 2, false, false},
	} {
		winoMode.Store(k.mode)
		if Winograd() != k.enabled || c.winogradFits(k.oh, k.ow) != k.fits {
			t.Errorf("mode %d: Winograd %v, fits %v", k.mode, Winograd(), c.winogradFits(k.oh, k.ow))
		}
		if k.fits {
			if m := c.winoTile(k.oh, k.ow); m != k.m {
				t.Errorf("mode %d, %dx%d output: %dx%d tiles, want %d", k.mode, k.oh, k.ow, m, m, k.m)
			}
		}
	}
	SetWinograd(true)
	if winoMode.Load() != winoBest {
		t.Error("SetWinograd(true) is not the best-per-layer mode")
	}
}

// TestWinogradWeights checks, for each tile size, that new weights are
// picked up and that concurrent passes over a fresh layer agree. F(2,3) is
// held to 1e-4 absolute, F(4,3) to 1e-4 of the largest output (~50 here).
func TestWinogradWeights(t *testing.T) {
	prev := winoMode.Load()
	defer winoMode.Store(prev)
	for _, mode := range []int32{winoF23, winoF43} {
		winoMode.Store(mode)
		r := rand.New(rand.NewPCG(13, 14))
		c := &Conv2D{InC: 6, OutC: 4, KH: 3, KW: 3, Pad: 1}
		h, w := 8, 7
		x := FromData(randSlice(r, c.InC*h*w), 1, c.InC, h, w)
		tol := func(want []float32) float64 {
			if mode == winoF23 {
				return 1e-4
			}
			var s float64
			for _, v := range want {
				s = max(s, math.Abs(float64(v)))
			}
			return 1e-4 * s
		}
		for range 3 {
			c.W = randSlice(r, c.OutC*c.InC*9)
			got := Data(c.Forward(x))
			want := naiveConv(c, Data(x), 1, h, w)
			e := tol(want)
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > e {
					t.Fatalf("mode %d, after new W: [%d] got %g want %g", mode, i, got[i], want[i])
				}
			}
		}
		c = &Conv2D{InC: 16, OutC: 16, KH: 3, KW: 3, Pad: 1, W: randSlice(r, 16*16*9)}
		x = FromData(randSlice(r, 16*20*20), 1, 16, 20, 20)
		want := naiveConv(c, Data(x), 1, 20, 20)
		e := tol(want)
		var wg sync.WaitGroup
		errs := make([]float64, 8)
		for g := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := NewArena()
				for range 4 {
					got := Data(c.ForwardIn(a, x))
					for i := range want {
						errs[g] = max(errs[g], math.Abs(float64(got[i]-want[i])))
					}
					a.Reset(nil)
				}
			}()
		}
		wg.Wait()
		for g, d := range errs {
			if d > e {
				t.Fatalf("mode %d, goroutine %d: max |diff| %g > %g", mode, g, d, e)
			}
		}
	}
}

// TestWinogradSteadyAlloc checks that repeated passes through an arena take
// their scratch from it.
func TestWinogradSteadyAlloc(t *testing.T) {
	withWinograd(t, true)
	r := rand.New(rand.NewPCG(15, 16))
	c := &Conv2D{InC: 32, OutC: 32, KH: 3, KW: 3, Pad: 1, Mode: PadReflect, W: randSlice(r, 32*32*9)}
	x := FromData(randSlice(r, 32*27*27), 1, 32, 27, 27)
	for _, m := range winoTiles {
		a := NewArena()
		out := a.New(1, 32, 27, 27)
		c.winogradM(a, out, x, m, ActNone)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		const passes = 10
		for range passes {
			c.winogradM(a, out, x, m, ActNone)
		}
		runtime.ReadMemStats(&m1)
		// The scratch is ~1 MB; Sgemm's 16 or 36 calls and the closures take
		// ~9 or ~18 KB at GOMAXPROCS=2.
		if b := (m1.TotalAlloc - m0.TotalAlloc) / passes; b > 32<<10 {
			t.Fatalf("F(%d,3): a steady pass allocates %d bytes", m, b)
		}
	}
}

func TestWinogradModeNames(t *testing.T) {
	defer SetWinogradMode("auto")
	for _, m := range []string{"off", "on", "f23", "f43"} {
		if err := SetWinogradMode(m); err != nil || WinogradMode() != m {
			t.Errorf("SetWinogradMode(%q): %v, mode %q", m, err, WinogradMode())
		}
		if Winograd() != (m != "off") {
			t.Errorf("mode %s: Winograd() = %v", m, Winograd())
		}
	}
	if err := SetWinogradMode("sideways"); err == nil || WinogradMode() != "f43" {
		t.Errorf("bad mode: %v, mode now %q", err, WinogradMode())
	}
	SetWinogradMode("auto")
	if want := map[bool]string{true: "on", false: "off"}[runtime.GOARCH == "wasm"]; WinogradMode() != want {
		t.Errorf("auto gives %q, want %q", WinogradMode(), want)
	}
}

// TestWinogradTransform checks U against G·g·Gᵀ as written out (float64,
// each sum in index order, rounded once to float32), bit for bit, for both
// tile sizes.
func TestWinogradTransform(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	c := &Conv2D{InC: 5, OutC: 3, KH: 3, KW: 3, Pad: 1}
	c.W = randSlice(r, c.OutC*c.InC*9)
	for _, m := range []int{2, 4} {
		g, al := winoG[m], m+2
		u := c.transformWeights(m).u
		for k := range c.OutC {
			for ch := range c.InC {
				w := c.W[(k*c.InC+ch)*9:]
				for i := range al {
					for j := range al {
						var v float64
						for b := range 3 {
							var gw float64 // (G·g)[i][b]
							for a := range 3 {
								gw += g[i][a] * float64(w[3*a+b])
							}
							v += gw * g[j][b]
						}
						if got := u[((i*al+j)*c.OutC+k)*c.InC+ch]; got != float32(v) {
							t.Fatalf("m %d: U[%d,%d][%d][%d] = %g, want %g", m, i, j, k, ch, got, v)
						}
					}
				}
			}
		}
	}
}
