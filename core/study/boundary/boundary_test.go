package boundary

import (
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
)

func TestPasteCentres(t *testing.T) {
	x := nn.New(1, 3, 100, 100)
	for i := range nn.Data(x) {
		nn.Data(x)[i] = 1
	}
	c := nn.Data(paste(x, [3]float32{0.25, 0.5, 0.75}))
	at := func(ch, y, xx int) float32 { return c[(ch*224+y)*224+xx] }
	if at(0, 61, 61) != 0.25 || at(0, 62, 62) != 1 || at(2, 161, 161) != 1 || at(2, 162, 162) != 0.75 || at(1, 0, 223) != 0.5 {
		t.Fatal("photo not centred on the canvas")
	}
}

// Every output pixel falls in exactly one band, bands run from the border
// (0-7) to the centre (104-111), and a perfect prediction scores MAE 0.
func TestBands(t *testing.T) {
	c := Config{Band: 8}
	cfg := readout.DefaultConfig()
	f := readout.NewFeatures(1, 2, 28)
	r, err := readout.New(cfg, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	gt := posmap.Map(posmap.H, 224, posmap.Options{})
	ro, err := score(c, r, f, gt)
	if err != nil {
		t.Fatal(err)
	}
	if len(ro.Bands) != 14 || ro.Bands[0].Dist != "0-7" || ro.Bands[13].Dist != "104-111" {
		t.Fatalf("bands %+v", ro.Bands)
	}
}
