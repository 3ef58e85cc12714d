package boundary

import (
	"testing"

	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
)

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
