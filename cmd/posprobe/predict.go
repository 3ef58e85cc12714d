package main

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/colormap"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
)

var predictFlags struct {
	enc                          probeEncoderFlags
	target, image, out, readouts string
}

var predictCmd = &cobra.Command{
	Use:   "predict --encoder NAME --image FILE --out DIR",
	Short: "Write the predicted position maps of one image as colour-mapped PNGs",
	Long: `predict runs the encoder and the readouts on one image (a file, or black,
white, noise) and writes, per target, <target>_pred.png and <target>_gt.png
(viridis colour map over the target's value range, 224x224), printing SPC and
MAE. Readouts come from --readouts (default weights/readouts).`,
	Example: `  posprobe predict --encoder squeezenet1.1 --image photo.jpg --out maps/`,
	Args:    cobra.NoArgs,
	RunE:    runPredict,
}

func init() {
	f := predictCmd.Flags()
	pf := &predictFlags
	pf.enc.add(f)
	addTargetFlag(f, &pf.target)
	f.StringVar(&pf.image, "image", "", "input image, or black, white, noise")
	f.StringVar(&pf.out, "out", "", "output folder")
	addReadoutsFlag(f, &pf.readouts)
	for _, n := range []string{"encoder", "image", "out"} {
		predictCmd.MarkFlagRequired(n)
	}
	rootCmd.AddCommand(predictCmd)
}

func runPredict(cmd *cobra.Command, _ []string) error {
	pf := predictFlags
	targets, err := parseTargets(pf.target)
	if err != nil {
		return err
	}
	pe, err := pf.enc.build()
	if err != nil {
		return err
	}
	readouts, err := loadReadouts(pe, targets, "", pf.readouts)
	if err != nil {
		return err
	}
	set := &probe.Images{Name: pf.image, Paths: []string{pf.image}}
	if posmap.IsSynthetic(pf.image) {
		if set, err = probe.Synthetic(pf.image, dataDir()); err != nil {
			return err
		}
	} else if _, err := os.Stat(pf.image); err != nil {
		return err
	}
	if err := os.MkdirAll(pf.out, 0o755); err != nil {
		return err
	}
	// One encoder pass with every tap (per readout input size); each
	// target's readout takes its own taps from it.
	all := map[int]*readout.Features{}
	for _, t := range targets {
		r := readouts[t]
		sel, err := readout.SelectTaps(pe.taps, r.Config.Taps)
		if err != nil {
			return err
		}
		if all[r.Config.Size] == nil {
			f, skipped, err := probe.Extract(context.Background(), pe.enc, set, nil, r.Config.Size, nil)
			if len(skipped) > 0 {
				return errors.Unwrap(skipped[0]) // imageio's error names the file
			}
			if err != nil {
				return err
			}
			all[r.Config.Size] = f
		}
		feats, err := probe.SelectChannels(all[r.Config.Size], pe.enc.Taps(), sel)
		if err != nil {
			return err
		}
		sr, _ := posmap.ParseStripeRange(r.Meta.Stripes)
		gt := posmap.Map(t, r.Config.OutSize, posmap.Options{Stripes: sr})
		var pred []float32
		sc, err := probe.EvaluateEach(r, feats, gt, func(_ int, p []float32) { pred = p })
		if err != nil {
			return err
		}
		lo, hi := 0.0, 1.0
		if t.IsStripes() && sr == posmap.StripesPM1 {
			lo = -1
		}
		for name, m := range map[string][]float32{"pred": pred, "gt": gt} {
			p := filepath.Join(pf.out, fmt.Sprintf("%s_%s.png", t, name))
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			err = png.Encode(f, colormap.Image(m, r.Config.OutSize, lo, hi))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%-2s SPC %.3f MAE %.3f  -> %s\n", t, sc.SPC, sc.MAE,
			filepath.Join(pf.out, t.String()+"_pred.png"))
	}
	return nil
}
