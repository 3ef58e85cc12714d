package encoder

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/gemm"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/weights"
	"gorgonia.org/tensor"
)

func TestRegistry(t *testing.T) {
	names := Names()
	for _, n := range []string{"none", "vgg16", "resnet18", "resnet50", "resnet152"} {
		if !slices.Contains(names, n) {
			t.Errorf("%s not registered (have %v)", n, names)
		}
		info, ok := Lookup(n)
		if !ok || info.Summary == "" || len(info.Taps) == 0 {
			t.Errorf("%s: incomplete info %+v", n, info)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names not sorted: %v", names)
	}
	_, err := New("vgg17", Options{})
	if err == nil || !strings.Contains(err.Error(), "vgg16") {
		t.Errorf("unknown encoder: error %v should list the known ones", err)
	}
	if _, err := New("vgg16", Options{Init: Init(7)}); err == nil || !strings.Contains(err.Error(), "Init(7)") {
		t.Errorf("unknown init: error %v", err)
	}
}

func TestNone(t *testing.T) {
	x := fixedInput(2, 5, 7)
	for _, norm := range []bool{false, true} {
		enc, err := New("none", Options{Normalize: norm})
		if err != nil {
			t.Fatal(err)
		}
		taps, err := enc.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		if len(taps) != 1 || !slices.Equal([]int(taps[0].Shape()), []int{2, 3, 5, 7}) {
			t.Fatalf("taps %v", taps)
		}
		got, in := nn.Data(taps[0]), nn.Data(x)
		for i := range got {
			want := in[i]
			if norm {
				c := i / 35 % 3
				want = (in[i] - ImageNetMean[c]) / ImageNetStd[c]
			}
			if got[i] != want {
				t.Fatalf("normalize=%v: value %d is %v, want %v", norm, i, got[i], want)
			}
		}
		got[0] = 42 // the tap is a copy
		if in[0] == 42 {
			t.Error("Forward returned the input itself")
		}
	}
	enc, _ := New("none", Options{})
	if _, err := enc.Forward(nn.New(1, 1, 4, 4)); err == nil {
		t.Error("1-channel input accepted")
	}
}

// TestFullWidthShapes builds the standard networks with random init and
// checks the tap shapes of a 224 input against the known sizes (VGG16
// without padding: 220, 106, 47, 17, 2; see docs).
func TestFullWidthShapes(t *testing.T) {
	if testing.Short() || runtime.GOOS == "js" {
		// ~10 s natively, ~3 min in single-threaded wasm, where the fixtures
		// already run the same code.
		t.Skip("full-width forward passes (tens of GFLOP)")
	}
	cases := []struct {
		name  string
		pad   nn.PadMode
		sizes []int
	}{
		{"vgg16", nn.PadZero, []int{224, 112, 56, 28, 14}},
		{"vgg16", nn.PadNone, []int{220, 106, 47, 17, 2}},
		{"resnet50", nn.PadZero, []int{112, 56, 28, 14, 7}},
		{"resnet18", nn.PadReflect, []int{112, 56, 28, 14, 7}},
	}
	for _, c := range cases {
		enc, err := New(c.name, Options{Init: InitRandom, Padding: c.pad})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := enc.(Classifier); ok {
			t.Errorf("%s: random init should carry no classifier", c.name)
		}
		info, _ := Lookup(c.name)
		if !slices.Equal(info.Taps, enc.Taps()) {
			t.Errorf("%s: Info taps %v, encoder taps %v", c.name, info.Taps, enc.Taps())
		}
		taps, err := enc.Forward(fixedInput(1, 224, 224))
		if err != nil {
			t.Fatal(err)
		}
		for i, tp := range enc.Taps() {
			want := []int{1, tp.Channels, c.sizes[i], c.sizes[i]}
			if !slices.Equal([]int(taps[i].Shape()), want) {
				t.Errorf("%s/%v %s: shape %v, want %v", c.name, c.pad, tp.Name, taps[i].Shape(), want)
			}
			if c.pad != nn.PadNone && tp.Stride*c.sizes[i] != 224 {
				t.Errorf("%s %s: stride %d for size %d", c.name, tp.Name, tp.Stride, c.sizes[i])
			}
			if max := maxAbs(nn.Data(taps[i])); max == 0 {
				t.Errorf("%s/%v %s: all zero", c.name, c.pad, tp.Name)
			}
		}
	}
	want := map[string][]int{
		"vgg16":    {64, 128, 256, 512, 512},
		"resnet18": {64, 64, 128, 256, 512},
		"resnet50": {64, 256, 512, 1024, 2048},
	}
	for name, ch := range want {
		info, _ := Lookup(name)
		for i, tp := range info.Taps {
			if tp.Channels != ch[i] {
				t.Errorf("%s %s: %d channels, want %d", name, tp.Name, tp.Channels, ch[i])
			}
		}
	}
	// ResNets without padding lose 2 pixels per 3×3 conv: 224 is too small.
	enc, err := New("resnet50", Options{Init: InitRandom, Padding: nn.PadNone})
	if err != nil {
		t.Fatal(err)
	}
	var se *SizeError
	if _, err := enc.Forward(fixedInput(1, 224, 224)); !errors.As(err, &se) || se.Min <= 224 {
		t.Errorf("resnet50 without padding at 224: error %v", err)
	}
}

func maxAbs(d []float32) float32 {
	var m float32
	for _, v := range d {
		m = max(m, v, -v)
	}
	return m
}

func TestRandomInitDeterministic(t *testing.T) {
	x := fixedInput(1, 64, 64)
	run := func(name string, seed uint64) []float32 {
		enc, err := New(name, Options{Init: InitRandom, Seed: seed, Width: 8})
		if err != nil {
			t.Fatal(err)
		}
		taps, err := enc.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		return nn.Data(taps[len(taps)-1])
	}
	for _, name := range []string{"vgg16", "resnet18", "resnet50"} {
		a, b, c := run(name, 1), run(name, 1), run(name, 2)
		if !slices.Equal(a, b) {
			t.Errorf("%s: same seed, different features", name)
		}
		if slices.Equal(a, c) {
			t.Errorf("%s: seeds 1 and 2 gave the same features", name)
		}
	}
}

func TestWeightErrors(t *testing.T) {
	t.Setenv(weights.CacheEnv, t.TempDir())
	t.Setenv(weights.DownloadEnv, "")
	for name, file := range map[string]string{"vgg16": "vgg16-397923af.pth", "resnet152": "resnet152-394f9c45.pth"} {
		_, err := New(name, Options{DataDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "--weights") {
			t.Errorf("%s without weights: error %v should say where to get %s", name, err, file)
		}
	}
	if _, err := New("vgg16", Options{Weights: "/nonexistent/vgg.pth"}); err == nil || !strings.Contains(err.Error(), "/nonexistent/vgg.pth") {
		t.Errorf("missing file: error %v", err)
	}
	// Another network's file: the error names the file and a tensor.
	p := filepath.Join(fixtureDir, "resnet18.pth")
	_, err := New("vgg16", Options{Weights: p, Width: 4})
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "features.0.weight") {
		t.Errorf("resnet18 weights for vgg16: error %v", err)
	}
	// Right names, wrong width: shapes are checked.
	_, err = New("resnet18", Options{Weights: p, Width: 8})
	if err == nil || !strings.Contains(err.Error(), "conv1.weight") {
		t.Errorf("width mismatch: error %v", err)
	}
	// Extra tensors are reported, not ignored.
	_, err = New("resnet18", Options{Weights: filepath.Join(fixtureDir, "resnet50.pth"), Width: 4})
	if err == nil {
		t.Error("resnet50 weights accepted for resnet18")
	}
}

func TestForwardBadInput(t *testing.T) {
	enc, err := New("vgg16", Options{Init: InitRandom, Width: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*tensor.Dense{nil, nn.New(3, 8, 8), nn.New(1, 4, 32, 32), nn.New(1, 3, 8, 8),
		tensor.New(tensor.WithShape(1, 3, 32, 32), tensor.Of(tensor.Float64))} {
		if _, err := enc.Forward(x); err == nil {
			t.Errorf("input %v accepted", x)
		}
	}
}

// BenchmarkForward times steady passes (after two untimed passes that fill
// the encoder's arena) with fresh taps, and with the taps recycled after each
// pass (BenchmarkForward/<name>/recycled); -benchmem gives the bytes a pass
// allocates.
func BenchmarkForward(b *testing.B) {
	x := fixedInput(1, 224, 224)
	for _, name := range Names() {
		for _, recycle := range []bool{false, true} {
			sub := name
			if recycle {
				sub += "/recycled"
			}
			b.Run(sub, func(b *testing.B) {
				enc, err := New(name, Options{Init: InitRandom})
				if err != nil {
					b.Skip(err)
				}
				for range 2 { // the arena settles in two passes
					taps, err := enc.Forward(x)
					if err != nil {
						b.Fatal(err)
					}
					if recycle {
						Recycle(enc, taps)
					}
				}
				f0 := gemm.Flops()
				for b.Loop() {
					taps, err := enc.Forward(x)
					if err != nil {
						b.Fatal(err)
					}
					if recycle {
						Recycle(enc, taps)
					}
				}
				// GEMM work only (convs; depthwise convs are not counted).
				b.ReportMetric(float64(gemm.Flops()-f0)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestWeightsInMemoryAndSafetensors: the same torchvision weights given as
// .pth, as a safetensors file (format sniffed) and as an in-memory Set give
// identical taps.
func TestWeightsInMemoryAndSafetensors(t *testing.T) {
	set, err := weights.LoadPth(filepath.Join(fixtureDir, "resnet18.pth"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := weights.WriteSafetensors(&buf, set); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(t.TempDir(), "r18.safetensors")
	if err := os.WriteFile(st, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	mem, err := weights.ParseSafetensors(buf.Bytes(), "fetched")
	if err != nil {
		t.Fatal(err)
	}
	x := fixedInput(1, 40, 40)
	var ref []float32
	for i, o := range []Options{
		{Weights: filepath.Join(fixtureDir, "resnet18.pth")},
		{Weights: st},
		{Set: mem, DataDir: "/nonexistent"},
	} {
		o.Width = 4
		enc, err := New("resnet18", o)
		if err != nil {
			t.Fatal(err)
		}
		taps, err := enc.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		got := nn.Data(taps[4])
		if i == 0 {
			ref = got
		} else if !slices.Equal(got, ref) {
			t.Errorf("options %d: taps differ from the .pth", i)
		}
	}
}

// TestBatch: each image of a batch gets the features it gets alone.
func TestBatch(t *testing.T) {
	x := fixedInput(2, 40, 40)
	second := nn.FromData(append([]float32(nil), nn.Data(x)[3*40*40:]...), 1, 3, 40, 40)
	for _, name := range []string{"vgg16", "resnet50"} {
		enc, err := New(name, Options{Init: InitRandom, Width: 8, Padding: nn.PadReflect, Normalize: true})
		if err != nil {
			t.Fatal(err)
		}
		both, err := enc.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		alone, err := enc.Forward(second)
		if err != nil {
			t.Fatal(err)
		}
		for i := range both {
			b, a := nn.Data(both[i]), nn.Data(alone[i])
			if e := relErr(b[len(b)/2:], a); len(a) != len(b)/2 || e > 1e-6 {
				t.Errorf("%s tap %d: batch vs single relative error %g", name, i, e)
			}
		}
	}
}
