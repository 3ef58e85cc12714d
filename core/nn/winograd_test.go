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

// checkWinograd compares the Winograd path with the direct one (and, for
// small cases, the float64 naive conv) for batch 2 and returns the largest
// max|diff| / max|direct| seen.
func checkWinograd(t *testing.T, r *rand.Rand, a *Arena, k winoCase) float64 {
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
	c.winograd(a, out, x)
	got := Data(out)
	a.Reset(nil)
	var scale, diff float64
	for i, v := range want {
		scale = max(scale, math.Abs(float64(v)))
		d := math.Abs(float64(got[i] - v))
		if math.IsNaN(d) {
			t.Fatalf("%+v: [%d] got %g want %g", k, i, got[i], v)
		}
		diff = max(diff, d)
	}
	if diff > 1e-4*scale {
		t.Fatalf("%+v: max |diff| %g > 1e-4 * max |direct| %g", k, diff, scale)
	}
	if k.ci*k.co*k.h*k.w <= 17*16*13*13 {
		ref := naiveConv(c, Data(x), n, k.h, k.w)
		for i, v := range ref {
			if d := math.Abs(float64(got[i] - v)); d > 1e-4*scale {
				t.Fatalf("%+v: [%d] got %g, naive conv %g", k, i, got[i], v)
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
					worst = max(worst, checkWinograd(t, r, a, winoCase{ch[0], ch[1], sz[0], sz[1], pad, mode, i%3 != 0}))
				}
			}
		}
		// Every channel pair on small maps, bias on and off.
		for _, ch := range winoChans {
			for _, sz := range [][2]int{{5, 7}, {13, 13}} {
				for _, bias := range []bool{false, true} {
					worst = max(worst, checkWinograd(t, r, a, winoCase{ch[0], ch[1], sz[0], sz[1], 1, PadZero, bias}))
				}
			}
		}
		t.Logf("max |winograd - direct| / max |direct| = %.2g", worst)
	})
}

// TestWinogradBands forces one tile row per band.
func TestWinogradBands(t *testing.T) {
	withWinograd(t, true)
	defer func(v int) { colBandValues = v }(colBandValues)
	colBandValues = 1
	r := rand.New(rand.NewPCG(9, 10))
	a := dirtyArena()
	for _, mode := range winoModes {
		for _, sz := range [][2]int{{9, 11}, {14, 13}} {
			checkWinograd(t, r, a, winoCase{6, 7, sz[0], sz[1], 1, mode, true})
		}
	}
	checkWinograd(t, r, nil, winoCase{6, 7, 11, 9, 1, PadZero, false})
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

// TestWinogradWeights checks that new weights are picked up and that
// concurrent passes over a fresh layer agree.
func TestWinogradWeights(t *testing.T) {
	withWinograd(t, true)
	r := rand.New(rand.NewPCG(13, 14))
	c := &Conv2D{InC: 6, OutC: 4, KH: 3, KW: 3, Pad: 1}
	h, w := 8, 7
	x := FromData(randSlice(r, c.InC*h*w), 1, c.InC, h, w)
	for range 3 {
		c.W = randSlice(r, c.OutC*c.InC*9)
		got := Data(c.Forward(x))
		want := naiveConv(c, Data(x), 1, h, w)
		for i := range want {
			if d := got[i] - want[i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("after new W: [%d] got %g want %g", i, got[i], want[i])
			}
		}
	}
	c = &Conv2D{InC: 16, OutC: 16, KH: 3, KW: 3, Pad: 1, W: randSlice(r, 16*16*9)}
	x = FromData(randSlice(r, 16*20*20), 1, 16, 20, 20)
	want := naiveConv(c, Data(x), 1, 20, 20)
	var wg sync.WaitGroup
	errs := make([]float32, 8)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := NewArena()
			for range 4 {
				got := Data(c.ForwardIn(a, x))
				for i := range want {
					errs[g] = max(errs[g], float32(math.Abs(float64(got[i]-want[i]))))
				}
				a.Reset(nil)
			}
		}()
	}
	wg.Wait()
	for g, e := range errs {
		if e > 1e-4 {
			t.Fatalf("goroutine %d: max |diff| %g", g, e)
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
	a := NewArena()
	out := a.New(1, 32, 27, 27)
	c.winograd(a, out, x)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const passes = 10
	for range passes {
		c.winograd(a, out, x)
	}
	runtime.ReadMemStats(&m1)
	// The scratch is 800 KB; Sgemm's 16 calls and the closures take ~9 KB.
	if b := (m1.TotalAlloc - m0.TotalAlloc) / passes; b > 32<<10 {
		t.Fatalf("a steady pass allocates %d bytes", b)
	}
}
