package weights

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/testfiles"
)

var pthDir = filepath.Join(testdata, "pth")

// checkAgainstTorch compares every tensor with the values torch wrote as
// float32 .npy (exact: the conversions to float32 are exact or are the same
// IEEE rounding torch does).
func checkAgainstTorch(t *testing.T, s *Set) {
	t.Helper()
	var shapes map[string][]int
	testfiles.ReadJSON(t, filepath.Join(pthDir, "expected", "shapes.json"), &shapes)
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(s.Names(), names) {
		t.Fatalf("%s: names %v, torch saved %v", s.Source, s.Names(), names)
	}
	for _, n := range names {
		want := readNpyFile(t, filepath.Join(pthDir, "expected", n+".npy"))
		got, err := s.Get(n, shapes[n]...)
		if err != nil {
			t.Error(err)
			continue
		}
		if !slices.Equal(got, Values(want)) {
			t.Errorf("%s: %s = %v, torch has %v", s.Source, n, got, Values(want))
		}
	}
}

func TestLoadPthGenuine(t *testing.T) {
	for _, f := range []string{"small_zip.pth", "small_archive.pth", "small_legacy.pth"} {
		s, err := LoadPth(filepath.Join(pthDir, f))
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstTorch(t, s)
	}
}

func TestLoadPthMalicious(t *testing.T) {
	for f, global := range map[string]string{
		"os_system.pkl":        "posix.system",
		"eval.pkl":             "builtins.eval",
		"os_system_zip.pth":    "posix.system",
		"os_system_legacy.pth": "posix.system",
	} {
		p := filepath.Join(pthDir, "malicious", f)
		_, err := LoadPth(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), global+" is not allowed") {
			t.Errorf("%s: got %v, want a refusal of %s", f, err, global)
		}
	}
}

func TestLoadPthTruncated(t *testing.T) {
	for _, f := range []string{"small_zip.pth", "small_legacy.pth"} {
		good, err := os.ReadFile(filepath.Join(pthDir, f))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(good); n++ {
			s, err := ParsePth(good[:n], "cut.pth")
			if err == nil {
				t.Fatalf("%s cut at %d of %d: loaded %v", f, n, len(good), s.Names())
			}
			if !strings.Contains(err.Error(), "cut.pth") {
				t.Fatalf("%s cut at %d: error does not name the file: %v", f, n, err)
			}
		}
	}
}

// Every inverted byte must give a set or an error naming the file, never a
// panic (the fuzzers go further).
func TestLoadPthCorruptBytes(t *testing.T) {
	for _, f := range []string{"small_zip.pth", "small_legacy.pth"} {
		good, _ := os.ReadFile(filepath.Join(pthDir, f))
		for i := range good {
			for _, x := range []byte{0xff} {
				b := slices.Clone(good)
				b[i] ^= x
				if _, err := ParsePth(b, "bad.pth"); err != nil && !strings.Contains(err.Error(), "bad.pth") {
					t.Fatalf("%s byte %d: %v", f, i, err)
				}
			}
		}
	}
}

// rezip copies a zip checkpoint, letting edit change or drop entries.
func rezip(t *testing.T, src []byte, edit func(name string, b []byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		nb := edit(f.Name, b.Bytes())
		if nb == nil {
			continue
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		w.Write(nb)
	}
	zw.Close()
	return out.Bytes()
}

func TestLoadPthZipErrors(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(pthDir, "small_zip.pth"))
	if err != nil {
		t.Fatal(err)
	}
	// Sanity: an unchanged copy loads.
	if _, err := ParsePth(rezip(t, good, func(_ string, b []byte) []byte { return b }), "copy.pth"); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(string, []byte) []byte{
		"lacks small_zip/data/0": func(n string, b []byte) []byte {
			if n == "small_zip/data/0" {
				return nil
			}
			return b
		},
		"storage data/1 has 12 bytes": func(n string, b []byte) []byte {
			if n == "small_zip/data/1" {
				return b[:12]
			}
			return b
		},
		"without <folder>/data.pkl": func(n string, b []byte) []byte {
			if strings.HasSuffix(n, "data.pkl") {
				return nil
			}
			return b
		},
		"byteorder": func(n string, b []byte) []byte {
			if n == "small_zip/version" {
				return []byte("big")
			}
			return b
		},
		"pickle global torch.load is not allowed": func(n string, b []byte) []byte {
			if n == "small_zip/data.pkl" {
				return bytes.Replace(b, []byte("torch\nFloatStorage"), []byte("torch\nload\n\n\n\n\n\n\n"), 1)
			}
			return b
		},
	}
	for msg, edit := range cases {
		b := good
		if msg == "byteorder" {
			// A big-endian archive carries a byteorder entry.
			b = rezip(t, good, func(n string, b []byte) []byte { return b })
			b = addEntry(t, b, "small_zip/byteorder", "big")
		} else {
			b = rezip(t, good, edit)
		}
		_, err := ParsePth(b, "edited.pth")
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "edited.pth") {
			t.Errorf("want %q, got %v", msg, err)
		}
	}
}

func addEntry(t *testing.T, src []byte, name, content string) []byte {
	t.Helper()
	zr, _ := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := zw.Create(name)
	w.Write([]byte(content))
	zw.Close()
	return out.Bytes()
}

func TestParsePthNotACheckpoint(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":  nil,
		"text":   []byte("hello"),
		"pickle": {0x80, 0x02, 'K', 1, '.'},
		"npy":    []byte("\x93NUMPY\x01\x00"),
	} {
		if _, err := ParsePth(b, name+".pth"); err == nil || !strings.Contains(err.Error(), name+".pth") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestMaterializeStrides(t *testing.T) {
	st := &pthStorage{key: "0", typ: storageTypes["FloatStorage"], numel: 6, data: f32bytes(0, 1, 2, 3, 4, 5)}
	for _, c := range []struct {
		off          int
		size, stride []int
		want         []float32
		err          string
	}{
		{0, []int{2, 3}, []int{3, 1}, []float32{0, 1, 2, 3, 4, 5}, ""},
		{0, []int{3, 2}, []int{1, 3}, []float32{0, 3, 1, 4, 2, 5}, ""}, // transpose
		{1, []int{2}, []int{2}, []float32{1, 3}, ""},
		{5, []int{}, []int{}, []float32{5}, ""},
		{0, []int{2, 3}, []int{0, 1}, []float32{0, 1, 2, 0, 1, 2}, ""}, // expand
		{0, []int{0, 9}, []int{99, 99}, []float32{}, ""},
		{6, []int{}, []int{}, nil, "beyond"},
		{0, []int{2, 3}, []int{3, 2}, nil, "beyond"},
		{0, []int{2, 2}, []int{1 << 62, 1 << 62}, nil, "beyond"},
		{0, []int{40}, []int{0}, nil, "larger than"}, // over the element budget
	} {
		x, err := (&pthTensor{storage: st, offset: c.off, size: c.size, stride: c.stride}).materialize(24)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: got %v", c, err)
			}
			continue
		}
		if err != nil || !slices.Equal(Values(x), c.want) || !slices.Equal([]int(x.Shape()), c.size) {
			t.Errorf("%+v: got %v %v", c, x, err)
		}
	}
}

// A checkpoint in torch 0.3's layout (_rebuild_tensor, a storage view, a
// CUDA location), checked against what torch 1.13 loads from it.
func TestLoadPthOldLegacy(t *testing.T) {
	s, err := LoadPth(filepath.Join(pthDir, "old_legacy.pth"))
	if err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(pthDir, "expected", "old_legacy")
	m, _ := filepath.Glob(filepath.Join(exp, "*.npy"))
	if len(m) != 3 || len(s.Names()) != 3 {
		t.Fatalf("expected %v, loaded %v", m, s.Names())
	}
	for _, p := range m {
		want, name := readNpyFile(t, p), NpyName(p)
		got, err := s.Get(name, want.Shape()...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, Values(want)) {
			t.Errorf("%s: %v, torch has %v", name, got, Values(want))
		}
	}
}

// Stored entries are used in place; their CRC still guards the data.
func TestLoadPthZipChecksum(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(pthDir, "small_zip.pth"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name != "small_zip/data/0" {
			continue
		}
		off, err := f.DataOffset()
		if err != nil || f.Method != zip.Store {
			t.Fatalf("data/0: offset %d, method %d, %v", off, f.Method, err)
		}
		b := slices.Clone(good)
		b[off+5] ^= 1
		_, err = ParsePth(b, "flipped.pth")
		if err == nil || !strings.Contains(err.Error(), "checksum") || !strings.Contains(err.Error(), "flipped.pth") {
			t.Errorf("flipped storage byte: %v", err)
		}
		return
	}
	t.Fatal("no data/0 entry")
}

// A re-zipped checkpoint with deflated entries reads the same.
func TestLoadPthDeflated(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(pthDir, "small_zip.pth"))
	if err != nil {
		t.Fatal(err)
	}
	zr, _ := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
		if _, err := io.Copy(w, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	zw.Close()
	s, err := ParsePth(out.Bytes(), "deflated.pth")
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstTorch(t, s)
}
