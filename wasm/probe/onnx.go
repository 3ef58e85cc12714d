package probe

import (
	"fmt"
	"strings"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/onnx"
	"github.com/posprobe/posprobe/wasm/demo"
)

// loadONNX fetches and builds the ONNX model of m (site --model). The site
// holds the model as one file: external data is refused by posprobe site.
func loadONNX(m demo.Model, src demo.Source, pad nn.PadMode, progress func(float64, string)) (encoder.Encoder, error) {
	b, err := src.Read(m.ONNX, func(done, total int64) {
		if total > 0 {
			progress(0.7*float64(done)/float64(total), fmt.Sprintf("Downloading %s %.1f / %.1f MB", m.ONNX, float64(done)/1e6, float64(total)/1e6))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.ONNX, err)
	}
	model, err := onnx.ParseModel(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.ONNX, err)
	}
	var taps []string
	for _, t := range strings.Split(m.Taps, ",") {
		if t = strings.TrimSpace(t); t != "" {
			taps = append(taps, t)
		}
	}
	enc, err := onnx.New(model, onnx.Options{Name: m.Encoder, Padding: pad, Taps: taps})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.ONNX, err)
	}
	return enc, nil
}
