package weights

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/posprobe/posprobe/internal/hostile"
	"gorgonia.org/tensor"
)

// checkSet is what every parser promises on any input: an error naming the
// source, or tensors whose data matches their shapes, within a size budget
// tied to the input.
func checkSet(t *testing.T, s *Set, err error, source string, maxElems int) {
	t.Helper()
	if hostile.Refused(t, err, source) {
		return
	}
	total := 0
	for n, x := range s.Tensors {
		want := 1
		for _, d := range x.Shape() {
			want *= d
		}
		if want != len(Values(x)) || x.Dtype() != tensor.Float32 {
			t.Fatalf("tensor %q: %v %v with %d values", n, x.Dtype(), x.Shape(), len(Values(x)))
		}
		total += len(Values(x))
	}
	if total > maxElems {
		t.Fatalf("%d elements from a %d-element budget", total, maxElems)
	}
}

func addFiles(f *testing.F, pattern string) {
	m, _ := filepath.Glob(filepath.Join(testdata, pattern))
	for _, p := range m {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzReadNpy(f *testing.F) {
	addFiles(f, "npy/*.npy")
	addFiles(f, "npy/bad/*.npy")
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ReadNpy(bytes.NewReader(b), "f.npy")
		var s *Set
		if err == nil {
			s = NewSet("f.npy")
			s.Add("f", x)
		}
		checkSet(t, s, err, "f.npy", len(b))
	})
}

func FuzzParsePth(f *testing.F) {
	addFiles(f, "pth/*.pth")
	addFiles(f, "pth/malicious/*")
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParsePth(b, "f.pth")
		checkSet(t, s, err, "f.pth", 2*len(b))
	})
}

// The pickle machine alone, without the legacy framing in front of it.
func FuzzUnpickle(f *testing.F) {
	addFiles(f, "pickle/*.pkl")
	addFiles(f, "pth/malicious/*.pkl")
	f.Add([]byte("\x80\x02ccollections\nOrderedDict\n]](U\x01aK\x05ee\x85R."))
	f.Fuzz(func(t *testing.T, b []byte) {
		u := &unpickler{data: b, global: pthGlobal, call: pthCall}
		u.run()
	})
}

func FuzzParseSafetensors(f *testing.F) {
	addFiles(f, "safetensors/*.safetensors")
	f.Add(stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSafetensors(b, "f.st")
		checkSet(t, s, err, "f.st", len(b))
		if err == nil {
			// What we write we read back.
			var buf bytes.Buffer
			if err := WriteSafetensors(&buf, s); err != nil {
				t.Fatal(err)
			}
			if _, err := ParseSafetensors(buf.Bytes(), "again"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzReadTFJS(f *testing.F) {
	g := tfjsFS(goodManifest)
	f.Add(g["m/model.json"].Data, g["m/g1-shard1of2"].Data, g["m/g2-shard1of1"].Data)
	f.Add([]byte(`{"weightsManifest":[{"paths":["g1-shard1of2"],"weights":[{"name":"a","shape":[3],"dtype":"float32"}]}]}`),
		[]byte("0123456789012"), []byte{})
	f.Fuzz(func(t *testing.T, model, shard1, shard2 []byte) {
		fsys := fstest.MapFS{
			"m/model.json":   {Data: model},
			"m/g1-shard1of2": {Data: shard1},
			"m/g1-shard2of2": {Data: shard2},
			"m/g2-shard1of1": {Data: shard2},
		}
		s, err := ReadTFJSFS(fsys, "m/model.json", "f.json")
		// A shard may be listed by several groups; each byte decodes to at most one value per listing.
		checkSet(t, s, err, "f.json", (len(shard1)+2*len(shard2))*(1+len(model)))
	})
}
