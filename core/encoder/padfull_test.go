package encoder

import (
	"testing"

	"github.com/posprobe/posprobe/core/nn"
)

// TestFullPadding runs every built-in encoder (random init, reduced width)
// with F-Conv padding: taps keep their channel counts, are at least as large
// as with zero padding and strictly larger at the first tap with a padded 3×3 conv.
func TestFullPadding(t *testing.T) {
	x := nn.New(1, 3, 64, 64)
	for i := range nn.Data(x) {
		nn.Data(x)[i] = float32(i%7) / 7
	}
	for _, name := range Names() {
		full, err := New(name, Options{Init: InitRandom, Width: 8, Padding: nn.PadFull})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		zero, err := New(name, Options{Init: InitRandom, Width: 8})
		if err != nil {
			t.Fatal(err)
		}
		tf, err := full.Forward(x)
		if err != nil {
			t.Fatalf("%s full: %v", name, err)
		}
		tz, err := zero.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		grew := false
		for k, tap := range tf {
			_, c, h, w := nn.Dims4(tap)
			_, cz, hz, wz := nn.Dims4(tz[k])
			if c != cz || c != full.Taps()[k].Channels {
				t.Errorf("%s tap %d: %d channels, zero padding %d, declared %d", name, k, c, cz, full.Taps()[k].Channels)
			}
			if h < hz || w < wz {
				t.Errorf("%s tap %d: full %dx%d smaller than zero %dx%d", name, k, h, w, hz, wz)
			}
			grew = grew || h > hz
		}
		if name != "none" && !grew {
			t.Errorf("%s: no tap grew with full padding", name)
		}
	}
}
