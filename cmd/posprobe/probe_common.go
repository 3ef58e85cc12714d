package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/netspec"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/internal/atomicfile"
	"gorgonia.org/tensor"
)

// probeEncoderFlags select the frozen encoder of train, eval and predict.
type probeEncoderFlags struct {
	name, init, padding, weights string
	model, taps                  string // --model FILE.onnx and its --taps (model.go)
	seed                         uint64
	normalize                    bool
}

func (e *probeEncoderFlags) add(f *pflag.FlagSet) {
	f.StringVar(&e.name, "encoder", "", "encoder name ("+strings.Join(encoder.Names(), ", ")+")")
	f.StringVar(&e.init, "init", encoder.InitImageNet.String(), "encoder weights: imagenet (pretrained) or random")
	f.Uint64Var(&e.seed, "seed", 0, "seed of --init random")
	f.StringVar(&e.padding, "padding", "zero", "encoder conv padding: zero, none, reflect, replicate, circular or full (F-Conv: k-1 zeros per side)")
	f.StringVar(&e.weights, "weights", "", "encoder weight file or folder (default: found as 'posprobe weights list' shows)")
	f.BoolVar(&e.normalize, "normalize", false, "apply ImageNet mean/std to the input (the official probe does not)")
	f.StringVar(&e.model, "model", "", modelFlagHelp)
	f.StringVar(&e.taps, "taps", "", tapsFlagHelp)
}

// addTargetFlag adds --target (parsed by parseTargets).
func addTargetFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "target", "all", "H, V, G, HS, VS, a comma list, or all")
}

// probeFlags are the flags train, eval and predict share: the frozen
// encoder and the targets.
type probeFlags struct {
	enc    probeEncoderFlags
	target string
}

// addProbeCommand adds one of those commands with its shared flags p (see
// addEncoderCommand for required).
func addProbeCommand(cmd *cobra.Command, p *probeFlags, required ...string) {
	f := cmd.Flags()
	p.enc.add(f)
	addTargetFlag(f, &p.target)
	addEncoderCommand(cmd, required...)
}

// forceReadouts uses readouts whose provenance differs from the encoder's.
var forceReadouts bool

// addReadoutsFlag adds --readouts, the folder loadReadouts looks in, and
// --force.
func addReadoutsFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "readouts", filepath.Join("weights", "readouts"), "folder of readouts named by target")
	f.BoolVar(&forceReadouts, "force", false, "use readouts trained on other features (encoder, init, seed, padding, normalisation, size), with a warning")
}

// probeEncoder is a built encoder with its tap names.
type probeEncoder struct {
	enc  encoder.Encoder
	taps []string
	init encoder.Init
	pad  nn.PadMode
	seed uint64
	norm bool
}

// provenance is what readouts on this encoder's features must match.
func (p *probeEncoder) provenance(taps []string) readout.Provenance {
	return readout.Provenance{Encoder: p.enc.Name(), Init: p.init, Seed: p.seed, Padding: p.pad,
		Normalize: p.norm, InputSize: probe.InputSize, Taps: taps}
}

func (e *probeEncoderFlags) build() (*probeEncoder, error) {
	pad, err := nn.ParsePadMode(e.padding)
	if err != nil {
		return nil, err
	}
	var enc encoder.Encoder
	var init encoder.Init // an ONNX model's (its own weights) counts as imagenet
	if e.model != "" {
		enc, err = e.buildModel(pad)
	} else if init, err = netspec.ParseInit(e.init); err == nil {
		enc, err = encoder.New(e.name, encoder.Options{Init: init, Seed: e.seed, Padding: pad,
			Weights: e.weights, DataDir: dataDir(), Normalize: e.normalize})
	}
	if err != nil {
		return nil, err
	}
	p := &probeEncoder{enc: enc, init: init, pad: pad, seed: e.seed, norm: e.normalize}
	for _, t := range enc.Taps() {
		p.taps = append(p.taps, t.Name)
	}
	return p, nil
}

// openImageSet opens a folder of photos or one synthetic input (black,
// white, noise); flag names the option it came from in errors.
func openImageSet(flag, spec string, recursive bool) (*probe.Images, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("--%s is empty: give a folder of photos, or black, white, noise", flag)
	}
	if posmap.IsSynthetic(spec) {
		return probe.Synthetic(spec, dataDir())
	}
	set, err := probe.Folder(spec, recursive, 0)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	return set, nil
}

// extract runs pe over set, moving bar from done0 on, and lists every
// unreadable file on errw (probe.Extract leaves them out).
func extract(ctx context.Context, pe *probeEncoder, set *probe.Images, sel []int, size int, bar *progressbar.ProgressBar, done0 int,
	errw io.Writer) (*tensor.Dense, []error, error) {
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

// parseTargets accepts "all" or a comma-separated list without repeats.
func parseTargets(s string) ([]posmap.Target, error) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return posmap.AllTargets(), nil
	}
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("--target is empty: give H, V, G, HS, VS, a comma list, or all")
	}
	var ts []posmap.Target
	for _, p := range strings.Split(s, ",") {
		t, err := posmap.ParseTarget(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("--target %s: %w", s, err)
		}
		if slices.Contains(ts, t) {
			return nil, fmt.Errorf("--target %s: %s is given twice", s, t)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// saveReadout writes r to path atomically, so an interrupted write never
// replaces a good file.
func saveReadout(path string, r *readout.Readout) error {
	return atomicfile.Write(path, 0o644, r.Save)
}

func loadReadoutFile(path string) (*readout.Readout, error) {
	f, err := imageio.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readout.Load(f, path)
}

// checkReadout refuses a readout trained on other features than pe's,
// unless --force, which warns instead.
func checkReadout(path string, r *readout.Readout, pe *probeEncoder) error {
	err := r.Check(pe.provenance(r.Config.Taps))
	if err == nil {
		return nil
	}
	if !forceReadouts {
		return fmt.Errorf("%s: %w (--force uses it anyway)", path, err)
	}
	fmt.Fprintf(os.Stderr, "posprobe: warning: %s: %v; used because of --force\n", path, err)
	return nil
}

// checkWritable reports whether path can be written (its folder is created
// if missing), without touching an existing file there.
func checkWritable(path string) error {
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return err
	}
	f.Abort()
	return nil
}
