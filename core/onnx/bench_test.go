package onnx_test

import (
	"os"
	"testing"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/onnx"
)

// BenchmarkSqueezeNet times the same network built in and from ONNX, in one
// run: POSPROBE_ONNX_SQUEEZENET names the export of
// testdata/gen/onnx_fixtures.py --squeezenet (not committed). Random init
// for the built-in: the weights do not change the time.
//
//	POSPROBE_ONNX_SQUEEZENET=/tmp/squeezenet1.1.onnx go test -run '^$' -bench SqueezeNet -count 5 ./core/onnx
func BenchmarkSqueezeNet(b *testing.B) {
	path := os.Getenv("POSPROBE_ONNX_SQUEEZENET")
	if path == "" {
		b.Skip("POSPROBE_ONNX_SQUEEZENET not set")
	}
	model, err := onnx.Open(path, onnx.Options{})
	if err != nil {
		b.Fatal(err)
	}
	builtin, err := encoder.New("squeezenet1.1", encoder.Options{Init: encoder.InitRandom})
	if err != nil {
		b.Fatal(err)
	}
	x := nn.New(1, 3, 224, 224)
	for i, d := 0, nn.Data(x); i < len(d); i++ {
		d[i] = float32(i%251) / 251
	}
	for _, c := range []struct {
		name string
		enc  encoder.Encoder
	}{{"builtin", builtin}, {"onnx", model}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				taps, err := c.enc.Forward(x)
				if err != nil {
					b.Fatal(err)
				}
				encoder.Recycle(c.enc, taps)
			}
		})
	}
}
