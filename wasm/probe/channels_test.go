package probe

import (
	"image"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/internal/proc"
	"github.com/posprobe/posprobe/wasm/demo"
)

// RankMeans puts the channels shaped like position maps first, with the
// map they follow and the sign, skips taps not read and constant channels.
func TestRankMeans(t *testing.T) {
	const s = 8
	rng := rand.New(rand.NewPCG(1, 2))
	a := nn.New(1, 4, s, s)
	d := nn.Data(a)
	h, v := posmap.Map(posmap.H, s, posmap.Options{}), posmap.Map(posmap.V, s, posmap.Options{})
	for i := 0; i < s*s; i++ {
		d[i] = rng.Float32()                   // noise
		d[s*s+i] = 3*h[i] + 0.1                // H exactly
		d[2*s*s+i] = -v[i] + 0.3*rng.Float32() // V reversed, noisy
		d[3*s*s+i] = 0.5                       // constant
	}
	b := nn.New(1, 2, s, s)
	copy(nn.Data(b), h) // a perfect channel on a tap that is not read
	got := RankMeans([]string{"a", "b"}, []int{0}, []*tensor.Dense{a, b})
	if len(got) != 3 {
		t.Fatalf("ranked %d channels, want 3 (constant skipped, tap b not read): %+v", len(got), got)
	}
	if got[0].Name != "a" || got[0].Index != 1 || got[0].Target != posmap.H || math.Abs(got[0].Score-1) > 1e-9 {
		t.Errorf("first %+v, want a/1 H 1", got[0])
	}
	if got[1].Index != 2 || got[1].Target != posmap.V || got[1].Score > -0.8 {
		t.Errorf("second %+v, want a/2 V about -1", got[1])
	}
	if got[2].Index != 0 || math.Abs(got[2].Score) > 0.5 {
		t.Errorf("third %+v, want the noise channel, weakly correlated", got[2])
	}
}

// On a random SqueezeNet of small width, the pipeline ranks once, then
// returns k normalised maps of the tap's resolution beside predictions
// equal to Predict's.
func TestPredictChannels(t *testing.T) {
	m := model(t, "sq-random")
	enc, err := encoder.New(m.Encoder, encoder.Options{Init: encoder.InitRandom, Width: 4})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := readout.New(readout.DefaultConfig(), enc.Taps()[0].Channels, 3)
	if err != nil {
		t.Fatal(err)
	}
	r2.Config.Taps = []string{enc.Taps()[0].Name}
	p, err := NewPredictor(enc, map[string]*readout.Readout{"G": r2})
	if err != nil {
		t.Fatal(err)
	}
	if p.ChannelsRanked() {
		t.Fatal("ranked before RankChannels")
	}
	photo := image.NewRGBA(image.Rect(0, 0, 120, 90))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 13)
	}
	pipe := Pipeline()
	k := 3 // of the tap's four
	res := pipe.Run(demo.Request{Seq: 1, Photo: photo, Crop: demo.Crop{X: 10, Y: 5, Size: 80}, Model: p, Channels: k})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if !p.ChannelsRanked() || len(res.Channels) != k {
		t.Fatalf("ranked %v, %d channels, want %d", p.ChannelsRanked(), len(res.Channels), k)
	}
	tap := enc.Taps()[0]
	for i, c := range res.Channels {
		if c.Tap != tap.Name || c.Size < 2 || len(c.Map) != c.Size*c.Size {
			t.Errorf("channel %d: %s/%d size %d (%d values); want tap %s", i, c.Tap, c.Index, c.Size, len(c.Map), tap.Name)
		}
		lo, hi := float32(1), float32(0)
		for _, v := range c.Map {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo < 0 || hi > 1 || (hi != 1 && hi != 0) {
			t.Errorf("channel %d not normalised: [%v, %v]", i, lo, hi)
		}
		if i > 0 && math.Abs(c.Score) > math.Abs(res.Channels[i-1].Score) {
			t.Errorf("channel %d scores %v above its predecessor %v", i, c.Score, res.Channels[i-1].Score)
		}
	}
	x, _ := pipe.Resample(photo, demo.Crop{X: 10, Y: 5, Size: 80}.Rect(), demo.MapSize)
	plain, err := p.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range plain["G"] {
		if v != res.Maps["G"][i] {
			t.Fatalf("G differs from Predict's at %d: %v vs %v", i, res.Maps["G"][i], v)
		}
	}
	if res := pipe.Run(demo.Request{Seq: 2, Photo: photo, Crop: demo.Crop{X: 10, Y: 5, Size: 80}, Model: p}); res.Channels != nil {
		t.Error("channels returned without being asked for")
	}
}

// BenchmarkPredictionChannels is BenchmarkPrediction's sq-zero prediction
// (sq-random without POSPROBE_DATA) without and with the channels view's
// ten maps (ranked before the timer starts).
func BenchmarkPredictionChannels(b *testing.B) {
	photo := image.NewRGBA(image.Rect(0, 0, 600, 400))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 7)
	}
	pipe := Pipeline()
	m := model(b, "sq-random")
	if os.Getenv("POSPROBE_DATA") != "" {
		m = model(b, "sq-zero")
	}
	p := benchPredictor(b, m)
	req := demo.Request{Seq: 1, Photo: photo, Crop: demo.Crop{X: 200, Y: 100, Size: 200}, Model: p, Rank: []string{"G"}}
	for _, k := range []int{0, demo.ChannelsShown} {
		req.Channels = k
		t0 := time.Now()
		r := pipe.Run(req) // with k > 0 the ranking runs here, once
		if r.Err != nil || len(r.Channels) != k {
			b.Fatalf("%v, %d channels", r.Err, len(r.Channels))
		}
		first := time.Since(t0)
		b.Run(map[int]string{0: "plain", demo.ChannelsShown: "channels"}[k], func(b *testing.B) {
			b.ReportMetric(float64(first.Microseconds())/1e3, "first-ms")
			cpu0 := proc.CPUSeconds()
			for i := 0; i < b.N; i++ {
				if r := pipe.Run(req); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			if cpu := proc.CPUSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
			}
		})
	}
}
