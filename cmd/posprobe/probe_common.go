package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/wasm/demo"
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
	f.StringVar(&e.padding, "padding", "zero", "encoder conv padding: zero, none, reflect, replicate, circular or full (F-Conv: k-1 zeros per side)")
	f.StringVar(&e.weights, "weights", "", "encoder weight file or folder (default: found as 'posprobe weights list' shows)")
	f.BoolVar(&e.normalize, "normalize", false, "apply ImageNet mean/std to the input (the official probe does not)")
}

// addTargetFlag adds --target (parsed by parseTargets).
func addTargetFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "target", "all", "H, V, G, HS, VS, a comma list, or all")
}

// addReadoutsFlag adds --readouts, the folder loadReadouts looks in.
func addReadoutsFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "readouts", filepath.Join("weights", "readouts"), "folder of readouts named by target")
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

// openImageSet opens a folder of photos or one synthetic input (black,
// white, noise).
func openImageSet(spec string, recursive bool) (*probe.Images, error) {
	if posmap.IsSynthetic(spec) {
		return probe.Synthetic(spec, dataDir())
	}
	return probe.Folder(spec, recursive, 0)
}

// extract runs pe over set, moving bar from done0 on, and lists every
// unreadable file on errw (probe.Extract leaves them out).
func extract(ctx context.Context, pe *probeEncoder, set *probe.Images, sel []int, size int, bar *progressbar.ProgressBar, done0 int,
	errw io.Writer) (*readout.Features, []error, error) {
	feats, skipped, err := probe.Extract(ctx, pe.enc, set, sel, size, func(done, _ int) { bar.Set(done0 + done) })
	for _, e := range skipped {
		fmt.Fprintln(errw, e)
	}
	return feats, skipped, err
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

// colorMap renders a size x size map with values in [lo,hi] through the
// demo's viridis, so the PNGs match the maps the demo draws.
func colorMap(m []float32, size int, lo, hi float64) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for i, v := range m {
		c := demo.Colormap((float64(v) - lo) / (hi - lo))
		img.SetNRGBA(i%size, i/size, color.NRGBA{c.R, c.G, c.B, c.A})
	}
	return img
}
