package probe

import (
	"image"
	"math"
	"os"
	"testing"
	"time"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/internal/proc"
	"github.com/posprobe/posprobe/wasm/demo"
)

// shippedPredictor is the default model as the worker builds it: the
// squeezenet1.1 encoder (POSPROBE_DATA's ImageNet weights) with the
// committed weights/readouts of every target.
func shippedPredictor(b *testing.B) *Predictor {
	m := model(b, "sq-zero")
	dir := os.Getenv("POSPROBE_DATA")
	if dir == "" {
		b.Skip("POSPROBE_DATA not set")
	}
	enc, err := encoder.New(m.Encoder, encoder.Options{Init: m.Init, Seed: m.Seed, Padding: m.Padding, DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	rs := map[string]*readout.Readout{}
	for _, tg := range posmap.AllTargets() {
		name := readout.FileName(m.Encoder, m.Init, m.Padding, tg)
		f, err := os.Open("../../weights/readouts/" + name)
		if err != nil {
			b.Fatal(err)
		}
		r, err := readout.Load(f, name)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		rs[tg.String()] = r
	}
	p, err := NewPredictor(enc, rs)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// sitePhoto is the site's photo as the worker decodes it.
func sitePhoto(tb testing.TB) image.Image {
	data, err := os.ReadFile("../../site/photo/coffee.jpg")
	if err != nil {
		tb.Fatal(err)
	}
	img, err := demo.DecodePhoto(data, "coffee.jpg")
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// BenchmarkWorker is the worker's prediction while dragging: the site's
// photo (a JPEG, so YCbCr), the default crop moved along a circle of 40
// photo pixels, the shipped readouts, SPC of G only, and the result
// message (encodeResult, in js builds). first-ms is the first prediction
// of a fresh predictor (one-time work included).
func BenchmarkWorker(b *testing.B) {
	photo := sitePhoto(b)
	bd := photo.Bounds()
	c0 := demo.DefaultCrop(bd.Dx(), bd.Dy())
	pipe := Pipeline()
	p := shippedPredictor(b)
	run := func(i int) {
		a := float64(i) * 0.3
		c := demo.Crop{X: c0.X + 40*math.Cos(a), Y: c0.Y + 40*math.Sin(a), Size: c0.Size}.Clamp(bd.Dx(), bd.Dy(), 1)
		r := pipe.Run(demo.Request{Seq: uint64(i + 1), Photo: photo, Crop: c, Model: p, Rank: []string{"G"}})
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		encodeResult(r)
	}
	t0 := time.Now()
	run(0)
	first := time.Since(t0)
	b.ResetTimer()
	cpu0 := proc.CPUSeconds()
	for i := 0; i < b.N; i++ {
		run(i + 1)
	}
	b.StopTimer()
	b.ReportMetric(float64(first.Microseconds())/1e3, "first-ms")
	if cpu := proc.CPUSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
	}
}
