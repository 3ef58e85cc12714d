package demo

import (
	"errors"
	"image"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/posprobe/posprobe/core/colormap"
	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/netspec"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestCropClamp(t *testing.T) {
	for _, tc := range []struct {
		in, want Crop
	}{
		{Crop{-10, -5, 100}, Crop{0, 0, 100}},
		{Crop{550, 390, 100}, Crop{500, 300, 100}},
		{Crop{10, 10, 1000}, Crop{10, 0, 400}}, // shrunk to the shorter side
		{Crop{10, 10, 3}, Crop{10, 10, 32}},    // grown to the minimum
	} {
		if got := tc.in.Clamp(600, 400, 32); got != tc.want {
			t.Errorf("Clamp(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := (Crop{0, 0, 50}).Clamp(20, 10, 32); got != (Crop{0, 0, 10}) {
		t.Errorf("photo smaller than the minimum: got %v", got)
	}
}

func TestMapPhotoRoundTrip(t *testing.T) {
	c := Crop{X: 37, Y: 12.5, Size: 300}
	// Pixel centres of the map cover the crop: first and last centres sit
	// half a map pixel inside the crop edges.
	x, y := MapToPhoto(c, MapSize, 0, 0)
	k := c.Size / MapSize
	if !near(x, c.X+k/2, 1e-9) || !near(y, c.Y+k/2, 1e-9) {
		t.Errorf("map (0,0) -> %v,%v", x, y)
	}
	x, y = MapToPhoto(c, MapSize, MapSize-1, MapSize-1)
	if !near(x, c.X+c.Size-k/2, 1e-9) || !near(y, c.Y+c.Size-k/2, 1e-9) {
		t.Errorf("map (223,223) -> %v,%v", x, y)
	}
	for _, p := range [][2]float64{{0, 0}, {111.5, 111.5}, {17, 200}} {
		x, y := MapToPhoto(c, MapSize, p[0], p[1])
		u, v := PhotoToMap(c, MapSize, x, y)
		if !near(u, p[0], 1e-9) || !near(v, p[1], 1e-9) {
			t.Errorf("round trip %v -> %v,%v", p, u, v)
		}
	}
	// The map centre is the crop centre.
	x, y = MapToPhoto(c, MapSize, (MapSize-1)/2.0, (MapSize-1)/2.0)
	cx, cy := c.Center()
	if !near(x, cx, 1e-9) || !near(y, cy, 1e-9) {
		t.Errorf("map centre -> %v,%v, want %v,%v", x, y, cx, cy)
	}
}

func TestFitView(t *testing.T) {
	v := FitView(image.Rect(10, 20, 610, 420), 600, 200) // width-bound: scale 1, centred vertically
	if v.Scale != 1 || v.OffX != 10 || v.OffY != 120 {
		t.Fatalf("view %+v", v)
	}
	v = FitView(image.Rect(0, 0, 400, 400), 200, 800) // height-bound
	if v.Scale != 0.5 || v.OffX != 150 || v.OffY != 0 {
		t.Fatalf("view %+v", v)
	}
	sx, sy := v.ToScreen(100, 400)
	if x, y := v.ToPhoto(sx, sy); x != 100 || y != 400 {
		t.Errorf("round trip: %v,%v", x, y)
	}
}

func TestDragMove(t *testing.T) {
	d := Dragger{PhotoW: 600, PhotoH: 400, MinSize: 32}
	d.SetPhoto(600, 400)
	start := d.Crop
	if start != (Crop{200, 100, 200}) {
		t.Fatalf("default crop %v", start)
	}
	d.Step(250, 150, true, 8) // press inside
	if d.Mode != DragMove {
		t.Fatalf("mode %v, want move", d.Mode)
	}
	for i := 1; i <= 10; i++ {
		d.Step(250+float64(i)*6, 150+float64(i)*-3, true, 8)
	}
	d.Step(310, 120, false, 8)
	if want := (Crop{260, 70, 200}); d.Crop != want {
		t.Errorf("after drag by (60,-30): %v, want %v", d.Crop, want)
	}
	// Dragging far out stops at the border.
	d.Step(300, 100, true, 8)
	d.Step(5000, -5000, true, 8)
	d.Step(5000, -5000, false, 8)
	if want := (Crop{400, 0, 200}); d.Crop != want {
		t.Errorf("clamped drag: %v, want %v", d.Crop, want)
	}
	// A press outside the crop does nothing.
	d.Step(10, 390, true, 8)
	if d.Step(50, 350, true, 8) || d.Mode != DragNone {
		t.Errorf("press outside moved the crop: %v mode %v", d.Crop, d.Mode)
	}
}

func TestDragResizeAndZoom(t *testing.T) {
	d := Dragger{MinSize: 32}
	d.SetPhoto(600, 400)
	d.Step(400, 300, true, 8) // the bottom-right corner
	if d.Mode != DragResize {
		t.Fatalf("mode %v, want resize", d.Mode)
	}
	d.Step(450, 320, true, 8)
	if want := (Crop{200, 100, 200 + 50}); d.Crop != want {
		t.Errorf("resize: %v, want %v", d.Crop, want)
	}
	d.Step(900, 900, true, 8) // bounded by the photo
	if want := (Crop{200, 100, 300}); d.Crop != want {
		t.Errorf("resize past the edge: %v, want %v", d.Crop, want)
	}
	d.Step(0, 0, true, 8)
	d.Step(0, 0, false, 8)
	if d.Crop.Size != 32 {
		t.Errorf("resize to nothing: %v, want side 32", d.Crop)
	}
	d.SetPhoto(600, 400)
	d.Zoom(0.5)
	if want := (Crop{250, 150, 100}); d.Crop != want {
		t.Errorf("zoom 0.5: %v, want %v", d.Crop, want)
	}
	d.Zoom(100)
	if want := (Crop{100, 0, 400}); d.Crop != want {
		t.Errorf("zoom 100: %v, want %v", d.Crop, want)
	}
}

// gauss returns a size×size Gaussian bump centred at (cx, cy).
func gauss(size int, cx, cy, sigma float64) []float32 {
	m := make([]float32, size*size)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			d2 := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)
			m[y*size+x] = float32(math.Exp(-d2 / (2 * sigma * sigma)))
		}
	}
	return m
}

func TestSalient(t *testing.T) {
	for _, c := range [][2]float64{{111.5, 111.5}, {60, 150}, {3, 200.25}} {
		u, v, ok := Salient(gauss(MapSize, c[0], c[1], 40), MapSize)
		// Near a border the band is cut on one side, pulling the centroid
		// inwards (sigma 40: the upper half reaches 47 px from the peak).
		tu, tv := 0.05, 0.05
		if c[0] < 20 {
			tu, tv = 20, 6
		}
		if !ok || !near(u, c[0], tu) || !near(v, c[1], tv) || (c[0] < 20 && u < c[0]) {
			t.Errorf("peak at %v: got %v,%v ok=%v", c, u, v, ok)
		}
	}
	if _, _, ok := Salient(make([]float32, MapSize*MapSize), MapSize); ok {
		t.Error("flat map has a salient point")
	}
	nan := gauss(8, 4, 4, 2)
	nan[3] = float32(math.NaN())
	if _, _, ok := Salient(nan, 8); ok {
		t.Error("map with NaN has a salient point")
	}
	if _, _, ok := Salient(make([]float32, 10), 4); ok {
		t.Error("wrong length accepted")
	}
}

// TestPaint: the table lookup stays within one colour unit of colormap.Viridis,
// clamps, paints NaN grey, and stops at the shorter of map and pixels.
func TestPaint(t *testing.T) {
	const n = 20001
	m := make([]float32, n)
	for i := range m {
		m[i] = float32(i)/(n-1)*1.2 - 0.1
	}
	m[7] = float32(math.NaN())
	pix := make([]byte, 4*n)
	Paint(m, 200, pix[:4*200*100]) // pixels for half the map only
	for i := 0; i < 200*100; i++ {
		want := colormap.Viridis(float64(m[i]))
		got := pix[4*i : 4*i+4]
		for k, w := range []uint8{want.R, want.G, want.B, 255} {
			if d := int(got[k]) - int(w); d < -1 || d > 1 {
				t.Fatalf("value %g: channel %d is %d, Viridis gives %d", m[i], k, got[k], w)
			}
		}
	}
	if pix[4*200*100] != 0 {
		t.Error("painted past the pixels given")
	}
}

// fakeModel predicts a G bump at a fixed map position and an H ramp.
type fakeModel struct {
	u, v  float64
	calls []float32 // first input value of each call
	mu    sync.Mutex
	gate  chan struct{} // when set, Predict waits for it
}

func (f *fakeModel) Targets() []string { return []string{"G", "H"} }
func (f *fakeModel) Predict(x []float32) (map[string][]float32, error) {
	if len(x) != 3*MapSize*MapSize {
		return nil, errors.New("bad input size")
	}
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	f.calls = append(f.calls, x[0])
	f.mu.Unlock()
	h := make([]float32, MapSize*MapSize)
	for i := range h {
		h[i] = float32(i%MapSize) / (MapSize - 1)
	}
	return map[string][]float32{"G": gauss(MapSize, f.u, f.v, 30), "H": h}, nil
}

func fakePipeline() Pipeline {
	return Pipeline{
		Resample: func(img image.Image, r image.Rectangle, size int) ([]float32, error) {
			x := make([]float32, 3*size*size)
			x[0] = float32(r.Min.X) // lets tests see which crop ran
			return x, nil
		},
		Truth: func(target string, size int) ([]float32, error) {
			if target == "H" {
				m := make([]float32, size*size)
				for i := range m {
					m[i] = float32(i%size) / float32(size-1)
				}
				return m, nil
			}
			return gauss(size, (float64(size)-1)/2, (float64(size)-1)/2, 40), nil
		},
		Score: func(_ string, pred, gt []float32, rank bool) score.Score {
			var s float64
			for i := range pred {
				s += math.Abs(float64(pred[i] - gt[i]))
			}
			spc := math.NaN()
			if rank {
				spc = 1
			}
			return score.Score{SPC: spc, MAE: s / float64(len(pred))}
		},
	}
}

func TestPipelineSalientFollowsCrop(t *testing.T) {
	p := fakePipeline()
	m := &fakeModel{u: 111.5, v: 111.5}
	photo := image.NewRGBA(image.Rect(0, 0, 600, 400))
	a := p.Run(Request{Seq: 1, Photo: photo, Crop: Crop{100, 50, 200}, Model: m})
	b := p.Run(Request{Seq: 2, Photo: photo, Crop: Crop{160, 20, 200}, Model: m})
	if a.Err != nil || b.Err != nil || a.Salient == nil || b.Salient == nil {
		t.Fatalf("results: %+v %+v", a, b)
	}
	if !near(a.Salient.X, 200, 0.1) || !near(a.Salient.Y, 150, 0.1) {
		t.Errorf("salient %v, want the crop centre (200,150)", *a.Salient)
	}
	if !near(b.Salient.X-a.Salient.X, 60, 0.1) || !near(b.Salient.Y-a.Salient.Y, -30, 0.1) {
		t.Errorf("salient moved by %v,%v, want 60,-30", b.Salient.X-a.Salient.X, b.Salient.Y-a.Salient.Y)
	}
	if s := a.Scores["H"]; s.MAE > 1e-6 {
		t.Errorf("H scored MAE %v against an identical ground truth", s.MAE)
	}
	if _, ok := a.Scores["G"]; !ok {
		t.Error("G not scored")
	}
	if math.IsNaN(a.Scores["H"].SPC) || math.IsNaN(a.Scores["G"].SPC) {
		t.Error("Rank nil did not rank every target")
	}
	d := p.Run(Request{Seq: 4, Photo: photo, Crop: Crop{100, 50, 200}, Model: m, Rank: []string{"G"}})
	if !math.IsNaN(d.Scores["H"].SPC) || math.IsNaN(d.Scores["G"].SPC) || d.Scores["H"].MAE > 1e-6 {
		t.Errorf("Rank [G]: %+v", d.Scores)
	}
	// A model off-centre moves the salient point within the crop.
	m2 := &fakeModel{u: 0, v: 223}
	c := p.Run(Request{Seq: 3, Photo: photo, Crop: Crop{100, 50, 224}, Model: m2})
	if c.Salient == nil || c.Salient.X > 100+15 || c.Salient.Y < 50+224-15 {
		t.Errorf("corner peak: salient %v", c.Salient)
	}
}

func TestPipelineErrors(t *testing.T) {
	p := fakePipeline()
	p.Resample = func(image.Image, image.Rectangle, int) ([]float32, error) { return nil, errors.New("boom") }
	r := p.Run(Request{Seq: 1, Crop: Crop{0, 0, 10}, Model: &fakeModel{}})
	if r.Err == nil || r.Maps != nil {
		t.Errorf("resample error lost: %+v", r)
	}
}

func TestSchedulerLatestWins(t *testing.T) {
	m := &fakeModel{u: 100, v: 100, gate: make(chan struct{})}
	p := fakePipeline()
	s := NewScheduler(p.Run)
	defer s.Close()
	photo := image.NewRGBA(image.Rect(0, 0, 600, 400))
	s.Submit(Request{Seq: 1, Photo: photo, Crop: Crop{1, 0, 100}, Model: m})
	// Wait until the first request runs (blocked in Predict), then pile up more.
	deadline := time.Now().Add(10 * time.Second)
	for !s.Busy() || func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.pending != nil }() {
		if time.Now().After(deadline) {
			t.Fatal("first request never started")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 2; i <= 5; i++ {
		s.Submit(Request{Seq: uint64(i), Photo: photo, Crop: Crop{float64(i), 0, 100}, Model: m})
	}
	m.gate <- struct{}{} // finish request 1
	m.gate <- struct{}{} // finish the one that won: 5
	var got []uint64
	for len(got) == 0 || got[len(got)-1] != 5 {
		if time.Now().After(deadline) {
			t.Fatalf("results so far %v", got)
		}
		if r, ok := s.Poll(); ok {
			got = append(got, r.Seq)
		}
		time.Sleep(time.Millisecond)
	}
	for s.Busy() {
		time.Sleep(time.Millisecond)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.calls) != 2 || m.calls[0] != 1 || m.calls[1] != 5 {
		t.Errorf("ran crops %v, want [1 5] (2-4 superseded)", m.calls)
	}
	if _, ok := s.Poll(); ok {
		t.Error("a result was returned twice")
	}
}

func TestMeter(t *testing.T) {
	m := Meter{Window: 2 * time.Second}
	t0 := time.Unix(1000, 0)
	for i := 0; i < 10; i++ {
		m.Add(t0.Add(time.Duration(i) * 300 * time.Millisecond)) // 0 .. 2.7 s
	}
	if r := m.Rate(t0.Add(2700 * time.Millisecond)); r != 3.5 { // 7 events in (0.7, 2.7]
		t.Errorf("rate %v, want 3.5", r)
	}
	if r := m.Rate(t0.Add(time.Hour)); r != 0 {
		t.Errorf("rate after an hour %v", r)
	}
}

func TestHook(t *testing.T) {
	s := State{Ready: true, Encoder: "squeezenet1.1", Padding: netspec.PadZero, Target: "G",
		Crop: Crop{1, 2, 3}, SPC: math.NaN(), MAE: 0.25, LatencyMs: 12}
	h := s.Hook()
	if h["spc"] != nil || h["mae"] != 0.25 || h["salient"] != nil {
		t.Errorf("hook %v", h)
	}
	c := h["crop"].(map[string]any)
	if c["x"] != 1.0 || c["y"] != 2.0 || c["w"] != 3.0 || c["h"] != 3.0 {
		t.Errorf("crop %v", c)
	}
	if h["resultCrop"] != nil || h["predictions"] != 0 || h["drag"] != "none" {
		t.Errorf("no result yet: %v", h)
	}
	s.ResultCrop = &Crop{7, 8, 9}
	if c := s.Hook()["resultCrop"].(map[string]any); c["x"] != 7.0 || c["w"] != 9.0 {
		t.Errorf("resultCrop %v", c)
	}
	s.Drag = DragMove
	if d := s.Hook()["drag"]; d != "move" {
		t.Errorf("drag %v", d)
	}
	s.Salient = &Point{5, 6}
	if p := s.Hook()["salient"].(map[string]any); p["x"] != 5.0 || p["y"] != 6.0 {
		t.Errorf("salient %v", p)
	}
	if ModelIndex("sq-zero") != 0 || ModelIndex("nope") != -1 {
		t.Error("ModelIndex")
	}
}
