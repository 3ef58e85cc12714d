// Package boundary measures how position information depends on the image
// border (Islam et al., IJCV 2024, "Position, Padding and Predictions";
// Alsallakh et al., ICLR 2021, "Mind the Pad"): a position readout's error
// and SPC as a function of distance to the border, per padding mode; the
// effect of the canvas colour around a shrunken photo; and the left/right
// and top/bottom asymmetry of mean feature maps at input sizes where
// stride-2 layers pad unevenly.
package boundary

import (
	"context"
	"fmt"
	"math"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/metric"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/study"
	"gorgonia.org/tensor"
)

// Canvas is a named background colour in [0,1].
type Canvas struct {
	Name  string
	Color [3]float32
}

// Config is one boundary study.
type Config struct {
	Encoder     string
	Init        encoder.Init
	Paddings    []nn.PadMode
	Train, Test []string // photo paths
	Epochs      int      // readout training epochs (official recipe otherwise)
	Targets     []posmap.Target
	Band        int // width of a distance band in output pixels (of 224)
	Canvases    []Canvas
	Inner       int   // the photo's side on a canvas
	Sizes       []int // input sizes for the asymmetry
	AsymPhotos  int   // photos (from Test) averaged for the asymmetry
	Seed        uint64
	Width       int
	DataDir     string
}

// Band is the readout's error in one ring of pixels.
type Band struct {
	From int     `json:"from"`
	To   int     `json:"to"`
	Dist string  `json:"distance"` // "0-7" pixels from the nearest border
	MAE  float64 `json:"mae"`
	SPC  float64 `json:"spc"` // Spearman within the ring, mean over photos
}

// Readout is one padding and target.
type Readout struct {
	Padding  nn.PadMode    `json:"padding"`
	Target   posmap.Target `json:"target"`
	SPC, MAE float64       `json:"-"`
	Overall  [2]float64    `json:"spc_mae"` // whole map, mean over test photos
	Bands    []Band        `json:"bands"`
	Canvas   []CanvasScore `json:"canvas"`
}

// CanvasScore is the readout on photos shrunk onto a coloured canvas.
type CanvasScore struct {
	Canvas string  `json:"canvas"`
	SPC    float64 `json:"spc"`
	MAE    float64 `json:"mae"`
}

// Asym is the mirror asymmetry of a tap's mean feature map at one size.
type Asym struct {
	Size      int     `json:"size"`
	Tap       string  `json:"tap"`
	H         int     `json:"h"`
	W         int     `json:"w"`
	LeftRight float64 `json:"left_right"` // mean |M - mirror_lr(M)| / mean |M|
	TopBottom float64 `json:"top_bottom"`
}

// Result is the whole study.
type Result struct {
	Encoder  string       `json:"encoder"`
	Init     encoder.Init `json:"init"`
	Readouts []Readout    `json:"readouts"`
	Asym     []Asym       `json:"asymmetry"` // zero padding
}

// Progress is called after every encoder pass.
type Progress func(stage string, done, total int)

// Run measures every padding mode.
func Run(ctx context.Context, c Config, progress Progress) (*Result, error) {
	if len(c.Train) == 0 || len(c.Test) == 0 || c.Band < 1 || c.Inner < 8 || c.Inner > probe.InputSize {
		return nil, fmt.Errorf("boundary: need training (%d) and test (%d) photos, a band (%d) and a canvas photo side in 8..224 (%d)",
			len(c.Train), len(c.Test), c.Band, c.Inner)
	}
	res := &Result{Encoder: c.Encoder, Init: c.Init}
	for _, mode := range c.Paddings {
		enc, err := encoder.New(c.Encoder, encoder.Options{Init: c.Init, Seed: c.Seed, Padding: mode, DataDir: c.DataDir, Width: c.Width})
		if err != nil {
			return nil, err
		}
		stage := func(s string) func(done, total int) {
			return func(done, total int) {
				if progress != nil {
					progress(mode.String()+": "+s, done, total)
				}
			}
		}
		train, _, err := probe.Extract(ctx, enc, &probe.Images{Name: "train", Paths: c.Train}, nil, 28, stage("training features"))
		if err != nil {
			return nil, err
		}
		test, _, err := probe.Extract(ctx, enc, &probe.Images{Name: "test", Paths: c.Test}, nil, 28, stage("test features"))
		if err != nil {
			return nil, err
		}
		var ros []Readout
		var rs []*readout.Readout
		var gts [][]float32
		for _, t := range c.Targets {
			cfg := readout.DefaultConfig()
			gt := posmap.Map(t, cfg.OutSize, posmap.Options{})
			r, err := readout.Train(ctx, cfg, train, gt, readout.TrainOptions{Epochs: c.Epochs, Seed: c.Seed}, nil)
			if err != nil {
				return nil, err
			}
			ro, err := score(c, r, test, gt)
			if err != nil {
				return nil, err
			}
			ro.Padding, ro.Target = mode, t
			ros, rs, gts = append(ros, ro), append(rs, r), append(gts, gt)
		}
		train, test = nil, nil // the canvases need only the readouts
		if err := canvasScores(ctx, c, enc, rs, gts, ros, stage("canvases")); err != nil {
			return nil, err
		}
		res.Readouts = append(res.Readouts, ros...)
		if mode == nn.PadZero {
			if res.Asym, err = asymmetry(ctx, c, enc, stage("asymmetry")); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// canvasScores shrinks every test photo to Inner, pastes it in the centre
// of a 224 canvas of each colour and scores each readout on it (into
// ros[k].Canvas), one photo at a time.
func canvasScores(ctx context.Context, c Config, enc encoder.Encoder, rs []*readout.Readout, gts [][]float32, ros []Readout, progress func(done, total int)) error {
	total := len(c.Canvases) * len(c.Test)
	for ci, cv := range c.Canvases {
		for k := range ros {
			ros[k].Canvas = append(ros[k].Canvas, CanvasScore{Canvas: cv.Name})
		}
		for i, p := range c.Test {
			if err := ctx.Err(); err != nil {
				return err
			}
			img, err := imageio.Load(p)
			if err != nil {
				return err
			}
			o := (probe.InputSize - c.Inner) / 2 // the photo centred on the canvas
			taps, err := enc.Forward(study.Paste(imageio.ToTensor(img, c.Inner), probe.InputSize, o, o, cv.Color))
			if err != nil {
				return err
			}
			f, err := readout.PrepareOne(taps, 28)
			encoder.Recycle(enc, taps)
			if err != nil {
				return err
			}
			for k, r := range rs {
				pred, err := r.Predict(f)
				if err != nil {
					return err
				}
				cs := &ros[k].Canvas[ci]
				cs.SPC += metric.Spearman(pred, gts[k]) / float64(len(c.Test))
				cs.MAE += metric.MAE(pred, gts[k]) / float64(len(c.Test))
			}
			progress(ci*len(c.Test)+i+1, total)
		}
	}
	return nil
}

// score evaluates r on the test features, whole and by distance band.
func score(c Config, r *readout.Readout, test *tensor.Dense, gt []float32) (Readout, error) {
	n, nTest := r.Config.OutSize, test.Shape()[0]
	var ro Readout
	nb := (n/2 + c.Band - 1) / c.Band
	idx := make([][]int, nb)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			d := min(x, y, n-1-x, n-1-y)
			idx[d/c.Band] = append(idx[d/c.Band], y*n+x)
		}
	}
	for b := range idx {
		ro.Bands = append(ro.Bands, Band{From: b * c.Band, To: min((b+1)*c.Band, n/2) - 1})
	}
	for i := 0; i < nTest; i++ {
		pred, err := r.Predict(readout.Image(test, i))
		if err != nil {
			return ro, err
		}
		ro.SPC += metric.Spearman(pred, gt) / float64(nTest)
		ro.MAE += metric.MAE(pred, gt) / float64(nTest)
		for b, ix := range idx {
			p, g := make([]float32, len(ix)), make([]float32, len(ix))
			for k, j := range ix {
				p[k], g[k] = pred[j], gt[j]
			}
			ro.Bands[b].MAE += metric.MAE(p, g) / float64(nTest)
			ro.Bands[b].SPC += metric.Spearman(p, g) / float64(nTest)
		}
	}
	for b := range ro.Bands {
		ro.Bands[b].Dist = fmt.Sprintf("%d-%d", ro.Bands[b].From, ro.Bands[b].To)
	}
	ro.Overall = [2]float64{ro.SPC, ro.MAE}
	return ro, nil
}

// asymmetry averages each tap over AsymPhotos test photos and channels at
// every size and measures its mirror asymmetry.
func asymmetry(ctx context.Context, c Config, enc encoder.Encoder, progress func(done, total int)) ([]Asym, error) {
	photos := c.Test[:min(c.AsymPhotos, len(c.Test))]
	var out []Asym
	total := len(c.Sizes) * len(photos)
	for si, size := range c.Sizes {
		var means [][]float64
		var shapes [][2]int
		for i, p := range photos {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			x, err := imageio.LoadTensor(p, size)
			if err != nil {
				return nil, err
			}
			taps, err := enc.Forward(x)
			if err != nil {
				return nil, fmt.Errorf("size %d: %w", size, err)
			}
			if means == nil {
				means = make([][]float64, len(taps))
				shapes = make([][2]int, len(taps))
			}
			for k, t := range taps {
				_, ch, h, w := nn.Dims4(t)
				if means[k] == nil {
					means[k], shapes[k] = make([]float64, h*w), [2]int{h, w}
				}
				d := nn.Data(t)
				for j := 0; j < ch; j++ {
					for q, v := range d[j*h*w : (j+1)*h*w] {
						means[k][q] += float64(v)
					}
				}
			}
			encoder.Recycle(enc, taps)
			progress(si*len(photos)+i+1, total)
		}
		for k, m := range means {
			h, w := shapes[k][0], shapes[k][1]
			lr, tb, mag := 0.0, 0.0, 0.0
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					v := m[y*w+x]
					mag += math.Abs(v)
					lr += math.Abs(v - m[y*w+w-1-x])
					tb += math.Abs(v - m[(h-1-y)*w+x])
				}
			}
			a := Asym{Size: size, Tap: enc.Taps()[k].Name, H: h, W: w}
			if mag > 0 {
				a.LeftRight, a.TopBottom = lr/mag, tb/mag
			}
			out = append(out, a)
		}
	}
	return out, nil
}
