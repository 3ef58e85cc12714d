package encoder

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/internal/testfiles"
	"gonum.org/v1/gonum/stat"
)

// TestResNet50V2BNStatistics checks the wiring without any reference
// implementation: on ImageNet photos the per-channel mean of what enters
// each unit's pre-activation BatchNorm must follow that BN's running mean
// (the training population's). A misplaced shortcut, projection or conv
// order decorrelates the units after it (projecting the raw input gives
// r ≈ -0.1). Measured on 10 photos: smallest r 0.964 over the 13 units.
func TestResNet50V2BNStatistics(t *testing.T) {
	data := testfiles.DataDir(t)
	if runtime.GOOS == "js" {
		t.Skip("minutes in node; the tap comparison covers the wasm build")
	}
	enc, err := New("resnet50v2", Options{DataDir: data, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	m := enc.(*resnet50v2)
	set, err := weights.LoadNpyDir(filepath.Join(data, "weights", "resnet50v2", "weights"))
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := samplePhotos(t, data, 100)
	sums := map[string][]float64{}
	for _, p := range paths {
		x, err := imageio.LoadTensor(p, 224)
		if err != nil {
			t.Fatal(err)
		}
		y, _ := NormalizeImageNet(x)
		y = m.dataBN.Forward(y)
		y = nn.MaxPool2D(nn.ReLU(m.conv0.Forward(y)), 3, 2, 1, false)
		for s, st := range m.stages {
			for u := range st {
				name := fmt.Sprintf("resnetv24_stage%d_batchnorm%d_running_mean", s+1, 3*u)
				_, c, h, w := nn.Dims4(y)
				if sums[name] == nil {
					sums[name] = make([]float64, c)
				}
				d := nn.Data(y)
				for ch := 0; ch < c; ch++ {
					for _, v := range d[ch*h*w : (ch+1)*h*w] {
						sums[name][ch] += float64(v) / float64(h*w)
					}
				}
				y = st[u].forward(nil, y, m.mode)
			}
		}
	}
	minR := 1.0
	for name, s := range sums {
		rm, err := set.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		ref := make([]float64, len(rm))
		for i, v := range rm {
			ref[i] = float64(v)
		}
		r := stat.Correlation(s, ref, nil)
		minR = min(minR, r)
		if r < 0.9 {
			t.Errorf("%s: channel means of its input correlate %.3f with the running mean, want > 0.9", name, r)
		}
	}
	t.Logf("smallest correlation %.3f over %d BNs", minR, len(sums))
}
