package probe

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/wasm/demo"
	manifestdata "github.com/posprobe/posprobe/weights"
)

// The site's weight file leaves the classifier out; the worker's zeros in
// its place change no prediction of the default model.
func TestLoadModelWithoutHead(t *testing.T) {
	full := manifestdata.BuiltinData(manifestdata.Builtins[0])
	if full == nil {
		t.Skip("the committed weights are not linked into js/wasm")
	}
	set, err := weights.ParseSafetensors(full, "full")
	if err != nil {
		t.Fatal(err)
	}
	for name := range encoder.HeadTensors["squeezenet1.1"] {
		if !set.Has(name) {
			t.Fatalf("encoder.HeadTensors names %s, which the weights lack", name)
		}
		delete(set.Tensors, name)
	}
	var trimmed bytes.Buffer
	if err := weights.WriteSafetensorsAs(&trimmed, set, "F16"); err != nil {
		t.Fatal(err)
	}
	if trimmed.Len() > len(full)*6/10 {
		t.Errorf("without the head %d bytes of %d", trimmed.Len(), len(full))
	}

	m := model(t, "sq-zero")
	src := func(w []byte) (mapSource, demo.Manifest) {
		s := mapSource{"w.safetensors": w}
		man := demo.Manifest{Encoders: map[string]string{"squeezenet1.1": "w.safetensors"}}
		for _, target := range demo.Targets {
			name := "squeezenet1.1_imagenet_zero_" + target + ".readout"
			b, err := os.ReadFile(filepath.Join("..", "..", "weights", "readouts", name))
			if err != nil {
				t.Fatal(err)
			}
			s["readouts/"+name] = b
			man.Readouts = append(man.Readouts, "readouts/"+name)
		}
		return s, man
	}
	load := func(w []byte) *Predictor {
		s, man := src(w)
		p, err := LoadModel(m, s, man, "", func(float64, string) {})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pFull, pTrim := load(full), load(trimmed.Bytes())
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 3*demo.MapSize*demo.MapSize)
	for i := range x {
		x[i] = rng.Float32()
	}
	a, err := pFull.Predict(append([]float32(nil), x...))
	if err != nil {
		t.Fatal(err)
	}
	b, err := pTrim.Predict(append([]float32(nil), x...))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(demo.Targets) {
		t.Fatalf("%d maps", len(a))
	}
	for target, ma := range a {
		for i, v := range ma {
			if math.Float32bits(v) != math.Float32bits(b[target][i]) {
				t.Fatalf("%s[%d]: %g with the head, %g without", target, i, v, b[target][i])
			}
		}
	}
	// Something other than the head missing is still an error.
	delete(set.Tensors, "squeezenet0_conv3_weight")
	var broken bytes.Buffer
	weights.WriteSafetensorsAs(&broken, set, "F16")
	s, man := src(broken.Bytes())
	if _, err := LoadModel(m, s, man, "", func(float64, string) {}); err == nil || !strings.Contains(err.Error(), "conv3") {
		t.Errorf("weights without conv3: %v", err)
	}
}
