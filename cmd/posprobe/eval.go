package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
)

var evalFlags struct {
	probeFlags
	images               string
	readout, readoutsDir string
	json, recursive      bool
}

var evalCmd = &cobra.Command{
	Use:   "eval --encoder NAME --images DIR|black|white|noise",
	Short: "Score trained readouts (SPC, MAE) on photos or synthetic inputs",
	Long: `eval runs the encoder over the images, predicts every target's position map
with its readout and scores it against the ground truth: per image Spearman
correlation (SPC, 0 for a constant prediction) and mean absolute error
(MAE) at 224x224, averaged over the images. Unreadable files are skipped,
listed by name and counted (skipped_unreadable in --json).

--images takes a folder (subfolders included unless --recursive=false), or
black, white, noise (the synthetic inputs; noise is the reference PNG from
the data folder when present), or a comma list of these. Without --readout
the readouts are weights/readouts/<encoder>_<init>_<padding>_<target>.readout
(--readouts changes the folder). A readout trained on another encoder,
init, padding or tap set is refused.`,
	Example: `  posprobe eval --encoder squeezenet1.1 --images $POSPROBE_DATA/images/bsds500,black,white,noise
  posprobe eval --encoder none --target H --readout h.readout --images photos/ --json`,
	RunE: runEval,
}

func init() {
	f := evalCmd.Flags()
	ef := &evalFlags
	f.StringVar(&ef.images, "images", "", "images folder, black, white, noise, or a comma list")
	f.BoolVar(&ef.recursive, "recursive", true, "also take images from subfolders")
	f.StringVar(&ef.readout, "readout", "", "readout file (one target only)")
	addReadoutsFlag(f, &ef.readoutsDir)
	f.BoolVar(&ef.json, "json", false, "print one JSON object per target and image set")
	addProbeCommand(evalCmd, &ef.probeFlags, "images")
}

func runEval(cmd *cobra.Command, _ []string) error {
	ef := evalFlags
	targets, pe, readouts, err := setupProbe(&ef.enc, ef.target, ef.readout, ef.readoutsDir)
	if err != nil {
		return err
	}
	ctx, stop := interruptible(context.Background())
	defer stop()
	for _, spec := range strings.Split(ef.images, ",") {
		set, err := openImageSet("images", spec, ef.recursive)
		if err != nil {
			return err
		}
		res, err := scoreSet(ctx, pe, readouts, targets, set, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		if err := printScores(cmd.OutOrStdout(), pe, targets, res, ef.json); err != nil {
			return err
		}
	}
	return nil
}

// loadReadouts loads and checks one readout per target.
// setupProbe parses --target, builds the encoder and loads the readouts:
// from file (one target only), else from dir, named after encoder and target.
func setupProbe(enc *probeEncoderFlags, target, file, dir string) ([]posmap.Target, *probeEncoder, map[posmap.Target]*readout.Readout, error) {
	targets, err := parseTargets(target)
	if err != nil {
		return nil, nil, nil, err
	}
	if file != "" && len(targets) != 1 {
		return nil, nil, nil, fmt.Errorf("--readout holds one target: give --target too")
	}
	pe, err := enc.build()
	if err != nil {
		return nil, nil, nil, err
	}
	readouts, err := loadReadouts(pe, targets, file, dir)
	return targets, pe, readouts, err
}

func loadReadouts(pe *probeEncoder, targets []posmap.Target, file, dir string) (map[posmap.Target]*readout.Readout, error) {
	out := map[posmap.Target]*readout.Readout{}
	for _, t := range targets {
		p := file
		if p == "" {
			p = filepath.Join(dir, readout.FileName(pe.enc.Name(), pe.init, pe.pad, t))
		}
		r, err := loadReadoutFile(p)
		if err != nil {
			return nil, err
		}
		if r.Meta.Target != t {
			return nil, fmt.Errorf("%s: readout was trained for target %s, not %s", p, r.Meta.Target, t)
		}
		if err := checkReadout(p, r, pe); err != nil {
			return nil, err
		}
		if _, err := readout.SelectTaps(pe.taps, r.Config.Taps); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out[t] = r
	}
	return out, nil
}

// evalChunkBytes bounds the features held at once while scoring: a test
// set is extracted and scored in chunks of at most this many bytes (a
// variable so tests can force several chunks).
var evalChunkBytes = 256 << 20

// setScores are the scores of every target on one image set.
type setScores struct {
	set     *probe.Images
	scores  map[posmap.Target]score.Score
	skipped int // unreadable files, left out
}

// scoreSet predicts every target for every readable image of set and scores
// it, in chunks of photos so memory stays bounded.
func scoreSet(ctx context.Context, pe *probeEncoder, readouts map[posmap.Target]*readout.Readout, targets []posmap.Target,
	set *probe.Images, errw io.Writer) (*setScores, error) {
	first := readouts[targets[0]]
	for _, t := range targets[1:] {
		r := readouts[t]
		if !slices.Equal(r.Config.Taps, first.Config.Taps) || r.Config.Size != first.Config.Size {
			return nil, fmt.Errorf("readouts of %s and %s use different taps or sizes: evaluate them separately", targets[0], t)
		}
	}
	sel, err := readout.SelectTaps(pe.taps, first.Config.Taps)
	if err != nil {
		return nil, err
	}
	evals := make([]probe.Eval, len(targets))
	for i, t := range targets {
		sr, err := posmap.ParseStripeRange(readouts[t].Meta.Stripes)
		if err != nil {
			return nil, err
		}
		evals[i] = probe.Eval{Name: "target " + t.String(), Readout: readouts[t], Taps: sel, Truth: posmap.Map(t, readouts[t].Config.OutSize, posmap.Options{Stripes: sr})}
	}
	size := first.Config.Size
	per := 4 * first.Channels * size * size
	n := set.Len()
	bar := newBar(errw, n, "eval "+filepath.Base(set.Name), "img")
	defer bar.Finish()
	sr, err := probe.EvaluateSet(ctx, pe.enc, set, evals, probe.SetOptions{
		Chunk:    max(1, evalChunkBytes/max(per, 1)),
		Progress: func(done, _ int) { bar.Set(done) },
		Skip:     func(e error) { fmt.Fprintln(errw, e) },
	})
	if err != nil {
		return nil, err
	}
	if sr.Skipped == n {
		return nil, fmt.Errorf("%s: no readable image (%d skipped)", set.Name, n)
	}
	res := &setScores{set: set, scores: map[posmap.Target]score.Score{}, skipped: sr.Skipped}
	for i, t := range targets {
		res.scores[t] = sr.Scores[i]
		if s := res.scores[t]; math.IsNaN(s.SPC) || math.IsNaN(s.MAE) {
			return nil, fmt.Errorf("%s: target %s: predicted maps hold NaN or Inf (non-finite encoder or readout output); no score reported", set.Name, t)
		}
	}
	return res, nil
}

type scoreRow struct {
	Encoder  string        `json:"encoder"`
	Init     encoder.Init  `json:"init"`
	Padding  nn.PadMode    `json:"padding"`
	Target   posmap.Target `json:"target"`
	Images   string        `json:"images"`
	NImages  int           `json:"n_images"`
	SPC      float64       `json:"spc"`
	MAE      float64       `json:"mae"`
	SPCStd   float64       `json:"spc_std"`
	MAEStd   float64       `json:"mae_std"`
	Constant int           `json:"constant_predictions"`
	Skipped  int           `json:"skipped_unreadable,omitempty"`
	Source   string        `json:"source,omitempty"`
}

func printScores(w io.Writer, pe *probeEncoder, targets []posmap.Target, res *setScores, asJSON bool) error {
	set := res.set
	var rows []scoreRow
	for _, t := range targets {
		s := res.scores[t]
		rows = append(rows, scoreRow{Encoder: pe.enc.Name(), Init: pe.init, Padding: pe.pad, Target: t,
			Images: set.Name, NImages: s.N, SPC: s.SPC, MAE: s.MAE, SPCStd: s.SPCStd,
			MAEStd: s.MAEStd, Constant: s.Constant, Skipped: res.skipped, Source: set.Src})
	}
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	src := ""
	if set.Src != "" && set.Src != set.Name {
		src = " (" + set.Src + ")"
	}
	skipped := ""
	if res.skipped > 0 {
		skipped = fmt.Sprintf(" (%d unreadable skipped)", res.skipped)
	}
	fmt.Fprintf(w, "%s init=%s padding=%s on %s%s, %d images%s\n", pe.enc.Name(), pe.init, pe.pad, set.Name, src, set.Len()-res.skipped, skipped)
	tw := newTable(w, true)
	fmt.Fprintf(tw, "target\tSPC\tMAE\tSPC std\tconstant\t\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t\n", r.Target, r.SPC, r.MAE, r.SPCStd, r.Constant)
	}
	return tw.Flush()
}
