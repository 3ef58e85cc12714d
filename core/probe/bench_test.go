package probe

import (
	"testing"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"gorgonia.org/tensor"
)

// benchFeatures is 16 images of 256 channels at 28x28 (12.8 MB).
func benchFeatures() *tensor.Dense {
	f := readout.NewFeatures(16, 256, 28)
	for i, d := 0, nn.Data(f); i < len(d); i++ {
		d[i] = float32(i%97) / 97
	}
	return f
}

// Evaluate of the Table 1 readout: one prediction and score per image.
func BenchmarkEvaluate(b *testing.B) {
	f := benchFeatures()
	r, err := readout.New(readout.DefaultConfig(), 256, 1)
	if err != nil {
		b.Fatal(err)
	}
	gt := posmap.Map(posmap.H, 224, posmap.Options{})
	for b.Loop() {
		if _, err := Evaluate(r, f, gt); err != nil {
			b.Fatal(err)
		}
	}
}

// SelectChannels copying the second of two taps of every image.
func BenchmarkSelectChannels(b *testing.B) {
	f := benchFeatures()
	taps := []encoder.Tap{{Name: "a", Channels: 128}, {Name: "b", Channels: 128}}
	for b.Loop() {
		if _, err := SelectChannels(f, taps, []int{1}); err != nil {
			b.Fatal(err)
		}
	}
}
