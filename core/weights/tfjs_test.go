package weights

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/posprobe/posprobe/internal/testfiles"
)

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// A two-group model: group 1 split over two shards with the split inside a
// tensor; group 2 quantised.
func tfjsFS(manifest string) fstest.MapFS {
	g1 := f32bytes(1, 2, 3, 4, 5, 6, 7, 8, -1, -2)
	return fstest.MapFS{
		"m/model.json":       {Data: []byte(`{"modelTopology": {"class_name": "Model"}, "weightsManifest": ` + manifest + `}`)},
		"m/g1-shard1of2":     {Data: g1[:13]},
		"m/g1-shard2of2":     {Data: g1[13:]},
		"m/g2-shard1of1":     {Data: []byte{0, 10, 255, 1, 0, 2, 0, 0x00, 0x3c, 0x00, 0xc0}},
		"m/sub/g3-shard1of1": {Data: f32bytes(9)},
	}
}

const goodManifest = `[
 {"paths": ["g1-shard1of2", "g1-shard2of2"], "weights": [
   {"name": "conv/kernel", "shape": [1, 2, 2, 2], "dtype": "float32"},
   {"name": "conv/bias", "shape": [2], "dtype": "float32"}]},
 {"paths": ["g2-shard1of1"], "weights": [
   {"name": "q8", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1}},
   {"name": "q16", "shape": [2], "dtype": "float32", "quantization": {"dtype": "uint16", "scale": 0.25, "min": 1}},
   {"name": "h", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}}]},
 {"paths": ["sub/g3-shard1of1"], "weights": [{"name": "s", "shape": [], "dtype": "float32"}]}]`

func TestReadTFJSFS(t *testing.T) {
	s, err := ReadTFJSFS(tfjsFS(goodManifest), "m/model.json", "m/model.json")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{
		"conv/kernel": {1, 2, 3, 4, 5, 6, 7, 8},
		"conv/bias":   {-1, -2},
		"q8":          {0*0.5 - 1, 10*0.5 - 1, 255*0.5 - 1},
		"q16":         {1*0.25 + 1, 2*0.25 + 1},
		"h":           {1, -2}, // 0x3c00, 0xc000
		"s":           {9},
	}
	if !slices.Equal(s.Names(), []string{"conv/bias", "conv/kernel", "h", "q16", "q8", "s"}) {
		t.Fatalf("names %v", s.Names())
	}
	for n, w := range want {
		if got := Values(s.Tensors[n]); !slices.Equal(got, w) {
			t.Errorf("%s: got %v want %v", n, got, w)
		}
	}
	if _, err := s.Get("conv/kernel", 1, 2, 2, 2); err != nil {
		t.Error(err)
	}
}

func TestReadTFJSErrors(t *testing.T) {
	cases := map[string]string{
		`[{"paths": ["g1-shard1of2"], "weights": [{"name": "a", "shape": [4], "dtype": "float32"}]}]`:                                                      "have 13",
		`[{"paths": ["g1-shard1of2", "g1-shard2of2"], "weights": [{"name": "a", "shape": [11], "dtype": "float32"}]}]`:                                     "needs 44 bytes",
		`[{"paths": ["missing"], "weights": []}]`:                                                                                                          "missing",
		`[{"paths": ["../x"], "weights": []}]`:                                                                                                             "leaves the model folder",
		`[{"paths": ["g2-shard1of1"], "weights": [{"name": "a", "shape": [11], "dtype": "int8"}]}]`:                                                        `dtype "int8"`,
		`[{"paths": ["g2-shard1of1"], "weights": [{"name": "a", "shape": [-11], "dtype": "float32"}]}]`:                                                    "negative",
		`[{"paths": ["g2-shard1of1"], "weights": [{"name": "a", "shape": [11], "dtype": "float32", "quantization": {"dtype": "uint8"}}]}]`:                 "without scale",
		`[{"paths": ["sub/g3-shard1of1"], "weights": [{"name": "a", "shape": [1], "dtype": "float32"}, {"name": "a", "shape": [0], "dtype": "float32"}]}]`: "twice",
		`[]`:   "no weightsManifest",
		`[{]`:  "not a TF.js model.json",
		`[{}]`: "no shard paths",
	}
	for manifest, msg := range cases {
		_, err := ReadTFJSFS(tfjsFS(manifest), "m/model.json", "dir/model.json")
		if err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), "dir/model.json") {
			t.Errorf("%s: got %v, want %q", manifest, err, msg)
		}
	}
}

func TestLoadTFJSFiles(t *testing.T) {
	dir := t.TempDir()
	for name, f := range tfjsFS(goodManifest) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mj := filepath.Join(dir, "m", "model.json")
	s, err := LoadTFJS(mj)
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != mj || len(s.Tensors) != 6 {
		t.Errorf("source %q, %d tensors", s.Source, len(s.Tensors))
	}
	topo, err := ReadTFJSTopology(mj)
	if err != nil || !strings.Contains(string(topo), `"Model"`) {
		t.Errorf("topology %s %v", topo, err)
	}
	if _, err := LoadTFJS(filepath.Join(dir, "none.json")); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("missing file: %v", err)
	}
}

// darknet-tiny from the shared data: every manifest weight is present with
// its shape, and the shards are consumed exactly (checked by the loader).
func TestLoadTFJSDarknetTiny(t *testing.T) {
	data := testfiles.DataDir(t)
	mj := filepath.Join(data, "weights", "darknet-tiny", "model.json")
	s, err := LoadTFJS(mj)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(mj)
	var m struct {
		WeightsManifest []struct {
			Weights []struct {
				Name  string
				Shape []int
			}
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range m.WeightsManifest {
		for _, w := range g.Weights {
			if _, err := s.Get(w.Name, w.Shape...); err != nil {
				t.Error(err)
			}
			n++
		}
	}
	if n != len(s.Tensors) || len(s.Unused()) != 0 {
		t.Errorf("%d manifest weights, %d loaded, unused %v", n, len(s.Tensors), s.Unused())
	}
	if _, err := ReadTFJSTopology(mj); err != nil {
		t.Error(err)
	}
}
