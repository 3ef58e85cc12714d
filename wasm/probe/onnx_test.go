package probe

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/posprobe/posprobe/core/onnx"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/wasm/demo"
)

// TestLoadONNXModel: a site.json listing an ONNX model puts it first among
// the demo's models, and LoadModel fetches the file and predicts with it.
func TestLoadONNXModel(t *testing.T) {
	saved := slices.Clone(demo.Models)
	t.Cleanup(func() { demo.Models = saved })
	b, err := os.ReadFile("../../testdata/onnx/resnet/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	src := mapSource{
		"site.json":        []byte(`{"readouts":null,"models":[{"key":"tiny-none","label":"tiny","name":"tiny","padding":"none","file":"models/tiny.onnx","taps":"layer1,layer2"}]}`),
		"models/tiny.onnx": b,
	}
	man, err := demo.ReadManifest(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.ReadManifest(src); err != nil { // twice: listed once
		t.Fatal(err)
	}
	if len(demo.Models) != len(saved)+1 || demo.Models[0].Key != "tiny-none" || demo.Models[0].ONNX != "models/tiny.onnx" {
		t.Fatalf("models %v", demo.Models)
	}
	m := demo.Models[0]
	m0, err := onnx.ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := onnx.New(m0, onnx.Options{Name: "tiny", Taps: []string{"layer1", "layer2"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := untrained(t, enc, m, "G").Save(&buf); err != nil {
		t.Fatal(err)
	}
	src["readouts/"+readout.FileName(m.Encoder, m.Init, m.Padding, posmap.G)] = buf.Bytes()
	p, err := LoadModel(m, src, man, "", func(float64, string) {})
	if err != nil {
		t.Fatal(err)
	}
	if names := p.Encoder().Taps(); len(names) != 2 || names[0].Name != "layer1" {
		t.Fatalf("taps %v", names)
	}
	maps, err := p.Predict(make([]float32, 3*demo.MapSize*demo.MapSize))
	if err != nil {
		t.Fatal(err)
	}
	if len(maps["G"]) != demo.MapSize*demo.MapSize {
		t.Fatalf("G map of %d values", len(maps["G"]))
	}
	delete(src, "models/tiny.onnx")
	if _, err := LoadModel(m, src, man, "", func(float64, string) {}); err == nil {
		t.Error("missing model file accepted")
	}
}
