package grid

import (
	"context"
	"image/color"
	"path/filepath"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/internal/testphotos"
)

func TestCanvasPlacesCell(t *testing.T) {
	cell := nn.New(1, 3, 4, 4)
	cell.Memset(float32(1))
	c := Canvas(cell, 5, [3]float32{0.5, 0.25, 0})
	_, _, h, w := nn.Dims4(c)
	if h != 12 || w != 12 {
		t.Fatalf("canvas %dx%d", h, w)
	}
	d := nn.Data(c)
	for ch, bg := range []float32{0.5, 0.25, 0} {
		for y := 0; y < 12; y++ {
			for x := 0; x < 12; x++ {
				want := bg
				if y >= 4 && y < 8 && x >= 8 { // cell 5: row 1, column 2
					want = 1
				}
				if got := d[(ch*12+y)*12+x]; got != want {
					t.Fatalf("channel %d (%d,%d) = %v, want %v", ch, x, y, got, want)
				}
			}
		}
	}
}

// The classifier separates features that carry the cell and stays near
// chance on features that do not.
func TestClassifier(t *testing.T) {
	var feats [][]float32
	var labels []int
	for i := 0; i < 90; i++ {
		k := i % 9
		f := make([]float32, 12)
		for j := range f {
			f[j] = float32((i*7+j*13)%17) / 17 // noise
		}
		f[k] += 2
		feats, labels = append(feats, f), append(labels, k)
	}
	c := Default()
	m := train(feats[:63], labels[:63], c)
	if acc, _ := m.accuracy(feats[63:], labels[63:]); acc < 0.99 {
		t.Errorf("separable features: test accuracy %.3f", acc)
	}
	for i := range feats {
		feats[i] = feats[i][9:] // the cell-free part only
	}
	m = train(feats[:63], labels[:63], c)
	if acc, _ := m.accuracy(feats[63:], labels[63:]); acc > 0.5 {
		t.Errorf("cell-free features: test accuracy %.3f", acc)
	}
}

func writePhotos(t *testing.T, n int) []string {
	dir := t.TempDir()
	var paths []string
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, testphotos.Name("", i))
		testphotos.Write(t, p, 40, 30, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x*6 + i*20), uint8(y * 8), uint8((x + y + i*9) * 3), 255}
		})
		paths = append(paths, p)
	}
	return paths
}

func TestQuickRun(t *testing.T) {
	c := Quick()
	c.Photos = writePhotos(t, 4)
	rs, err := Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Padding != nn.PadZero || rs[1].Padding != nn.PadFull || rs[0].Features == 0 || len(rs[0].PerCell) != 9 {
		t.Fatalf("%+v", rs)
	}
	if rs[0].TrainAcc < 0.9 {
		t.Errorf("training canvases not fitted: %.3f", rs[0].TrainAcc)
	}
	if Markdown(c, rs) == "" {
		t.Error("no markdown")
	}
	if _, err := Figure(rs); err != nil {
		t.Error(err)
	}
	c.Photos = c.Photos[:2]
	if _, err := Run(context.Background(), c, nil); err == nil {
		t.Error("too few photos accepted")
	}
}
