package weights

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/hostile"
)

func kerasModel(layers ...string) json.RawMessage {
	return json.RawMessage(`{"model_config":{"class_name":"Model","config":{"layers":[` + strings.Join(layers, ",") + `]}}}`)
}

const (
	kerasIn   = `{"class_name":"InputLayer","config":{"name":"in","batch_input_shape":[null,224,224,3]},"inbound_nodes":[]}`
	kerasConv = `{"class_name":"Conv2D","config":{"name":"c1","filters":4,"kernel_size":[3,3]},"inbound_nodes":[[["in",0,0,{}]]]}`
)

func TestParseKerasChain(t *testing.T) {
	layers, err := ParseKerasChain(kerasModel(kerasIn, kerasConv), "m.json")
	if err != nil || len(layers) != 2 || layers[1].Config.Filters != 4 || layers[1].ClassName != "Conv2D" {
		t.Fatalf("%+v, %v", layers, err)
	}
	for name, inbound := range map[string]string{
		"empty node":  `[[[]]]`, // panicked: nodes[0][0][0] of an empty list
		"empty call":  `[[]]`,
		"two inputs":  `[[["in",0,0,{}],["in",0,0,{}]]]`,
		"not a name":  `[[[7,0,0,{}]]]`,
		"other layer": `[[["x",0,0,{}]]]`,
		"an object":   `{"args":[]}`,
		"two calls":   `[[["in",0,0,{}]],[["in",0,0,{}]]]`,
	} {
		conv := strings.Replace(kerasConv, `[[["in",0,0,{}]]]`, inbound, 1)
		if _, err := ParseKerasChain(kerasModel(kerasIn, conv), "m.json"); err == nil || !strings.Contains(err.Error(), "m.json") || !strings.Contains(err.Error(), "c1") {
			t.Errorf("%s: %v, want an error naming m.json and the layer", name, err)
		}
	}
	for _, bad := range []string{`{}`, `[]`, `{"model_config":{"config":{"layers":[]}}}`, `{"model_config":{"config":7}}`, `null`} {
		if _, err := ParseKerasChain(json.RawMessage(bad), "m.json"); err == nil || !strings.Contains(err.Error(), "m.json") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// FuzzKerasTopology: any topology gives layers forming a chain or an error
// naming the source, never a panic.
func FuzzKerasTopology(f *testing.F) {
	f.Add([]byte(kerasModel(kerasIn, kerasConv)))
	f.Add([]byte(kerasModel(kerasIn, strings.Replace(kerasConv, `[[["in",0,0,{}]]]`, `[[[]]]`, 1))))
	f.Add([]byte(`{"model_config":{"class_name":"Sequential","config":[{"class_name":"Conv2D","config":{"name":"a"}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		layers, err := ParseKerasChain(json.RawMessage(b), "fuzz.json")
		if hostile.Refused(t, err, "fuzz.json") {
			return
		}
		if len(layers) == 0 {
			t.Fatal("no layers and no error")
		}
	})
}
