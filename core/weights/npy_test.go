package weights

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/testfiles"
)

const testdata = "../../testdata/weights"

func readNpyFile(t *testing.T, p string) *Tensor {
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
		if x.Name != name || !slices.Equal(x.Shape, []int{2, 3, 4}) {
			t.Fatalf("%s: name %q shape %v", name, x.Name, x.Shape)
		}
		if !slices.Equal(x.Data, want) {
			t.Errorf("%s: got %v, want %v", name, x.Data, want)
		}
	}
	h := readNpyFile(t, filepath.Join(testdata, "npy", "f2.npy"))
	e := readNpyFile(t, filepath.Join(testdata, "npy", "f2_expected.npy"))
	if !slices.Equal(h.Data, e.Data) || !slices.Equal(h.Shape, e.Shape) {
		t.Errorf("float16: got %v %v, numpy says %v %v", h.Shape, h.Data, e.Shape, e.Data)
	}
	s := readNpyFile(t, filepath.Join(testdata, "npy", "scalar.npy"))
	if len(s.Shape) != 0 || !slices.Equal(s.Data, []float32{2.5}) {
		t.Errorf("scalar: %v %v", s.Shape, s.Data)
	}
	z := readNpyFile(t, filepath.Join(testdata, "npy", "empty.npy"))
	if !slices.Equal(z.Shape, []int{0, 3}) || len(z.Data) != 0 {
		t.Errorf("empty: %v %v", z.Shape, z.Data)
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
		x := &Tensor{Name: "x", Shape: shape, Data: make([]float32, n)}
		for i := range x.Data {
			x.Data[i] = float32(i)*0.37 - 1
		}
		var buf bytes.Buffer
		if err := WriteNpy(&buf, x); err != nil {
			t.Fatal(err)
		}
		if (buf.Len()-len(x.Data)*4)%64 != 0 {
			t.Errorf("%v: header not padded to 64 bytes", shape)
		}
		y, err := ReadNpy(&buf, "x.npy")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x.Shape, y.Shape) || !slices.Equal(x.Data, y.Data) {
			t.Errorf("%v: round trip gave %v %v", shape, y.Shape, y.Data)
		}
	}
	if err := WriteNpy(&bytes.Buffer{}, &Tensor{Name: "bad", Shape: []int{3}, Data: []float32{1}}); err == nil {
		t.Error("shape/data mismatch accepted")
	}
}

func TestLoadNpyDirAndSet(t *testing.T) {
	dir := t.TempDir()
	for _, x := range []*Tensor{
		{Name: "conv.weight", Shape: []int{2, 1, 1, 1}, Data: []float32{1, 2}},
		{Name: "conv.bias", Shape: []int{2}, Data: []float32{3, 4}},
	} {
		var buf bytes.Buffer
		if err := WriteNpy(&buf, x); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, x.Name+".npy"), buf.Bytes(), 0o644); err != nil {
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
			if got := len(b) - 10 - hl; got != 4*len(s.Tensors[n].Data) {
				t.Errorf("%s: %d data bytes, loaded %d floats", n, got, len(s.Tensors[n].Data))
			}
		}
		m, _ := filepath.Glob(filepath.Join(dir, "*.npy"))
		if len(s.Names()) != len(m) {
			t.Errorf("%s: %d tensors from %d files", enc, len(s.Names()), len(m))
		}
	}
}
