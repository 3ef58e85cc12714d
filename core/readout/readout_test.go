package readout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/netspec"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"gorgonia.org/tensor"
)

type fixtureStep struct {
	Loss  float64
	Grads [][]float32
	After [][]float32
	Stats [][][]float32
}

type fixtureCase struct {
	C, Size, Out, Kernel, Pad, Depth, Batch int
	Features, Target                        []float32
	Init                                    [][]float32
	Steps                                   []fixtureStep
	EvalPred0                               []float32 `json:"eval_pred0"`
}

func loadFixture(t *testing.T) []fixtureCase {
	b, err := os.ReadFile("../../testdata/probe/readout_steps.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []fixtureCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func maxAbs(a []float32) float64 {
	m := 0.0
	for _, v := range a {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

// Two SGD steps against PyTorch (testdata/gen/probe_readout.py): loss,
// every gradient, parameters and BN running statistics after each step,
// and an eval-mode prediction. Tolerance: 1e-5 relative to each tensor's
// largest value (float32 with different summation orders).
func TestAgainstPyTorch(t *testing.T) {
	for ci, c := range loadFixture(t) {
		cfg := Config{Kernel: c.Kernel, Pad: c.Pad, Depth: c.Depth, Size: c.Size, OutSize: c.Out}
		r, err := New(cfg, c.C, 0)
		if err != nil {
			t.Fatal(err)
		}
		tr0 := newTrainer(r, nn.FromData(c.Features, c.Batch, c.C, c.Size, c.Size), c.Target, 2)
		for i, p := range tr0.params {
			copy(p, c.Init[i])
		}
		idx := make([]int, c.Batch)
		for i := range idx {
			idx[i] = i
		}
		for s, st := range c.Steps {
			loss := tr0.forwardBackward(idx)
			if math.Abs(loss-st.Loss) > 1e-6*st.Loss {
				t.Errorf("case %d step %d: loss %.8g, torch %.8g", ci, s, loss, st.Loss)
			}
			for i, g := range tr0.grads {
				if d := maxDiff(g, st.Grads[i]); d > 1e-5*max(maxAbs(st.Grads[i]), 1e-3) {
					t.Errorf("case %d step %d: grad %d differs by %.3g (max |g| %.3g)", ci, s, i, d, maxAbs(st.Grads[i]))
				}
			}
			tr0.sgd(0.1, 0.9, 1e-4)
			for i, p := range tr0.params {
				if d := maxDiff(p, st.After[i]); d > 1e-5*max(maxAbs(st.After[i]), 1e-2) {
					t.Errorf("case %d step %d: param %d differs by %.3g after SGD", ci, s, i, d)
				}
			}
			for li, l := range r.layers {
				if d := max(maxDiff(l.bn.Mean, st.Stats[li][0]), maxDiff(l.bn.Var, st.Stats[li][1])); d > 1e-5 {
					t.Errorf("case %d step %d layer %d: running stats differ by %.3g", ci, s, li, d)
				}
			}
		}
		pred, err := r.Predict(c.Features[:c.C*c.Size*c.Size])
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(pred, c.EvalPred0); d > 1e-5 {
			t.Errorf("case %d: eval prediction differs by %.3g", ci, d)
		}
	}
}

// lossAt evaluates the training-mode loss without touching r's state.
func lossAt(r *Readout, f *tensor.Dense, target []float32, idx []int) float64 {
	return newTrainer(r.Clone(), f, target, 1).forwardBackward(idx)
}

// Hand-written backward vs central finite differences in float64 terms.
func TestGradientsFiniteDifferences(t *testing.T) {
	for _, cfg := range []Config{
		{Kernel: 3, Pad: 0, Depth: 1, Size: 6, OutSize: 10},
		{Kernel: 3, Pad: 1, Depth: 2, Size: 5, OutSize: 7},
		{Kernel: 5, Pad: 2, Depth: 1, Size: 5, OutSize: 9},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		f := NewFeatures(4, 3, cfg.Size)
		for i, d := 0, nn.Data(f); i < len(d); i++ {
			d[i] = float32(rng.NormFloat64())
		}
		target := make([]float32, cfg.OutSize*cfg.OutSize)
		for i := range target {
			target[i] = float32(rng.Float64())
		}
		r, err := New(cfg, 3, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range r.layers { // move BN off its neutral init
			for o := range l.bn.Gamma {
				l.bn.Gamma[o] = float32(0.5 + rng.Float64())
				l.bn.Beta[o] = float32(rng.Float64() - 0.5)
			}
		}
		idx := []int{0, 1, 2, 3}
		tr := newTrainer(r.Clone(), f, target, 2)
		tr.forwardBackward(idx)
		probe := r.Clone()
		pp := newTrainer(probe, f, target, 1).params
		worst := 0.0
		for i, p := range pp {
			gmax := maxAbs(tr.grads[i])
			for j := range p {
				h := float32(1e-2)
				if cfg.Depth > 1 {
					h = 1e-3 // ReLU kinks: keep the probe small
				}
				v := p[j]
				p[j] = v + h
				lp := lossAt(probe, f, target, idx)
				p[j] = v - h
				lm := lossAt(probe, f, target, idx)
				p[j] = v
				num := (lp - lm) / (2 * float64(h))
				ana := float64(tr.grads[i][j])
				err := math.Abs(num-ana) / (gmax + 1e-4)
				worst = max(worst, err)
				// measured: 2.2e-4 (depth 1), 1.1e-2 (depth 2: float32 noise
				// at the small h; TestAgainstPyTorch checks depth 2 tightly)
				tol := 1e-3
				if cfg.Depth > 1 {
					tol = 3e-2
				}
				if err > tol {
					t.Errorf("%+v param %d[%d]: analytic %.6g, numeric %.6g", cfg, i, j, ana, num)
				}
			}
		}
		t.Logf("%+v: worst error %.2g of the tensor's largest gradient", cfg, worst)
	}
}

func TestTrainLearnsAndCancels(t *testing.T) {
	// Features that carry x in channel 0: the readout must learn H.
	cfg := Config{Kernel: 3, Depth: 1, Size: 8, OutSize: 16}
	rng := rand.New(rand.NewPCG(3, 4))
	f := NewFeatures(40, 2, 8)
	for n := 0; n < 40; n++ {
		d := Image(f, n)
		for i := 0; i < 64; i++ {
			d[i] = float32(i%8) / 7
			d[64+i] = float32(rng.NormFloat64())
		}
	}
	target := make([]float32, 256)
	for i := range target {
		target[i] = float32(i%16) / 15
	}
	var losses []float64
	epochs := 0
	var first TrainSummary
	r, err := Train(context.Background(), cfg, f, target, TrainOptions{Epochs: 6, Batch: 8, Seed: 1, LR: 0.05, Momentum: 0.9, WeightDecay: 1e-4,
		Checkpoint: func(r *Readout, done int) error {
			if done == 1 {
				first = r.Meta.Training
			}
			epochs = done
			return nil
		}},
		func(p Progress) {
			if p.Step == p.Steps {
				losses = append(losses, p.Loss)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if epochs != 6 || len(losses) != 6 || !(losses[5] < losses[0]/3) {
		t.Fatalf("epochs %d, losses %v: want 6 epochs and a falling loss", epochs, losses)
	}
	if r.Meta.Training.EpochsDone != 6 || r.Meta.Training.Batch != 8 {
		t.Errorf("summary %+v", r.Meta.Training)
	}
	// A checkpoint records the recipe it was trained with, not zeros.
	if first.EpochsDone != 1 || first.LR != 0.05 || first.Batch != 8 || first.Momentum != 0.9 || first.WeightDecay != 1e-4 || first.Epochs != 6 {
		t.Errorf("first checkpoint's summary %+v", first)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r2, err := Train(ctx, cfg, f, target, TrainOptions{Epochs: 6, Batch: 8}, func(p Progress) {
		if p.Epoch == 1 && p.Step == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || r2 == nil || r2.Meta.Training.EpochsDone != 1 {
		t.Fatalf("cancel: err %v, readout %v", err, r2)
	}
	if _, err := Train(context.Background(), cfg, f, target[:5], TrainOptions{}, nil); err == nil {
		t.Error("short target: no error")
	}
}

func testReadout(t testing.TB) *Readout {
	r, err := New(Config{Taps: []string{"a", "b"}, Kernel: 3, Depth: 1, Size: 6, OutSize: 8}, 3, 9)
	if err != nil {
		t.Fatal(err)
	}
	r.Meta = Meta{Encoder: "enc", Init: netspec.InitRandom, Padding: netspec.PadZero, Target: posmap.G, Stripes: "01",
		Metrics: map[string]float64{"spc": 0.5}}
	r.layers[0].bn.Mean[0] = 0.25
	return r
}

func TestSaveLoadRoundTrip(t *testing.T) {
	r := testReadout(t)
	var buf bytes.Buffer
	if err := r.Save(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := Load(bytes.NewReader(buf.Bytes()), "x.readout")
	if err != nil {
		t.Fatal(err)
	}
	feat := make([]float32, r.FeatureLen())
	for i := range feat {
		feat[i] = float32(i%7) / 3
	}
	a, _ := r.Predict(feat)
	b, _ := q.Predict(feat)
	if maxDiff(a, b) != 0 || q.Meta.Metrics["spc"] != 0.5 || q.Meta.Encoder != "enc" {
		t.Fatal("round trip changed the readout")
	}
	same := Provenance{Encoder: "enc", Init: netspec.InitRandom, Seed: q.Meta.Seed, Padding: netspec.PadZero, Taps: []string{"a", "b"}}
	if err := q.Check(same); err != nil {
		t.Error(err)
	}
	// Truncations and corruptions fail with the source named.
	data := buf.Bytes()
	for _, bad := range [][]byte{data[:5], data[:20], data[:len(data)-1], append(append([]byte{}, data...), 0)} {
		if _, err := Load(bytes.NewReader(bad), "x.readout"); err == nil || !strings.Contains(err.Error(), "x.readout") {
			t.Errorf("%d bytes: error %v", len(bad), err)
		}
	}
	if got := FileName("squeezenet1.1", netspec.InitImageNet, netspec.PadZero, posmap.HS); got != "squeezenet1.1_imagenet_zero_HS.readout" {
		t.Errorf("FileName = %s", got)
	}
}

func FuzzLoad(f *testing.F) {
	var buf bytes.Buffer
	testReadout(f).Save(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Load(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		if r.FeatureLen() > 1<<20 {
			return
		}
		if _, err := r.Predict(make([]float32, r.FeatureLen())); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPrepare(t *testing.T) {
	// 3x3 -> 2x2 with align_corners=true samples the corners exactly.
	a := nn.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)
	b := nn.FromData([]float32{10, 20, 30, 40}, 1, 1, 2, 2)
	got, err := PrepareOne([]*tensor.Dense{a, b}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, 3, 7, 9, 10, 20, 30, 40}; maxDiff(got, want) > 1e-6 {
		t.Errorf("Prepare = %v, want %v", got, want)
	}
	two := nn.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 1, 2, 2)
	dst := make([]float32, 16)
	if _, err := Prepare(dst, []*tensor.Dense{two, two}, 2); err != nil || dst[4] != 1 || dst[8] != 5 {
		t.Errorf("batch layout %v %v", dst, err)
	}
	if _, err := Prepare(make([]float32, 3), []*tensor.Dense{two}, 2); err == nil {
		t.Error("wrong dst size: no error")
	}
	if idx, err := SelectTaps([]string{"f1", "f2", "f3"}, []string{"f3", "f1"}); err != nil || idx[0] != 2 || idx[1] != 0 {
		t.Errorf("SelectTaps %v %v", idx, err)
	}
	if _, err := SelectTaps([]string{"f1"}, []string{"f9"}); err == nil {
		t.Error("unknown tap: no error")
	}
}

// One SGD step of the Table 1 readout on SqueezeNet-sized features
// (C=1344, batch 32): the training cost per batch.
func BenchmarkTrainStepC1344(b *testing.B) {
	f := NewFeatures(32, 1344, 28)
	for i, d := 0, nn.Data(f); i < len(d); i++ {
		d[i] = float32(i%97) / 97
	}
	target := make([]float32, 224*224)
	r, _ := New(DefaultConfig(), 1344, 1)
	tr := newTrainer(r, f, target, runtime.GOMAXPROCS(0))
	idx := make([]int, 32)
	for i := range idx {
		idx[i] = i
	}
	for b.Loop() {
		tr.forwardBackward(idx)
		tr.sgd(0.1, 0.9, 1e-4)
	}
	// 2 GEMMs of 9 x 784 x 1344 multiply-adds per image
	b.ReportMetric(float64(32*2*2*9*784*1344)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestCheckNamesEachDifference: every field a readout's features depend on
// is compared, and a mismatch names the field with both values.
func TestCheckNamesEachDifference(t *testing.T) {
	r := testReadout(t)
	r.Meta.Init, r.Meta.Seed, r.Meta.Padding = netspec.InitRandom, 0, netspec.PadZero
	base := Provenance{Encoder: r.Meta.Encoder, Init: netspec.InitRandom, Padding: netspec.PadZero, Taps: r.Config.Taps, InputSize: 224}
	if err := r.Check(base); err != nil {
		t.Fatalf("same provenance refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(p *Provenance)
		want string
	}{
		{"encoder", func(p *Provenance) { p.Encoder = "vgg16" }, `encoder "vgg16"`},
		{"init", func(p *Provenance) { p.Init = netspec.InitImageNet }, "init imagenet (readout: random)"},
		{"seed", func(p *Provenance) { p.Seed = 5 }, "seed 5 (readout: 0)"},
		{"padding", func(p *Provenance) { p.Padding = netspec.PadReflect }, "padding reflect (readout: zero)"},
		{"normalize", func(p *Provenance) { p.Normalize = true }, "normalize true (readout: false)"},
		{"size", func(p *Provenance) { p.InputSize = 256 }, "input size 256 (readout: 224)"},
		{"taps", func(p *Provenance) { p.Taps = []string{"a"} }, "taps [a]"},
	} {
		p := base
		c.edit(&p)
		if err := r.Check(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to say %q", c.name, err, c.want)
		}
	}
	// A pretrained encoder's seed does not matter.
	r.Meta.Init = netspec.InitImageNet
	p := base
	p.Init, p.Seed = netspec.InitImageNet, 9
	if err := r.Check(p); err != nil {
		t.Errorf("imagenet with another seed refused: %v", err)
	}
}
