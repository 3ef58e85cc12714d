package encoder

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// sharedDataDir returns POSPROBE_DATA or skips the test.
func sharedDataDir(t testing.TB) string {
	d := os.Getenv("POSPROBE_DATA")
	if d == "" {
		t.Skip("POSPROBE_DATA not set: shared ImageNet weights unavailable")
	}
	return d
}

// sharedSynthetic is the reference script's input: 0.5 + 0.45·sin(0.071x + 0.113y
// + 1.7c)·cos(0.029xy/size + c), computed in float64, stored as float32.
func sharedSynthetic(size int) *tensor.Dense {
	x := nn.New(1, 3, size, size)
	d := nn.Data(x)
	for c := 0; c < 3; c++ {
		for i := 0; i < size; i++ {
			for j := 0; j < size; j++ {
				fx, fy, fc := float64(j), float64(i), float64(c)
				v := 0.5 + 0.45*math.Sin(0.071*fx+0.113*fy+1.7*fc)*math.Cos(0.029*fx*fy/float64(size)+fc)
				d[(c*size+i)*size+j] = float32(v)
			}
		}
	}
	return x
}

type tapRef struct {
	Shape  []int     `json:"shape"`
	Mean   float64   `json:"mean"`
	Std    float64   `json:"std"`
	AbsMax float64   `json:"absmax"`
	Pos    []int     `json:"pos"`
	Val    []float64 `json:"val"`
}

type runRef struct {
	Encoder string            `json:"encoder"`
	Padding string            `json:"padding"`
	Size    int               `json:"size"`
	Taps    map[string]tapRef `json:"taps"`
}

func loadTapRefs(t *testing.T) []runRef {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "shared_taps.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Runs []runRef `json:"runs"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref.Runs
}

// TestSharedEncodersMatchPyTorch compares every tap of the four shared-weight
// encoders (ImageNet weights, several padding modes) with the independent
// PyTorch build in testdata/gen/shared_encoders_check.py: shape, mean, std and
// 50 values per tap (first, last and hashed positions). Tolerance: 2e-5 of
// the tap's largest magnitude (float32 sums in a different order through up
// to ~50 layers; a wiring error shows up as O(1) of it).
func TestSharedEncodersMatchPyTorch(t *testing.T) {
	data := sharedDataDir(t)
	runs := loadTapRefs(t)
	if testing.Short() {
		runs = runs[:1]
	}
	for _, r := range runs {
		t.Run(r.Encoder+"/"+r.Padding, func(t *testing.T) {
			mode, err := nn.ParsePadMode(r.Padding)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := New(r.Encoder, Options{DataDir: data, Padding: mode})
			if err != nil {
				t.Fatal(err)
			}
			out, err := enc.Forward(sharedSynthetic(r.Size))
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(enc.Taps()) || len(out) != len(r.Taps) {
				t.Fatalf("%d tap tensors for %d taps, reference has %d", len(out), len(enc.Taps()), len(r.Taps))
			}
			for i, tap := range enc.Taps() {
				ref, ok := r.Taps[tap.Name]
				if !ok {
					t.Fatalf("tap %s not in the reference", tap.Name)
				}
				compareTap(t, tap, out[i], ref)
			}
		})
	}
}

func compareTap(t *testing.T, tap Tap, got *tensor.Dense, ref tapRef) {
	t.Helper()
	if !slices.Equal([]int(got.Shape()), ref.Shape) {
		t.Errorf("%s: shape %v, reference %v", tap.Name, got.Shape(), ref.Shape)
		return
	}
	if got.Shape()[1] != tap.Channels {
		t.Errorf("%s: %d channels, Taps says %d", tap.Name, got.Shape()[1], tap.Channels)
	}
	d := nn.Data(got)
	var s, s2 float64
	for _, v := range d {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(len(d))
	mean := s / n
	std := math.Sqrt(math.Max(s2/n-mean*mean, 0))
	tol := 2e-5 * ref.AbsMax
	worst := 0.0
	for i, p := range ref.Pos {
		worst = math.Max(worst, math.Abs(float64(d[p])-ref.Val[i]))
	}
	if worst > tol || math.Abs(mean-ref.Mean) > tol || math.Abs(std-ref.Std) > tol {
		t.Errorf("%s: max |diff| %.3g at sampled values, mean %.6g vs %.6g, std %.6g vs %.6g (tol %.3g)",
			tap.Name, worst, mean, ref.Mean, std, ref.Std, tol)
	}
	t.Logf("%s %v: max |diff| %.2e (%.1e of max |x|)", tap.Name, got.Shape()[1:], worst, worst/ref.AbsMax)
}
