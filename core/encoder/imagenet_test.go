package encoder

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/internal/testfiles"
	"gorgonia.org/tensor"
)

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

// The reference taps (testdata/shared_taps.json); JSON keys match the field
// names case-insensitively.
type tapRef struct {
	Shape  []int
	Mean   float64
	Std    float64
	AbsMax float64
	Pos    []int
	Val    []float64
}

type runRef struct {
	Encoder string
	Padding string
	Size    int
	Taps    map[string]tapRef
}

func loadTapRefs(t *testing.T) []runRef {
	t.Helper()
	var ref struct {
		Runs []runRef
	}
	testfiles.ReadJSON(t, filepath.Join("testdata", "shared_taps.json"), &ref)
	return ref.Runs
}

// TestSharedEncodersMatchPyTorch compares every tap of the four shared-weight
// encoders (ImageNet weights, several padding modes) with the independent
// PyTorch build in testdata/gen/shared_encoders_check.py: shape, mean, std and
// 50 values per tap (first, last and hashed positions). Tolerance: 2e-5 of
// the tap's largest magnitude (float32 sums in a different order through up
// to ~50 layers; a wiring error shows up as O(1) of it).
func TestSharedEncodersMatchPyTorch(t *testing.T) {
	data := testfiles.DataDir(t)
	runs := loadTapRefs(t)
	for _, r := range runs {
		if (testing.Short() || runtime.GOOS == "js") && r.Padding != "zero" {
			continue // the other modes take minutes in node; native runs cover them
		}
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

var sharedNames = []string{"squeezenet1.1", "mobilenetv2", "resnet50v2", "darknet-tiny"}

// TestSharedRandomInit builds each shared-weight family without weights:
// taps as Taps() says (channels, size = input/stride with zero padding), the
// same seed gives the same taps, another seed other ones, and the first conv
// has the spread of its torchvision-style initialiser.
func TestSharedRandomInit(t *testing.T) {
	const size = 64
	firstStd := map[string]float64{
		"squeezenet1.1": math.Sqrt(2.0 / 27),   // kaiming_uniform_(fan_in 3·3·3)
		"mobilenetv2":   math.Sqrt(2.0 / 288),  // kaiming_normal_(fan_out 32·3·3)
		"resnet50v2":    math.Sqrt(2.0 / 3136), // kaiming_normal_(fan_out 64·7·7)
		"darknet-tiny":  math.Sqrt(2.0 / 144),  // kaiming_normal_(fan_out 16·3·3)
	}
	x := sharedSynthetic(size)
	for _, name := range sharedNames {
		t.Run(name, func(t *testing.T) {
			enc, err := New(name, Options{Init: InitRandom, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			info, _ := Lookup(name)
			if !slices.Equal(info.Taps, enc.Taps()) {
				t.Errorf("Info.Taps %v, encoder %v", info.Taps, enc.Taps())
			}
			a, err := enc.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			for i, tap := range enc.Taps() {
				want := []int{1, tap.Channels, ceilDiv(size, tap.Stride), ceilDiv(size, tap.Stride)}
				if name == "squeezenet1.1" {
					// conv0 is unpadded (3×3/2): 64 → 31 → pools (ceil) 15 → 7
					want[2] = []int{31, 15, 7, 3, 3}[i]
					want[3] = want[2]
				}
				if !slices.Equal([]int(a[i].Shape()), want) {
					t.Errorf("tap %s: shape %v, want %v", tap.Name, a[i].Shape(), want)
				}
			}
			again, _ := New(name, Options{Init: InitRandom, Seed: 3})
			b, _ := again.Forward(x)
			other, _ := New(name, Options{Init: InitRandom, Seed: 4})
			c, _ := other.Forward(x)
			last := len(a) - 1
			if !slices.Equal(nn.Data(a[last]), nn.Data(b[last])) {
				t.Error("same seed, different taps")
			}
			if slices.Equal(nn.Data(a[last]), nn.Data(c[last])) {
				t.Error("seeds 3 and 4 give the same taps")
			}
			w := firstConvW(enc)
			var s2 float64
			for _, v := range w {
				s2 += float64(v) * float64(v)
			}
			std := math.Sqrt(s2 / float64(len(w)))
			if r := std / firstStd[name]; r < 0.85 || r > 1.15 {
				t.Errorf("first conv weight std %.4g, want %.4g (±15%%)", std, firstStd[name])
			}
		})
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func firstConvW(e Encoder) []float32 {
	switch m := e.(type) {
	case *squeezenet:
		return m.conv0.W
	case *mobilenetv2:
		return m.stem.W
	case *resnet50v2:
		return m.conv0.W
	case *darknet:
		return m.layers[0].conv.W
	}
	return nil
}

// TestSharedErrors: unusable inputs and missing weights give errors that say
// what is wrong, never a panic.
func TestSharedErrors(t *testing.T) {
	for _, name := range sharedNames {
		enc, err := New(name, Options{Init: InitRandom, Width: 8})
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range []*tensor.Dense{nil, nn.New(1, 1, 64, 64), nn.New(3, 64, 64),
			tensor.New(tensor.WithShape(1, 3, 64, 64), tensor.Of(tensor.Float64))} {
			if _, err := enc.Forward(x); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s: bad input %d: err = %v", name, i, err)
			}
		}
		_, err = New(name, Options{DataDir: t.TempDir()})
		if name == "squeezenet1.1" && runtime.GOOS != "js" { // committed in weights/squeezenet1.1 (not linked into js/wasm)
			if err != nil {
				t.Errorf("%s from the committed weights: %v", name, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s without weights: err = %v", name, err)
		}
		_, err = New(name, Options{Weights: filepath.Join(t.TempDir(), "missing")})
		if err == nil {
			t.Errorf("%s: missing explicit weights accepted", name)
		}
	}
	// SqueezeNet's unpadded 3×3/2 stem needs 3 px.
	sq, _ := New("squeezenet1.1", Options{Init: InitRandom, Width: 8})
	if _, err := sq.Forward(nn.New(1, 3, 2, 2)); err == nil {
		t.Error("squeezenet1.1: 2x2 input accepted")
	}
	// MobileNetV2 without padding shrinks by 2 px per block: no 224 input.
	enc, err := New("mobilenetv2", Options{Init: InitRandom, Width: 8, Padding: nn.PadNone})
	if err != nil {
		t.Fatal(err)
	}
	var se *SizeError
	if _, err := enc.Forward(nn.New(1, 3, 224, 224)); !errors.As(err, &se) || se.Min <= 224 {
		t.Errorf("mobilenetv2 padding none at 224: err = %v, want a SizeError with the minimum size", err)
	} else {
		t.Log(err)
	}
}

// TestSharedWrongWeights: another net's weight folder is refused with the
// name of the missing tensor.
func TestSharedWrongWeights(t *testing.T) {
	data := testfiles.DataDir(t)
	_, err := New("squeezenet1.1", Options{Weights: filepath.Join(data, "weights", "mobilenetv2", "weights")})
	if err == nil || !strings.Contains(err.Error(), "squeezenet0_conv0_weight") {
		t.Errorf("mobilenetv2 weights as squeezenet: err = %v", err)
	}
	_, err = New("darknet-tiny", Options{Weights: filepath.Join(data, "weights", "resnet50v2", "weights")})
	if err == nil {
		t.Error("resnet50v2 weights accepted as darknet-tiny")
	}
}

func TestImageNetClasses(t *testing.T) {
	if _, err := ImageNetClasses(""); err == nil {
		t.Error("no data folder accepted")
	}
	dir := t.TempDir()
	sample := filepath.Join(dir, filepath.FromSlash(ImageNetSampleDir))
	testfiles.Write(t, sample, map[string]string{"README.md": ""}) // no photo yet
	if _, err := ImageNetClasses(dir); err == nil || !strings.Contains(err.Error(), "want 1000") {
		t.Errorf("empty sample folder: err = %v", err)
	}
	photos := map[string]string{}
	for i := 0; i < 1000; i++ {
		photos[fmt.Sprintf("n%08d_class_%d.JPEG", 1000+i, i)] = ""
	}
	testfiles.Write(t, sample, photos)
	cls, err := ImageNetClasses(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cls[0] != (Class{"n00001000", "class 0"}) || cls[999].WNID != "n00001999" {
		t.Errorf("classes %v ... %v", cls[0], cls[999])
	}
	testfiles.Write(t, sample, map[string]string{"n00001000_again.JPEG": ""})
	if _, err := ImageNetClasses(dir); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("repeated class: err = %v", err)
	}
	if data := testfiles.DataDirIfSet(); data != "" {
		cls, err := ImageNetClasses(data)
		if err != nil {
			t.Fatal(err)
		}
		if cls[0] != (Class{"n01440764", "tench"}) || cls[999].WNID != "n15075141" {
			t.Errorf("sample classes start %v, end %v", cls[0], cls[999])
		}
	}
}

// TestSharedNormalize: Options.Normalize is the same as feeding
// NormalizeImageNet(x), and Forward leaves x untouched.
func TestSharedNormalize(t *testing.T) {
	x := sharedSynthetic(48)
	orig := slices.Clone(nn.Data(x))
	xn, err := NormalizeImageNet(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sharedNames {
		plain, _ := New(name, Options{Init: InitRandom, Width: 8})
		norm, _ := New(name, Options{Init: InitRandom, Width: 8, Normalize: true})
		a, err := norm.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := plain.Forward(xn)
		for i := range a {
			if !slices.Equal(nn.Data(a[i]), nn.Data(b[i])) {
				t.Errorf("%s tap %d: Normalize differs from a normalised input", name, i)
			}
		}
		if !slices.Equal(nn.Data(x), orig) {
			t.Fatalf("%s modified its input", name)
		}
	}
}
