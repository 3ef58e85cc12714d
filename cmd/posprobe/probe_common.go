package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"
	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
)

// probeEncoderFlags select the frozen encoder of train, eval and predict.
type probeEncoderFlags struct {
	name, init, padding, weights string
	seed                         uint64
	normalize                    bool
}

func (e *probeEncoderFlags) add(f *pflag.FlagSet) {
	f.StringVar(&e.name, "encoder", "", "encoder name ("+strings.Join(encoder.Names(), ", ")+")")
	f.StringVar(&e.init, "init", encoder.InitImageNet, "encoder weights: imagenet (pretrained) or random")
	f.Uint64Var(&e.seed, "seed", 0, "seed of --init random")
	f.StringVar(&e.padding, "padding", "zero", "encoder conv padding: zero, none, reflect, replicate or circular")
	f.StringVar(&e.weights, "weights", "", "encoder weight file or folder (default: found as 'posprobe weights list' shows)")
	f.BoolVar(&e.normalize, "normalize", false, "apply ImageNet mean/std to the input (the official probe does not)")
}

// probeEncoder is a built encoder with its tap names.
type probeEncoder struct {
	enc  encoder.Encoder
	taps []string
	init string // normalised
	pad  string
}

func (e *probeEncoderFlags) build() (*probeEncoder, error) {
	pad, err := nn.ParsePadMode(e.padding)
	if err != nil {
		return nil, err
	}
	enc, err := encoder.New(e.name, encoder.Options{Init: e.init, Seed: e.seed, Padding: pad,
		Weights: e.weights, DataDir: dataDir(), Normalize: e.normalize})
	if err != nil {
		return nil, err
	}
	p := &probeEncoder{enc: enc, init: readout.NormInit(e.init), pad: pad.String()}
	for _, t := range enc.Taps() {
		p.taps = append(p.taps, t.Name)
	}
	return p, nil
}

// imageSet is a folder of photos or one synthetic input.
type imageSet struct {
	name   string   // folder or black/white/noise
	paths  []string // nil for synthetic
	source string   // synthetic: where the image came from
	synth  *image.NRGBA
}

func openImageSet(spec string, recursive bool) (*imageSet, error) {
	if posmap.IsSynthetic(spec) {
		img, src, err := posmap.Synthetic(spec, 224, posmap.DataFS(dataDir()))
		if err != nil {
			return nil, err
		}
		return &imageSet{name: spec, source: src, synth: img}, nil
	}
	paths, err := imageio.ListImages(spec, recursive)
	if err != nil {
		return nil, err
	}
	return &imageSet{name: spec, paths: paths}, nil
}

func (s *imageSet) len() int {
	if s.synth != nil {
		return 1
	}
	return len(s.paths)
}

// load returns image i as [1,3,224,224].
func (s *imageSet) load(i int) (*tensor.Dense, error) {
	if s.synth != nil {
		return imageio.ToTensor(s.synth, 224), nil
	}
	return imageio.LoadTensor(s.paths[i], 224)
}

// featureStream runs the encoder over the set in batches and calls fn with
// each image's readout features [C,size,size] (valid during the call).
// Decoding runs ahead on its own goroutines.
func featureStream(ctx context.Context, pe *probeEncoder, sel []int, size int, set *imageSet, bar *progressbar.ProgressBar,
	fn func(i int, feat []float32) error) (int, error) {
	const batch = 8
	n := set.len()
	type loaded struct {
		x   *tensor.Dense
		err error
	}
	// Decode in parallel, delivered in order.
	slots := make([]chan loaded, n)
	for i := range slots {
		slots[i] = make(chan loaded, 1)
	}
	sem := make(chan struct{}, 2*batch)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	defer func() { close(stop); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		var inner sync.WaitGroup
		workers := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
		for i := 0; i < n; i++ {
			select {
			case sem <- struct{}{}:
			case <-stop:
				inner.Wait()
				return
			}
			workers <- struct{}{}
			inner.Add(1)
			go func(i int) {
				defer inner.Done()
				x, err := set.load(i)
				slots[i] <- loaded{x, err}
				<-workers
			}(i)
		}
		inner.Wait()
	}()
	c := 0
	var feats []float32
	for start := 0; start < n; start += batch {
		if err := ctx.Err(); err != nil {
			return c, err
		}
		end := min(start+batch, n)
		xb := nn.New(end-start, 3, 224, 224)
		for i := start; i < end; i++ {
			l := <-slots[i]
			<-sem
			if l.err != nil {
				return c, l.err
			}
			copy(nn.Data(xb)[(i-start)*3*224*224:], nn.Data(l.x))
		}
		taps, err := pe.enc.Forward(xb)
		if err != nil {
			return c, fmt.Errorf("%s: %w", pe.enc.Name(), err)
		}
		var chosen []*tensor.Dense
		for _, k := range sel {
			chosen = append(chosen, taps[k])
		}
		if c == 0 {
			for _, t := range chosen {
				c += t.Shape()[1]
			}
		}
		l := c * size * size
		feats = growF(feats, (end-start)*l)
		if _, err := readout.Prepare(feats[:(end-start)*l], chosen, size); err != nil {
			return c, err
		}
		for i := start; i < end; i++ {
			if err := fn(i, feats[(i-start)*l:(i-start+1)*l]); err != nil {
				return c, err
			}
		}
		if bar != nil {
			bar.Add(end - start)
		}
	}
	return c, nil
}

func growF(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// isTerminal reports whether w is a terminal (progress bars) rather than a
// log file (plain lines).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newBar draws a progress bar with ETA on a terminal and nothing elsewhere.
func newBar(w io.Writer, total int, desc, unit string) *progressbar.ProgressBar {
	if !isTerminal(w) {
		return progressbar.NewOptions(total, progressbar.OptionSetVisibility(false), progressbar.OptionSetWriter(io.Discard))
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(200_000_000),
		progressbar.OptionClearOnFinish(),
	)
}

// parseTargets accepts "all" or a comma-separated list.
func parseTargets(s string) ([]posmap.Target, error) {
	if strings.EqualFold(s, "all") || s == "" {
		return posmap.AllTargets(), nil
	}
	var ts []posmap.Target
	for _, p := range strings.Split(s, ",") {
		t, err := posmap.ParseTarget(strings.TrimSpace(p))
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// saveReadout writes r to path through a temporary file and a rename, so
// an interrupted write never replaces a good file.
func saveReadout(path string, r *readout.Readout) error {
	if d := filepath.Dir(path); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o644)
	if err == nil {
		err = r.Save(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func loadReadoutFile(path string) (*readout.Readout, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readout.Load(f, path)
}

// viridis maps v in [0,1] to matplotlib's viridis (polynomial fit, within
// about 4/255 per channel).
func viridis(v float64) color.NRGBA {
	t := min(max(v, 0), 1)
	c0 := [3]float64{0.2777273272234177, 0.005407344544966578, 0.3340998053353061}
	c1 := [3]float64{0.1050930431085774, 1.404613529898575, 1.384590162594685}
	c2 := [3]float64{-0.3308618287255563, 0.214847559468213, 0.09509516302823659}
	c3 := [3]float64{-4.634230498983486, -5.799100973351585, -19.33244095627987}
	c4 := [3]float64{6.228269936347081, 14.17993336680509, 56.69055260068105}
	c5 := [3]float64{4.776384997670288, -13.74514537774601, -65.35303263337234}
	c6 := [3]float64{-5.435455855934631, 4.645852612178535, 26.3124352495832}
	var out [3]uint8
	for i := 0; i < 3; i++ {
		x := c0[i] + t*(c1[i]+t*(c2[i]+t*(c3[i]+t*(c4[i]+t*(c5[i]+t*c6[i])))))
		out[i] = uint8(math.Round(min(max(x, 0), 1) * 255))
	}
	return color.NRGBA{out[0], out[1], out[2], 255}
}

// colorMap renders a size x size map with values in [lo,hi] through viridis.
func colorMap(m []float32, size int, lo, hi float64) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for i, v := range m {
		img.SetNRGBA(i%size, i/size, viridis((float64(v)-lo)/(hi-lo)))
	}
	return img
}
