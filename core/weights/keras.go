package weights

import (
	"encoding/json"
	"fmt"
)

// KerasLayer is one layer of a Keras model topology (a TF.js model.json's
// modelTopology), with the config fields a conv/pool chain needs.
type KerasLayer struct {
	ClassName string `json:"class_name"`
	Config    struct {
		Name       string    `json:"name"`
		Filters    int       `json:"filters"`
		KernelSize []int     `json:"kernel_size"`
		Strides    []int     `json:"strides"`
		Padding    string    `json:"padding"`
		UseBias    bool      `json:"use_bias"`
		Activation string    `json:"activation"`
		Alpha      *float64  `json:"alpha"`
		PoolSize   []int     `json:"pool_size"`
		Epsilon    float64   `json:"epsilon"`
		Axis       any       `json:"axis"`
		Scale      *bool     `json:"scale"`
		Center     *bool     `json:"center"`
		DataFormat string    `json:"data_format"`
		InputShape []float64 `json:"batch_input_shape"`
	} `json:"config"`
	Inbound json.RawMessage `json:"inbound_nodes"`
}

// maxKerasLayers bounds the layer list (Tiny Darknet has 60).
const maxKerasLayers = 10000

// ParseKerasChain reads the layers of a Sequential or functional Keras
// model, in order, refusing a functional model whose layers do not each
// take the previous layer's output (a chain).
func ParseKerasChain(topo json.RawMessage, source string) ([]KerasLayer, error) {
	var t struct {
		ModelConfig struct {
			ClassName string          `json:"class_name"`
			Config    json.RawMessage `json:"config"`
		} `json:"model_config"`
	}
	if err := json.Unmarshal(topo, &t); err != nil {
		return nil, fmt.Errorf("%s: modelTopology: %w", source, err)
	}
	var layers []KerasLayer
	var wrapped struct {
		Layers []KerasLayer `json:"layers"`
	}
	if err := json.Unmarshal(t.ModelConfig.Config, &wrapped); err == nil && len(wrapped.Layers) > 0 {
		layers = wrapped.Layers
	} else if err := json.Unmarshal(t.ModelConfig.Config, &layers); err != nil || len(layers) == 0 {
		return nil, fmt.Errorf("%s: modelTopology.model_config has no layer list", source)
	}
	if len(layers) > maxKerasLayers {
		return nil, fmt.Errorf("%s: %d layers (at most %d)", source, len(layers), maxKerasLayers)
	}
	prev := ""
	for i, l := range layers {
		if len(l.Inbound) > 0 && string(l.Inbound) != "[]" && prev != "" && inboundFrom(l.Inbound) != prev {
			return nil, fmt.Errorf("%s: layer %d %q (%s): not a simple chain (inbound %.200s)", source, i, l.Config.Name, l.ClassName, l.Inbound)
		}
		prev = l.Config.Name
	}
	return layers, nil
}

// inboundFrom returns the single layer a functional layer's inbound_nodes
// ([[["name", 0, 0, {}]]]) names, or "" when there is not exactly one.
func inboundFrom(raw json.RawMessage) string {
	var nodes [][][]any
	if json.Unmarshal(raw, &nodes) != nil || len(nodes) != 1 || len(nodes[0]) != 1 || len(nodes[0][0]) == 0 {
		return ""
	}
	name, _ := nodes[0][0][0].(string)
	return name
}
