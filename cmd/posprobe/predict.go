package main

import (
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/colormap"
	"github.com/posprobe/posprobe/core/metric"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/internal/atomicfile"
)

var predictFlags struct {
	probeFlags
	image, out, readouts string
}

var predictCmd = &cobra.Command{
	Use:   "predict --encoder NAME --image FILE --out DIR",
	Short: "Write the predicted position maps of one image as colour-mapped PNGs",
	Long: `predict runs the encoder and the readouts on one image (a file, or black,
white, noise) and writes, per target, <target>_pred.png and <target>_gt.png
(viridis colour map over the target's value range, 224x224), printing SPC and
MAE. Readouts come from --readouts (default weights/readouts).`,
	Example: `  posprobe predict --encoder squeezenet1.1 --image photo.jpg --out maps/`,
	RunE:    runPredict,
}

func init() {
	f := predictCmd.Flags()
	pf := &predictFlags
	f.StringVar(&pf.image, "image", "", "input image, or black, white, noise")
	f.StringVar(&pf.out, "out", "", "output folder")
	addReadoutsFlag(f, &pf.readouts)
	addProbeCommand(predictCmd, &pf.probeFlags, "image", "out")
}

func runPredict(cmd *cobra.Command, _ []string) error {
	pf := predictFlags
	targets, pe, readouts, err := setupProbe(&pf.enc, pf.target, "", pf.readouts)
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
	x, err := set.Load(0)
	if err != nil {
		return err // imageio's error names the file
	}
	// The demo's predictor: one encoder pass, readouts on the same taps
	// computed together.
	p := probe.NewPredictor(pe.enc)
	for _, t := range targets {
		if err := p.Add(t.String(), readouts[t]); err != nil {
			return err
		}
	}
	maps, err := p.Predict(nn.Data(x))
	if err != nil {
		return err
	}
	for _, t := range targets {
		r := readouts[t]
		sr, _ := posmap.ParseStripeRange(r.Meta.Stripes)
		gt := posmap.Map(t, r.Config.OutSize, posmap.Options{Stripes: sr})
		pred := maps[t.String()]
		lo, hi := 0.0, 1.0
		if t.IsStripes() && sr == posmap.StripesPM1 {
			lo = -1
		}
		for name, m := range map[string][]float32{"pred": pred, "gt": gt} {
			if err := writeMapPNG(filepath.Join(pf.out, fmt.Sprintf("%s_%s.png", t, name)), m, r.Config.OutSize, lo, hi); err != nil {
				return err
			}
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%-2s SPC %.3f MAE %.3f  -> %s\n", t, metric.Spearman(pred, gt), metric.MAE(pred, gt),
			filepath.Join(pf.out, t.String()+"_pred.png"))
	}
	return nil
}

// writeMapPNG writes a size x size map with values in [lo,hi] as a
// colour-mapped PNG, atomically.
func writeMapPNG(path string, m []float32, size int, lo, hi float64) error {
	img := colormap.Image(m, size, lo, hi)
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return png.Encode(w, img) })
}
