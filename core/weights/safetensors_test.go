package weights

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestParseSafetensorsMixedDtypes(t *testing.T) {
	dir := filepath.Join(testdata, "safetensors")
	p := filepath.Join(dir, "mixed.safetensors")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSafetensors(b, p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Names(), []string{"a", "b", "c", "d"}) {
		t.Fatalf("names %v", s.Names())
	}
	for _, n := range s.Names() {
		want := readNpyFile(t, filepath.Join(dir, "expected_"+n+".npy"))
		got, err := s.Get(n, want.Shape()...)
		if err != nil {
			t.Error(err)
		} else if !slices.Equal(got, Values(want)) {
			t.Errorf("%s: %v, numpy has %v", n, got, Values(want))
		}
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	s := NewSet("in")
	s.Add("w", newTensor([]int{2, 2}, []float32{1, -2, 3.5, 1e-30}))
	s.Add("b", newTensor([]int{3}, []float32{0, 1, 2}))
	s.Add("scalar", newTensor([]int{}, []float32{7}))
	s.Add("empty", newTensor([]int{0, 5}, []float32{}))
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, s); err != nil {
		t.Fatal(err)
	}
	if hl := binary.LittleEndian.Uint64(buf.Bytes()); hl%8 != 0 {
		t.Errorf("header length %d not 8-aligned", hl)
	}
	r, err := ParseSafetensors(buf.Bytes(), "out")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range s.Names() {
		if !slices.Equal(r.Tensors[n].Shape(), s.Tensors[n].Shape()) || !slices.Equal(Values(r.Tensors[n]), Values(s.Tensors[n])) {
			t.Errorf("%s: %v %v", n, r.Tensors[n].Shape(), Values(r.Tensors[n]))
		}
	}
	if !slices.Equal(r.Names(), s.Names()) {
		t.Errorf("names %v", r.Names())
	}
	bad := NewSet("bad.pth")
	col, err := newTensor([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}).Slice(nil, tensor.S(1))
	if err != nil {
		t.Fatal(err)
	}
	bad.Add("x", col.(*tensor.Dense))
	if err := WriteSafetensors(&bytes.Buffer{}, bad); err == nil || !strings.Contains(err.Error(), "bad.pth") {
		t.Errorf("mismatched tensor written: %v", err)
	}
}

func stFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestParseSafetensorsErrors(t *testing.T) {
	eight := make([]byte, 8)
	cases := map[string][]byte{
		"shorter than":       {1, 2},
		"exceeds the file":   append(binary.LittleEndian.AppendUint64(nil, 1<<40), '{', '}'),
		"not a JSON object":  stFile("[]", nil),
		"safetensors header": stFile("{", nil),
		`dtype "I64"`:        stFile(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, eight),
		"outside":            stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,12]}}`, eight),
		"needs 8 bytes":      stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, eight),
		"overlap or hole":    stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, eight),
		"cover 4 of the 8":   stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, eight),
		"negative":           stFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, eight),
		"larger than":        stFile(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}`, eight),
		"unknown field":      stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, eight),
		"__metadata__":       stFile(`{"__metadata__":{"a":1}}`, nil),
	}
	for msg, b := range cases {
		_, err := ParseSafetensors(b, "x.safetensors")
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "x.safetensors") {
			t.Errorf("want %q: got %v", msg, err)
		}
	}
	good, _ := os.ReadFile(filepath.Join(testdata, "safetensors", "mixed.safetensors"))
	for n := 0; n < len(good); n++ {
		if _, err := ParseSafetensors(good[:n], "cut"); err == nil {
			t.Fatalf("cut at %d accepted", n)
		}
	}
}

func TestLoadSniffs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s := NewSet("")
	s.Add("w", newTensor([]int{2}, []float32{1, 2}))
	var st, npy bytes.Buffer
	WriteSafetensors(&st, s)
	WriteNpy(&npy, s.Tensors["w"])
	zipPth, _ := os.ReadFile(filepath.Join(pthDir, "small_zip.pth"))
	legacy, _ := os.ReadFile(filepath.Join(pthDir, "small_legacy.pth"))
	cases := map[string]string{
		write("a.safetensors", st.Bytes()):       "w",
		write("noext", st.Bytes()):               "w",
		write("w.npy", npy.Bytes()):              "w",
		write("z.bin", zipPth):                   "0.weight",
		write("l.pth", legacy):                   "0.weight",
		write("npydir/w.npy", npy.Bytes()):       "w",
		write("data/weights/w.npy", npy.Bytes()): "w",
	}
	cases[filepath.Join(dir, "npydir")] = "w"
	cases[filepath.Join(dir, "data")] = "w"
	for name, f := range tfjsFS(goodManifest) {
		write(filepath.Join("tf", name), f.Data)
	}
	cases[filepath.Join(dir, "tf", "m")] = "conv/kernel"
	cases[filepath.Join(dir, "tf", "m", "model.json")] = "conv/kernel"
	for p, want := range cases {
		s, err := Load(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if !s.Has(want) {
			t.Errorf("%s: names %v, want %s", p, s.Names(), want)
		}
	}
	for _, p := range []string{write("junk.bin", []byte("junk")), filepath.Join(dir, "missing"), t.TempDir()} {
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got %v", p, err)
		}
	}
}

// Every finite float16 survives floatToHalf(HalfToFloat(h)), and for values
// between two halves floatToHalf picks the nearer (ties to even): checked
// at the midpoints and a quarter-step either side of every pair.
func TestFloatToHalfExhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaN
		}
		f := HalfToFloat(uint16(h))
		if got := floatToHalf(f); got != uint16(h) && !(f == 0 && got^uint16(h) == 0x8000) {
			t.Fatalf("half %#04x = %g: back to %#04x", h, f, got)
		}
	}
	for h := 0; h < 0x7bff; h++ { // positive finite pairs (h, h+1)
		lo, hi := float64(HalfToFloat(uint16(h))), float64(HalfToFloat(uint16(h+1)))
		for _, c := range []struct {
			x    float64
			want int
		}{{lo + (hi-lo)/4, h}, {hi - (hi-lo)/4, h + 1}, {(lo + hi) / 2, h + h&1}} {
			if float64(float32(c.x)) != c.x {
				continue // not representable in float32
			}
			if got := floatToHalf(float32(c.x)); got != uint16(c.want) || floatToHalf(-float32(c.x)) != uint16(c.want)|0x8000 {
				t.Fatalf("%g between halves %#04x and %#04x: got %#04x, want %#04x", c.x, h, h+1, got, c.want)
			}
		}
	}
	for _, c := range []struct {
		f    float32
		want uint16
	}{{65520, 0x7c00}, {65519, 0x7bff}, {float32(math.Inf(-1)), 0xfc00}, {1e-8, 0}, {float32(math.NaN()), 0x7e00}, {3e-8, 1}} {
		if got := floatToHalf(c.f); got != c.want {
			t.Errorf("floatToHalf(%g) = %#04x, want %#04x", c.f, got, c.want)
		}
	}
}

func TestWriteSafetensorsF16(t *testing.T) {
	s := NewSet("t")
	s.Add("a", newTensor([]int{2, 3}, []float32{1, -2.5, 0.1, 1e-6, 70000, 3.14159}))
	s.Add("b", newTensor([]int{}, []float32{0.333}))
	var buf bytes.Buffer
	if err := WriteSafetensorsAs(&buf, s, "F16"); err != nil {
		t.Fatal(err)
	}
	back, err := ParseSafetensors(buf.Bytes(), "f16")
	if err != nil {
		t.Fatal(err)
	}
	RoundF16(s)
	for _, n := range s.Names() {
		for i, v := range Values(s.Tensors[n]) {
			if w := Values(back.Tensors[n])[i]; math.Float32bits(v) != math.Float32bits(w) {
				t.Errorf("%s[%d]: wrote %g, read %g", n, i, v, w)
			}
		}
	}
	if got := Values(back.Tensors["a"])[4]; !math.IsInf(float64(got), 1) {
		t.Errorf("70000 in F16 should overflow to +Inf, got %g", got)
	}
	if err := WriteSafetensorsAs(&buf, s, "BF16"); err == nil {
		t.Error("BF16 written without an error")
	}
}

// The writer never starts a file with 0x80 (the pickle magic): header sizes
// that would end in that byte get 8 more bytes of padding.
func TestWriteSafetensorsAvoidsPickleMagic(t *testing.T) {
	hit := 0
	for n := 1; n < 80; n++ {
		s := NewSet("t")
		s.Add(strings.Repeat("x", n), newTensor([]int{1}, []float32{1}))
		s.Add("pad"+strings.Repeat("y", 2*n), newTensor([]int{2}, []float32{1, 2}))
		var buf bytes.Buffer
		if err := WriteSafetensors(&buf, s); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if b[0] == 0x80 {
			t.Fatalf("name length %d: header size %d starts the file with 0x80", n, binary.LittleEndian.Uint64(b))
		}
		if n := binary.LittleEndian.Uint64(b); n%8 != 0 {
			t.Fatalf("header size %d is not 8-byte aligned", n)
		}
		if _, err := Parse(b, "t"); err != nil {
			t.Fatalf("name length %d: %v", n, err)
		}
		if h := binary.LittleEndian.Uint64(b); h&0xff == 0x88 && bytes.HasSuffix(b[8:8+h], []byte("        ")) {
			hit++
		}
	}
	if hit == 0 {
		t.Error("no header size needed the extra padding: the test does not reach the case")
	}
}
