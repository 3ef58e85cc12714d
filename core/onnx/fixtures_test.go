package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/internal/testfiles"
	"gorgonia.org/tensor"
)

const fixtures = "../../testdata/onnx"

// fixtureDir is testdata/onnx, or POSPROBE_ONNX_FIXTURES (a folder of the
// same layout, e.g. onnx_fixtures.py --sweep: full-size torchvision nets).
func fixtureDir() string {
	if d := os.Getenv("POSPROBE_ONNX_FIXTURES"); d != "" {
		return d
	}
	return fixtures
}

// fixtureCase is one entry of testdata/onnx/cases.json (written by
// testdata/gen/onnx_fixtures.py).
type fixtureCase struct {
	Name, Model, Image string
	Size, Opset        int
	Cases              []struct{ Padding, Ref string }
}

func loadCases(t *testing.T) []fixtureCase {
	t.Helper()
	var cs []fixtureCase
	testfiles.ReadJSON(t, filepath.Join(fixtureDir(), "cases.json"), &cs)
	if len(cs) < 5 && fixtureDir() == fixtures {
		t.Fatalf("cases.json lists %d cases", len(cs))
	}
	return cs
}

// relErr is max|got-want| / max|want|.
func relErr(got, want []float32) float64 {
	var d, m float64
	for i := range want {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
		m = max(m, math.Abs(float64(want[i])))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// TestFixtures runs every exported torchvision network of testdata/onnx on
// its image and compares every graph output with PyTorch's (1e-4 of the
// output's largest magnitude), through Net.Run and, for the 4-d outputs,
// through the encoder (arena reuse: two passes).
func TestFixtures(t *testing.T) {
	dir := fixtureDir()
	for _, c := range loadCases(t) {
		for _, sub := range c.Cases {
			t.Run(c.Name+"/"+sub.Padding, func(t *testing.T) {
				pad, err := nn.ParsePadMode(sub.Padding)
				if err != nil {
					t.Fatal(err)
				}
				x, err := imageio.LoadTensor(filepath.Join(dir, c.Image), c.Size)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := weights.LoadNpyDir(filepath.Join(dir, sub.Ref))
				if err != nil {
					t.Fatal(err)
				}
				m, err := ReadFile(filepath.Join(dir, c.Model))
				if err != nil {
					t.Fatal(err)
				}
				if m.Opset != int64(c.Opset) {
					t.Errorf("opset %d, want %d", m.Opset, c.Opset)
				}
				net, err := Compile(m, pad)
				if err != nil {
					t.Fatal(err)
				}
				outs, err := net.Run(nil, x, net.Outputs)
				if err != nil {
					t.Fatal(err)
				}
				if len(net.Outputs) != len(ref.Names()) {
					t.Fatalf("%d outputs, %d references", len(net.Outputs), len(ref.Names()))
				}
				for i, name := range net.Outputs {
					check(t, name, outs[i], ref.Tensors[name])
				}
				var tapSpec []string
				if len(ref.Names()) == 1 {
					tapSpec = []string{"auto"} // logits only: run the encoder path on its auto taps
				}
				e, err := New(m, Options{Name: c.Name, Padding: pad, Taps: tapSpec})
				if err != nil {
					t.Fatal(err)
				}
				for pass := 0; pass < 2; pass++ {
					taps, err := e.Forward(x)
					if err != nil {
						t.Fatal(err)
					}
					for i, tp := range e.Taps() {
						if tapSpec == nil {
							check(t, tp.Name, taps[i], ref.Tensors[tp.Name])
						}
					}
					e.Recycle(taps)
				}
			})
		}
	}
}

func check(t *testing.T, name string, got, want *tensor.Dense) {
	t.Helper()
	if want == nil {
		t.Errorf("%s: no reference", name)
		return
	}
	if !slices.Equal(got.Shape(), want.Shape()) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape(), want.Shape())
		return
	}
	if e := relErr(nn.Data(got), nn.Data(want)); !(e <= 1e-4) {
		t.Errorf("%s: relative error %.3g over 1e-4", name, e)
	} else {
		t.Logf("%s %v: relative error %.2g", name, want.Shape(), e)
	}
}

// openFixture opens the fixture model called name and runs it once on the
// fixture's 48x48 input.
func openFixture(t *testing.T, name string, opts Options) (*Encoder, *tensor.Dense, []*tensor.Dense) {
	t.Helper()
	e, err := Open(filepath.Join(fixtures, name, "model.onnx"), opts)
	if err != nil {
		t.Fatal(err)
	}
	x, err := imageio.LoadTensor(filepath.Join(fixtures, name, "input.png"), 48)
	if err != nil {
		t.Fatal(err)
	}
	taps, err := e.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	return e, x, taps
}

// TestConcurrentForward: passes running at once on one encoder get memory of
// their own and the same taps.
func TestConcurrentForward(t *testing.T) {
	e, x, want := openFixture(t, "efficientnet", Options{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range 5 {
				taps, err := e.Forward(x)
				if err != nil {
					errs <- err
					return
				}
				for i := range taps {
					if !slices.Equal(nn.Data(taps[i]), nn.Data(want[i])) {
						errs <- fmt.Errorf("tap %d differs", i)
						return
					}
				}
				e.Recycle(taps)
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestBatchForward: a batch gives each image's taps of a pass on its own.
func TestBatchForward(t *testing.T) {
	e, x, one := openFixture(t, "resnet", Options{Normalize: true})
	d := nn.Data(x)
	two := nn.New(2, 3, 48, 48)
	copy(nn.Data(two), d)
	for i, v := range d {
		nn.Data(two)[len(d)+i] = 1 - v
	}
	both, err := e.Forward(two)
	if err != nil {
		t.Fatal(err)
	}
	for i := range one {
		n := len(nn.Data(one[i]))
		if both[i].Shape()[0] != 2 || !slices.Equal(nn.Data(both[i])[:n], nn.Data(one[i])) || slices.Equal(nn.Data(both[i])[n:], nn.Data(one[i])) {
			t.Errorf("tap %d: batch of two does not hold the single pass first", i)
		}
	}
}
