package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/metric"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
)

var evalFlags struct {
	enc                  probeEncoderFlags
	target, images       string
	readout, readoutsDir string
	json, recursive      bool
}

var evalCmd = &cobra.Command{
	Use:   "eval --encoder NAME --images DIR|black|white|noise",
	Short: "Score trained readouts (SPC, MAE) on photos or synthetic inputs",
	Long: `eval runs the encoder over the images, predicts every target's position map
with its readout and scores it against the ground truth: per image Spearman
correlation (SPC, 0 for a constant prediction) and mean absolute error
(MAE) at 224x224, averaged over the images.

--images takes a folder (subfolders included unless --recursive=false), or
black, white, noise (the synthetic inputs; noise is the reference PNG from
the data folder when present), or a comma list of these. Without --readout
the readouts are weights/readouts/<encoder>_<init>_<padding>_<target>.readout
(--readouts changes the folder). A readout trained on another encoder,
init, padding or tap set is refused.`,
	Example: `  posprobe eval --encoder squeezenet1.1 --images $POSPROBE_DATA/images/bsds500,black,white,noise
  posprobe eval --encoder none --target H --readout h.readout --images photos/ --json`,
	Args: cobra.NoArgs,
	RunE: runEval,
}

func init() {
	f := evalCmd.Flags()
	ef := &evalFlags
	ef.enc.add(f)
	f.StringVar(&ef.target, "target", "all", "H, V, G, HS, VS, a comma list, or all")
	f.StringVar(&ef.images, "images", "", "images folder, black, white, noise, or a comma list")
	f.BoolVar(&ef.recursive, "recursive", true, "also take images from subfolders")
	f.StringVar(&ef.readout, "readout", "", "readout file (one target only)")
	f.StringVar(&ef.readoutsDir, "readouts", filepath.Join("weights", "readouts"), "folder of readouts named by target")
	f.BoolVar(&ef.json, "json", false, "print one JSON object per target and image set")
	for _, n := range []string{"encoder", "images"} {
		evalCmd.MarkFlagRequired(n)
	}
	rootCmd.AddCommand(evalCmd)
}

func runEval(cmd *cobra.Command, _ []string) error {
	ef := evalFlags
	targets, err := parseTargets(ef.target)
	if err != nil {
		return err
	}
	if ef.readout != "" && len(targets) != 1 {
		return fmt.Errorf("--readout holds one target: give --target too")
	}
	pe, err := ef.enc.build()
	if err != nil {
		return err
	}
	readouts, err := loadReadouts(pe, targets, ef.readout, ef.readoutsDir)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	for _, spec := range strings.Split(ef.images, ",") {
		set, err := openImageSet(spec, ef.recursive)
		if err != nil {
			return err
		}
		res, err := scoreSet(ctx, pe, readouts, targets, set, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		if err := printScores(cmd.OutOrStdout(), pe, targets, set, res, ef.json); err != nil {
			return err
		}
	}
	return nil
}

// loadReadouts loads and checks one readout per target.
func loadReadouts(pe *probeEncoder, targets []posmap.Target, file, dir string) (map[posmap.Target]*readout.Readout, error) {
	out := map[posmap.Target]*readout.Readout{}
	for _, t := range targets {
		p := file
		if p == "" {
			p = filepath.Join(dir, readout.FileName(pe.enc.Name(), pe.init, pe.pad, t.String()))
		}
		r, err := loadReadoutFile(p)
		if err != nil {
			return nil, err
		}
		if r.Meta.Target != t.String() {
			return nil, fmt.Errorf("%s: readout was trained for target %s, not %s", p, r.Meta.Target, t)
		}
		if err := r.CheckEncoder(pe.enc.Name(), pe.init, pe.pad, r.Config.Taps); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if _, err := readout.SelectTaps(pe.taps, r.Config.Taps); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out[t] = r
	}
	return out, nil
}

// scoreSet predicts every target for every image of set and scores it.
func scoreSet(ctx context.Context, pe *probeEncoder, readouts map[posmap.Target]*readout.Readout, targets []posmap.Target,
	set *imageSet, errw io.Writer) (map[posmap.Target]*metric.Scores, error) {
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
	gts := map[posmap.Target]*metric.Ranked{}
	res := map[posmap.Target]*metric.Scores{}
	for _, t := range targets {
		sr, err := posmap.ParseStripeRange(readouts[t].Meta.Stripes)
		if err != nil {
			return nil, err
		}
		gts[t] = metric.NewRanked(posmap.Map(t, readouts[t].Config.OutSize, posmap.Options{Stripes: sr}))
		res[t] = &metric.Scores{}
	}
	bar := newBar(errw, set.len(), "eval "+filepath.Base(set.name), "img")
	defer bar.Finish()
	_, err = featureStream(ctx, pe, sel, first.Config.Size, set, bar, func(i int, feat []float32) error {
		var wg sync.WaitGroup
		errs := make([]error, len(targets))
		for k, t := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := readouts[t].Predict(feat)
				if err != nil {
					errs[k] = err
					return
				}
				res[t].Add(gts[t], p)
			}()
		}
		wg.Wait()
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
		return nil
	})
	return res, err
}

type scoreRow struct {
	Encoder  string  `json:"encoder"`
	Init     string  `json:"init"`
	Padding  string  `json:"padding"`
	Target   string  `json:"target"`
	Images   string  `json:"images"`
	NImages  int     `json:"n_images"`
	SPC      float64 `json:"spc"`
	MAE      float64 `json:"mae"`
	SPCStd   float64 `json:"spc_std"`
	MAEStd   float64 `json:"mae_std"`
	Constant int     `json:"constant_predictions"`
	Source   string  `json:"source,omitempty"`
}

func printScores(w io.Writer, pe *probeEncoder, targets []posmap.Target, set *imageSet, res map[posmap.Target]*metric.Scores, asJSON bool) error {
	var rows []scoreRow
	for _, t := range targets {
		s := res[t]
		rows = append(rows, scoreRow{Encoder: pe.enc.Name(), Init: pe.init, Padding: pe.pad, Target: t.String(),
			Images: set.name, NImages: s.SPC.N, SPC: s.SPC.Mean(), MAE: s.MAE.Mean(), SPCStd: s.SPC.Std(),
			MAEStd: s.MAE.Std(), Constant: s.Constant, Source: set.source})
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
	if set.source != "" && set.source != set.name {
		src = " (" + set.source + ")"
	}
	fmt.Fprintf(w, "%s init=%s padding=%s on %s%s, %d images\n", pe.enc.Name(), pe.init, pe.pad, set.name, src, set.len())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\tSPC\tMAE\tSPC std\tconstant\t\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t\n", r.Target, r.SPC, r.MAE, r.SPCStd, r.Constant)
	}
	return tw.Flush()
}
