package demo

import (
	"image"
	"slices"
	"sync"
	"time"

	"github.com/posprobe/posprobe/core/metric/score"
)

// Predictor turns one encoder input into predicted position maps.
type Predictor interface {
	// Targets lists the targets it has readouts for (e.g. "H", "G").
	Targets() []string
	// Predict takes x [3,224,224] in [0,1] (row-major, channel planes) and
	// returns one 224×224 map in [0,1] per target, row-major y*224+x.
	Predict(x []float32) (map[string][]float32, error)
}

// Request asks for the predictions of one crop of one photo.
type Request struct {
	Seq     uint64
	Photo   image.Image
	PhotoID int // which photo Photo is (the inference worker holds its own copy)
	Crop    Crop
	Model   Predictor
	// Rank lists the targets whose SPC is computed (ranking 224² values is
	// the slowest step after the encoder); nil ranks all. MAE is always
	// computed.
	Rank []string
	// Channels is how many top position channels to return (0: none; see
	// ChannelPredictor).
	Channels int
	// Submitted is when the UI asked (for the queueing delay); optional.
	Submitted time.Time
}

// Result is what a Request produced.
type Result struct {
	Seq       uint64
	Submitted time.Time
	Crop      Crop
	Model     Predictor
	Maps      map[string][]float32 // predicted maps
	Scores    map[string]score.Score
	Salient   *Point        // in photo pixels; nil when there is no G readout
	Channels  []ChannelMap  // the top position channels, when asked for
	Latency   time.Duration // of the pipeline
	Wait      time.Duration // from Submitted to the start (0 without Submitted)
	Err       error
}

// Point is a position in photo pixels.
type Point struct{ X, Y float64 }

// Pipeline is the work of one prediction: crop → resample → predict →
// score → salient point. Its functions come from the core packages; tests
// give fakes.
type Pipeline struct {
	// Resample returns rect r of img as [3,size,size] in [0,1].
	Resample func(img image.Image, r image.Rectangle, size int) ([]float32, error)
	// Truth returns the size×size ground truth of a target.
	Truth func(target string, size int) ([]float32, error)
	// Score compares a prediction of target with its ground truth; without
	// rank it computes only the MAE (SPC NaN).
	Score func(target string, pred, gt []float32, rank bool) score.Score
	Now   func() time.Time // time.Now when nil
}

// Run executes one request.
func (p Pipeline) Run(req Request) Result {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	res := Result{Seq: req.Seq, Crop: req.Crop, Model: req.Model, Submitted: req.Submitted}
	if !req.Submitted.IsZero() {
		res.Wait = start.Sub(req.Submitted)
	}
	x, err := p.Resample(req.Photo, req.Crop.Rect(), MapSize)
	if err == nil {
		res.Maps, res.Channels, err = p.predict(req, x)
	}
	if err != nil {
		res.Err = err
		res.Latency = now().Sub(start)
		return res
	}
	res.Scores = make(map[string]score.Score, len(res.Maps))
	for t, m := range res.Maps {
		gt, err := p.Truth(t, MapSize)
		if err != nil {
			res.Err = err
			break
		}
		res.Scores[t] = p.Score(t, m, gt, req.Rank == nil || slices.Contains(req.Rank, t))
	}
	if g, ok := res.Maps["G"]; ok {
		if u, v, ok := Salient(g, MapSize); ok {
			x, y := MapToPhoto(req.Crop, MapSize, u, v)
			res.Salient = &Point{x, y}
		}
	}
	res.Latency = now().Sub(start)
	return res
}

// predict runs the model on x, with its top channels when asked for (and
// it can), ranking them first on the photo's RankCrops if not yet done.
func (p Pipeline) predict(req Request, x []float32) (map[string][]float32, []ChannelMap, error) {
	cp, ok := req.Model.(ChannelPredictor)
	if !ok || req.Channels <= 0 {
		m, err := req.Model.Predict(x)
		return m, nil, err
	}
	if !cp.ChannelsRanked() {
		var xs [][]float32
		for _, c := range RankCrops(req.Photo.Bounds()) {
			xc, err := p.Resample(req.Photo, c.Rect(), MapSize)
			if err != nil {
				return nil, nil, err
			}
			xs = append(xs, xc)
		}
		if err := cp.RankChannels(xs); err != nil {
			return nil, nil, err
		}
	}
	return cp.PredictChannels(x, req.Channels)
}

// Scheduler runs requests on a goroutine of its own, away from the UI loop.
// Only the newest submitted request waits: a newer one replaces it (latest
// crop wins), so a slow model never builds up a queue while dragging.
type Scheduler struct {
	work    func(Request) Result
	mu      sync.Mutex
	pending *Request
	latest  *Result
	busy    bool
	closed  bool
	wake    chan struct{}
	done    chan struct{}
}

// NewScheduler starts the worker goroutine; Close stops it.
func NewScheduler(work func(Request) Result) *Scheduler {
	s := &Scheduler{work: work, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go s.loop()
	return s
}

// Submit queues req, replacing any request not yet started.
func (s *Scheduler) Submit(req Request) {
	s.mu.Lock()
	s.pending = &req
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Poll returns the newest finished result not returned before.
func (s *Scheduler) Poll() (Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return TakeResult(&s.latest)
}

// Busy reports whether a request is running or waiting.
func (s *Scheduler) Busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy || s.pending != nil
}

// Close stops the worker after the running request; waiting ones are dropped.
func (s *Scheduler) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.wake)
	<-s.done
}

func (s *Scheduler) loop() {
	defer close(s.done)
	for range s.wake {
		for {
			s.mu.Lock()
			req := s.pending
			s.pending = nil
			if req == nil || s.closed {
				s.mu.Unlock()
				break
			}
			s.busy = true
			s.mu.Unlock()
			res := s.work(*req)
			s.mu.Lock()
			s.busy = false
			if s.latest == nil || s.latest.Seq < res.Seq {
				s.latest = &res
			}
			s.mu.Unlock()
		}
	}
}

// Meter counts events over a sliding window (predictions per second).
type Meter struct {
	Window time.Duration
	times  []time.Time
}

// Add records an event at t.
func (m *Meter) Add(t time.Time) {
	m.times = append(m.times, t)
	m.trim(t)
}

// Rate returns events per second over the window ending at now.
func (m *Meter) Rate(now time.Time) float64 {
	m.trim(now)
	if m.Window <= 0 {
		return 0
	}
	return float64(len(m.times)) / m.Window.Seconds()
}

func (m *Meter) trim(now time.Time) {
	i := 0
	for i < len(m.times) && now.Sub(m.times[i]) > m.Window {
		i++
	}
	m.times = m.times[i:]
}
