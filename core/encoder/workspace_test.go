package encoder

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// freshTaps runs enc.Forward without arenas: every map freshly allocated, as
// before arenas existed.
func freshTaps(t *testing.T, enc Encoder, x *tensor.Dense) []*tensor.Dense {
	t.Helper()
	noReuse = true
	defer func() { noReuse = false }()
	taps, err := enc.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	return taps
}

func clone(taps []*tensor.Dense) [][]float32 {
	var out [][]float32
	for _, tp := range taps {
		out = append(out, slices.Clone(nn.Data(tp)))
	}
	return out
}

func sameTaps(t *testing.T, what string, got []*tensor.Dense, want [][]float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d taps, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !slices.Equal(nn.Data(got[i]), want[i]) {
			t.Errorf("%s: tap %d differs", what, i)
		}
	}
}

// inputFor is a fixed input just big enough for enc (at least 40 px).
func inputFor(t *testing.T, enc Encoder, n int) *tensor.Dense {
	t.Helper()
	size := 40
	if _, err := enc.Forward(fixedInput(1, size, size)); err != nil {
		var se *SizeError
		if !errors.As(err, &se) {
			t.Fatal(err)
		}
		size = se.Min + 1
	}
	return fixedInput(n, size+1, size) // odd and non-square
}

// TestForwardReuse: with the maps of earlier passes reused (and dirty),
// every encoder gives bit-identical taps to fresh allocation; taps not
// recycled stay intact through later passes; recycled ones may be reused.
func TestForwardReuse(t *testing.T) {
	for _, name := range Names() {
		for _, pad := range []nn.PadMode{nn.PadZero, nn.PadNone, nn.PadReflect} {
			if name == "none" || (pad == nn.PadNone && (name == "mobilenetv2" || name == "resnet152")) {
				continue // none has no layers; these need inputs of hundreds of px without padding
			}
			t.Run(fmt.Sprintf("%s/%s", name, pad), func(t *testing.T) {
				enc, err := New(name, Options{Init: InitRandom, Width: 4, Padding: pad, Normalize: pad == nn.PadReflect})
				if err != nil {
					t.Fatal(err)
				}
				x := inputFor(t, enc, 2)
				want := clone(freshTaps(t, enc, x))
				first, err := enc.Forward(x)
				if err != nil {
					t.Fatal(err)
				}
				sameTaps(t, "first pass", first, want)
				for i := range 3 {
					taps, err := enc.Forward(x)
					if err != nil {
						t.Fatal(err)
					}
					sameTaps(t, fmt.Sprintf("pass %d", i+2), taps, want)
					for _, tp := range taps {
						d := nn.Data(tp)
						for j := range d {
							d[j] = -1e30 // the caller may scribble on its taps
						}
					}
					if i > 0 {
						Recycle(enc, taps)
					}
				}
				sameTaps(t, "first pass's taps after more passes", first, want)
			})
		}
	}
}

// TestForwardConcurrent: passes running at once on one encoder get memory
// of their own.
func TestForwardConcurrent(t *testing.T) {
	for _, name := range []string{"resnet18", "squeezenet1.1", "mobilenetv2"} {
		enc, err := New(name, Options{Init: InitRandom, Width: 8})
		if err != nil {
			t.Fatal(err)
		}
		xs := []*tensor.Dense{fixedInput(1, 48, 48), fixedInput(2, 48, 48), fixedInput(1, 64, 56), fixedInput(1, 48, 48)}
		var want [][][]float32
		for _, x := range xs {
			want = append(want, clone(freshTaps(t, enc, x)))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(xs))
		for g, x := range xs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 4 {
					taps, err := enc.Forward(x)
					if err != nil {
						errs[g] = err
						return
					}
					for i := range taps {
						if !slices.Equal(nn.Data(taps[i]), want[g][i]) {
							errs[g] = fmt.Errorf("input %d tap %d differs", g, i)
							return
						}
					}
					Recycle(enc, taps)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// passBytes is the heap allocated by one Forward of enc on x (the smallest
// of three passes, so a garbage collection emptying a sync.Pool in between
// does not count); with recycle the taps go back to enc after each pass.
func passBytes(t *testing.T, enc Encoder, x *tensor.Dense, recycle bool) (bytes uint64, tapBytes int) {
	t.Helper()
	bytes = ^uint64(0)
	var ms runtime.MemStats
	for range 3 {
		runtime.ReadMemStats(&ms)
		b0 := ms.TotalAlloc
		taps, err := enc.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		bytes = min(bytes, ms.TotalAlloc-b0)
		tapBytes = 0
		for _, tp := range taps {
			tapBytes += 4 * len(nn.Data(tp))
		}
		if recycle {
			Recycle(enc, taps)
		}
	}
	return bytes, tapBytes
}

// TestForwardSteadyStateBytes: once an encoder has run on an input size, a
// pass allocates its taps and little else, and nothing big at all when the
// caller recycles the taps. Bytes, not time: deterministic.
func TestForwardSteadyStateBytes(t *testing.T) {
	if testing.Short() || runtime.GOOS == "js" {
		t.Skip("full-width 224 px passes")
	}
	x := fixedInput(1, 224, 224)
	for _, name := range []string{"vgg16", "squeezenet1.1", "resnet50", "mobilenetv2", "resnet18", "resnet50v2", "darknet-tiny"} {
		enc, err := New(name, Options{Init: InitRandom})
		if err != nil {
			t.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b0 := ms.TotalAlloc
		if _, err := enc.Forward(x); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		firstBytes := ms.TotalAlloc - b0
		fresh, tapBytes := passBytes(t, enc, x, false)
		recycled, _ := passBytes(t, enc, x, true)
		t.Logf("%-14s first pass %6.2f MB, then %6.2f MB (taps %6.2f MB), with taps recycled %6.3f MB",
			name, float64(firstBytes)/1e6, float64(fresh)/1e6, float64(tapBytes)/1e6, float64(recycled)/1e6)
		if limit := uint64(tapBytes) + firstBytes/20; fresh > limit {
			t.Errorf("%s: a pass allocates %d bytes, want at most the taps' %d + 5%% of the first pass's %d", name, fresh, tapBytes, firstBytes)
		}
		if limit := firstBytes / 20; recycled > limit {
			t.Errorf("%s: a pass with recycled taps allocates %d bytes, more than 5%% of the first pass's %d", name, recycled, firstBytes)
		}
	}
}
