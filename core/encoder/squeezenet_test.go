package encoder

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/internal/testfiles"
	"gorgonia.org/tensor"
)

func readNpyFile(t *testing.T, path string) *tensor.Dense {
	t.Helper()
	x, err := weights.LoadNpy(path)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestSqueezeNetShippedLogits runs the whole network with its classifier on
// the three test inputs shipped with the weights and compares the 1000
// logits to output_0.npy (ONNX runtime's). The inputs are raw 0..255 pixels
// fed without normalisation, as the ONNX test case does. Acceptance: max
// |diff| ≤ 1e-3 on logits up to ~300 (PyTorch reaches 1.5e-4).
func TestSqueezeNetShippedLogits(t *testing.T) {
	data := testfiles.DataDir(t)
	enc, err := New("squeezenet1.1", Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	m := enc.(*squeezenet)
	for i := 0; i < 3; i++ {
		dir := filepath.Join(data, "weights", "squeezenet1.1", "test_data_set", fmt.Sprint(i))
		in := readNpyFile(t, filepath.Join(dir, "input_0.npy"))
		want := nn.Data(readNpyFile(t, filepath.Join(dir, "output_0.npy")))
		got, err := m.logits(in, false)
		if err != nil {
			t.Fatal(err)
		}
		g := nn.Data(got)
		if len(g) != len(want) {
			t.Fatalf("%d logits, want %d", len(g), len(want))
		}
		worst, am, wm := 0.0, 0, 0
		for j := range g {
			worst = math.Max(worst, math.Abs(float64(g[j]-want[j])))
			if g[j] > g[am] {
				am = j
			}
			if want[j] > want[wm] {
				wm = j
			}
		}
		t.Logf("test_data_set/%d: max |diff| %.3g, argmax %d (want %d)", i, worst, am, wm)
		if worst > 1e-3 || am != wm {
			t.Errorf("test_data_set/%d: max |diff| %.3g > 1e-3 or argmax %d != %d", i, worst, am, wm)
		}
	}
}
