package probe

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/internal/proc"
	"github.com/posprobe/posprobe/wasm/demo"
)

// mapSource serves files from memory.
type mapSource map[string][]byte

func (s mapSource) Read(path string, progress func(done, total int64)) ([]byte, error) {
	b, ok := s[path]
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, os.ErrNotExist)
	}
	if progress != nil {
		progress(int64(len(b)), int64(len(b)))
	}
	return b, nil
}

// untrained returns a freshly initialised readout for enc, labelled as
// trained on it (the speed and plumbing are what these tests need).
func untrained(t testing.TB, enc encoder.Encoder, m demo.Model, target string) *readout.Readout {
	c := 0
	for _, tp := range enc.Taps() {
		c += tp.Channels
	}
	r, err := readout.New(readout.DefaultConfig(), c, 1)
	if err != nil {
		t.Fatal(err)
	}
	r.Meta.Encoder, r.Meta.Init, r.Meta.Padding, r.Meta.Target, r.Meta.Seed = m.Encoder, m.Init, m.Padding, tgt(target), m.Seed
	return r
}

func model(t testing.TB, key string) demo.Model {
	i := demo.ModelIndex(key)
	if i < 0 {
		t.Fatalf("no model %s", key)
	}
	return demo.Models[i]
}

func TestLoadModelReadouts(t *testing.T) {
	m := model(t, "pixels")
	enc, err := encoder.New("none", encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := mapSource{}
	for _, tg := range []string{"G", "H"} {
		var b bytes.Buffer
		if err := untrained(t, enc, m, tg).Save(&b); err != nil {
			t.Fatal(err)
		}
		src["readouts/"+readout.FileName(m.Encoder, m.Init, m.Padding, tgt(tg))] = b.Bytes()
	}
	p, err := LoadModel(m, src, demo.Manifest{}, "", func(float64, string) {})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Targets(), ","); got != "H,G" {
		t.Errorf("targets %s, want H,G", got)
	}
	if len(p.Missing) != 3 {
		t.Errorf("missing %v, want the V, HS, VS files", p.Missing)
	}
	x := make([]float32, 3*demo.MapSize*demo.MapSize)
	maps, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for tg, mp := range maps {
		if len(mp) != demo.MapSize*demo.MapSize {
			t.Fatalf("%s: %d values", tg, len(mp))
		}
		for _, v := range mp {
			if !(v > 0 && v < 1) {
				t.Fatalf("%s: value %v outside the sigmoid's range", tg, v)
			}
		}
	}

	// A readout listed by the manifest but trained for another encoder is refused.
	bad := untrained(t, enc, model(t, "sq-zero"), "G")
	var b bytes.Buffer
	bad.Save(&b)
	src["readouts/"+readout.FileName(m.Encoder, m.Init, m.Padding, posmap.G)] = b.Bytes()
	if _, err := LoadModel(m, src, demo.Manifest{}, "", func(float64, string) {}); err == nil || !strings.Contains(err.Error(), "squeezenet1.1") {
		t.Errorf("readout of another encoder accepted: %v", err)
	}
}

func TestLoadModelMissing(t *testing.T) {
	// No readouts at all: the error names the files.
	_, err := LoadModel(model(t, "pixels"), mapSource{}, demo.Manifest{}, "", func(float64, string) {})
	if err == nil || !strings.Contains(err.Error(), readout.FileName("none", encoder.InitImageNet, nn.PadZero, posmap.G)) {
		t.Errorf("error %v does not name the missing readout", err)
	}
	// Pretrained weights absent from the site: the error says so.
	_, err = LoadModel(model(t, "sq-zero"), mapSource{}, demo.Manifest{Readouts: []string{}}, "", func(float64, string) {})
	if err == nil || !strings.Contains(err.Error(), "weights are missing") {
		t.Errorf("missing weights: %v", err)
	}
	// A corrupt readout is an error naming the file, not a panic.
	name := readout.FileName("none", encoder.InitImageNet, nn.PadZero, posmap.G)
	_, err = LoadModel(model(t, "pixels"), mapSource{"readouts/" + name: []byte("POSPROBE garbage")}, demo.Manifest{}, "", func(float64, string) {})
	if err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("corrupt readout: %v", err)
	}
}

func TestPipeline(t *testing.T) {
	p := Pipeline()
	// Resample: the crop of a photo equals imageio's tensor of the same
	// pixels copied out (SubImage keeps the photo's coordinates).
	photo := image.NewRGBA(image.Rect(0, 0, 60, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 60; x++ {
			photo.Set(x, y, color.RGBA{uint8(4 * x), uint8(6 * y), uint8(x * y), 255})
		}
	}
	r := image.Rect(13, 7, 13+30, 7+30)
	got, err := p.Resample(photo, r, 16)
	if err != nil {
		t.Fatal(err)
	}
	cp := image.NewRGBA(image.Rect(0, 0, 30, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 30; x++ {
			cp.Set(x, y, photo.At(13+x, 7+y))
		}
	}
	want := nn.Data(imageio.ToTensor(cp, 16))
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("resampled crop differs at %d: %v vs %v", i, got[i], want[i])
		}
	}
	if _, err := p.Resample(photo, image.Rect(70, 70, 90, 90), 16); err == nil {
		t.Error("crop outside the photo accepted")
	}

	for _, tg := range demo.Targets {
		gt, err := p.Truth(tg, demo.MapSize)
		if err != nil {
			t.Fatal(err)
		}
		pt, _ := posmap.ParseTarget(tg)
		ref := posmap.Map(pt, demo.MapSize, posmap.Options{})
		if len(gt) != len(ref) || gt[1000] != ref[1000] {
			t.Fatalf("%s: truth is not posmap's", tg)
		}
		s := p.Score(tg, gt, gt, true)
		if math.Abs(s.SPC-1) > 1e-9 || s.MAE != 0 {
			t.Errorf("%s scored against itself: %+v", tg, s)
		}
		inv := make([]float32, len(gt))
		for i, v := range gt {
			inv[i] = 1 - v
		}
		if s := p.Score(tg, inv, gt, true); math.Abs(s.SPC+1) > 1e-9 {
			t.Errorf("%s inverted: SPC %v, want -1", tg, s.SPC)
		}
		if s := p.Score(tg, inv, gt, false); !math.IsNaN(s.SPC) || s.MAE == 0 {
			t.Errorf("%s unranked: %+v", tg, s)
		}
	}
	if _, err := p.Truth("X", demo.MapSize); err == nil {
		t.Error("unknown target accepted")
	}
}

// benchPredictor builds model m with untrained readouts for all five
// targets (ImageNet models need POSPROBE_DATA).
func benchPredictor(b *testing.B, m demo.Model) *Predictor {
	pad := m.Padding
	opts := encoder.Options{Init: m.Init, Seed: m.Seed, Padding: pad, DataDir: os.Getenv("POSPROBE_DATA")}
	if m.Init != encoder.InitRandom && m.Encoder != "none" && opts.DataDir == "" {
		b.Skip("POSPROBE_DATA not set")
	}
	enc, err := encoder.New(m.Encoder, opts)
	if err != nil {
		b.Fatal(err)
	}
	rs := map[string]*readout.Readout{}
	for _, tg := range demo.Targets {
		rs[tg] = untrained(b, enc, m, tg)
	}
	p, err := NewPredictor(enc, rs)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkPrediction is one prediction of the demo: crop resample, encoder,
// five readouts, five scores and the salient point.
func BenchmarkPrediction(b *testing.B) {
	photo := image.NewRGBA(image.Rect(0, 0, 600, 400))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 7)
	}
	pipe := Pipeline()
	for _, m := range demo.Models {
		b.Run(m.Key, func(b *testing.B) {
			p := benchPredictor(b, m)
			b.ResetTimer()
			cpu0 := proc.CPUSeconds()
			for i := 0; i < b.N; i++ {
				// While dragging the app ranks only the selected target.
				r := pipe.Run(demo.Request{Seq: 1, Photo: photo, Crop: demo.Crop{X: 200, Y: 100, Size: 200}, Model: p, Rank: []string{"G"}})
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			if cpu := proc.CPUSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
			}
		})
	}
}

// tgt is the target named s (a test's literal).
func tgt(s string) posmap.Target {
	t, err := posmap.ParseTarget(s)
	if err != nil {
		panic(err)
	}
	return t
}
