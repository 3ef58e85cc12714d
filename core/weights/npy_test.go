package weights

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/testfiles"
	"gorgonia.org/tensor"
)

const testdata = "../../testdata/weights"

func readNpyFile(t *testing.T, p string) *tensor.Dense {
	t.Helper()
	x, err := LoadNpy(p)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestReadNpyVersionsAndDtypes(t *testing.T) {
	// The generator writes arange(24)/7-1 in float32, shape (2,3,4).
	want := make([]float32, 24)
	for i := range want {
		want[i] = float32(i)/7 - 1
	}
	for _, name := range []string{"f4_v1", "f4_v2", "f4_v3", "f8"} {
		x := readNpyFile(t, filepath.Join(testdata, "npy", name+".npy"))
		if !slices.Equal(x.Shape(), tensor.Shape{2, 3, 4}) {
			t.Fatalf("%s: shape %v", name, x.Shape())
		}
		if !slices.Equal(Values(x), want) {
			t.Errorf("%s: got %v, want %v", name, Values(x), want)
		}
	}
	h := readNpyFile(t, filepath.Join(testdata, "npy", "f2.npy"))
	e := readNpyFile(t, filepath.Join(testdata, "npy", "f2_expected.npy"))
	if !slices.Equal(Values(h), Values(e)) || !slices.Equal(h.Shape(), e.Shape()) {
		t.Errorf("float16: got %v %v, numpy says %v %v", h.Shape(), Values(h), e.Shape(), Values(e))
	}
	s := readNpyFile(t, filepath.Join(testdata, "npy", "scalar.npy"))
	if len(s.Shape()) != 0 || !slices.Equal(Values(s), []float32{2.5}) {
		t.Errorf("scalar: %v %v", s.Shape(), Values(s))
	}
	z := readNpyFile(t, filepath.Join(testdata, "npy", "empty.npy"))
	if !slices.Equal(z.Shape(), tensor.Shape{0, 3}) || len(Values(z)) != 0 {
		t.Errorf("empty: %v %v", z.Shape(), Values(z))
	}
}

func TestReadNpyRefusals(t *testing.T) {
	for name, msg := range map[string]string{
		"fortran":    "Fortran",
		"i8":         `dtype "<i8" not supported`,
		"big_endian": `dtype ">f4" not supported`,
	} {
		p := filepath.Join(testdata, "npy", "bad", name+".npy")
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ReadNpy(f, p)
		f.Close()
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got %v, want an error naming the file and %q", name, err, msg)
		}
	}
}

func TestReadNpyTruncatedAndCorrupt(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(testdata, "npy", "f4_v1.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(good); n++ {
		if _, err := ReadNpy(bytes.NewReader(good[:n]), "cut.npy"); err == nil || !strings.Contains(err.Error(), "cut.npy") {
			t.Fatalf("cut at %d: got %v", n, err)
		}
	}
	// Through a file (the seekable path), cut inside the data.
	p := filepath.Join(t.TempDir(), "cut.npy")
	os.WriteFile(p, good[:len(good)-3], 0o644)
	f, _ := os.Open(p)
	_, err = ReadNpy(f, p)
	f.Close()
	if err == nil || !strings.Contains(err.Error(), "truncated .npy data") || !strings.Contains(err.Error(), p) {
		t.Errorf("truncated file: %v", err)
	}
	corrupt := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	cases := map[string][]byte{
		"magic":   corrupt(func(b []byte) []byte { b[1] = 'X'; return b }),
		"version": corrupt(func(b []byte) []byte { b[6] = 9; return b }),
		"shape":   []byte(strings.Replace(string(good), "(2, 3, 4)", "(2, -3, 4)", 1)),
		"huge": []byte(strings.Replace(string(good), "(2, 3, 4)",
			"(99999999999, 99999999, 99)", 1)),
		"key":    []byte(strings.Replace(string(good), "'shape'", "'shapf'", 1)),
		"descr":  []byte(strings.Replace(string(good), "'<f4'", "('<f4',)", 1)),
		"nodict": []byte(strings.Replace(string(good), "{", " ", 1)),
	}
	for name, b := range cases {
		if _, err := ReadNpy(bytes.NewReader(b), name+".npy"); err == nil || !strings.Contains(err.Error(), name+".npy") {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestWriteNpyRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{}, {5}, {2, 3}, {0, 4}, {1, 2, 1, 3}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		x := newTensor(shape, make([]float32, n))
		for i := range Values(x) {
			Values(x)[i] = float32(i)*0.37 - 1
		}
		var buf bytes.Buffer
		if err := WriteNpy(&buf, x); err != nil {
			t.Fatal(err)
		}
		if (buf.Len()-n*4)%64 != 0 {
			t.Errorf("%v: header not padded to 64 bytes", shape)
		}
		y, err := ReadNpy(&buf, "x.npy")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x.Shape(), y.Shape()) || !slices.Equal(Values(x), Values(y)) {
			t.Errorf("%v: round trip gave %v %v", shape, y.Shape(), Values(y))
		}
	}
	// A view across the rows of a matrix is not one run of values.
	col, err := newTensor([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}).Slice(nil, tensor.S(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteNpy(&bytes.Buffer{}, col.(*tensor.Dense)); err == nil {
		t.Error("a strided view written as if contiguous")
	}
}

func TestLoadNpyDirAndSet(t *testing.T) {
	dir := t.TempDir()
	for name, x := range map[string]*tensor.Dense{
		"conv.weight": newTensor([]int{2, 1, 1, 1}, []float32{1, 2}),
		"conv.bias":   newTensor([]int{2}, []float32{3, 4}),
	} {
		var buf bytes.Buffer
		if err := WriteNpy(&buf, x); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".npy"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a tensor"), 0o644)
	s, err := LoadNpyDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Names(); !slices.Equal(got, []string{"conv.bias", "conv.weight"}) {
		t.Fatalf("names %v", got)
	}
	if !s.Has("conv.bias") || s.Has("README") {
		t.Error("Has is wrong")
	}
	if d, err := s.Get("conv.weight", 2, 1, 1, 1); err != nil || !slices.Equal(d, []float32{1, 2}) {
		t.Errorf("Get: %v %v", d, err)
	}
	if got := s.Unused(); !slices.Equal(got, []string{"conv.bias"}) {
		t.Errorf("unused %v", got)
	}
	_, err = s.Get("conv.weight", 2, 1, 3, 3)
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), `"conv.weight"`) ||
		!strings.Contains(err.Error(), "want [2 1 3 3], file has [2 1 1 1]") {
		t.Errorf("wrong shape error: %v", err)
	}
	_, err = s.Get("fc.weight")
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "fc.weight") {
		t.Errorf("missing tensor error: %v", err)
	}
	if _, err := LoadNpyDir(t.TempDir()); err == nil {
		t.Error("empty folder accepted")
	}
	if _, err := LoadNpyDir(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing folder: %v", err)
	}
}

// The real weight folders (found by Load through their weights/ subfolder):
// every file's size must equal its header plus the data its shape implies,
// read independently of ReadNpy.
func TestLoadNpyDirSharedData(t *testing.T) {
	data := testfiles.DataDir(t)
	for _, enc := range []string{"squeezenet1.1", "mobilenetv2", "resnet50v2"} {
		s, err := Load(filepath.Join(data, "weights", enc))
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(data, "weights", enc, "weights")
		if s.Source != dir {
			t.Errorf("source %s, want %s", s.Source, dir)
		}
		for _, n := range s.Names() {
			b, err := os.ReadFile(filepath.Join(dir, n+".npy"))
			if err != nil {
				t.Fatal(err)
			}
			hl := int(b[8]) | int(b[9])<<8
			if got := len(b) - 10 - hl; got != 4*len(Values(s.Tensors[n])) {
				t.Errorf("%s: %d data bytes, loaded %d floats", n, got, len(Values(s.Tensors[n])))
			}
		}
		m, _ := filepath.Glob(filepath.Join(dir, "*.npy"))
		if len(s.Names()) != len(m) {
			t.Errorf("%s: %d tensors from %d files", enc, len(s.Names()), len(m))
		}
	}
}
