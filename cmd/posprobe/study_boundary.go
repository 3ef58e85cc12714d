package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/study"
	"github.com/posprobe/posprobe/core/study/boundary"
)

var boundaryCmd = &cobra.Command{
	Use:   "boundary",
	Short: "Position near the border: readout error by distance to the border, canvas colour, stride-2 asymmetry",
	Long: `boundary trains the paper's readout (H and G) on a frozen encoder for each
padding mode and reports its error and SPC in rings at increasing distance
from the image border, its SPC when the photo is shrunk onto a black, white,
gray or ImageNet-mean canvas (Islam et al., IJCV 2024), and the left/right
and top/bottom asymmetry of the zero-padded encoder's mean feature maps at
input sizes where stride-2 layers pad unevenly (Alsallakh et al., ICLR 2021).
Training photos come from --train-photos-dir (default
$POSPROBE_DATA/images/imagenet-sample), test photos from --photos (default
$POSPROBE_DATA/images/bsds500).`,
	Example: `  posprobe study boundary --json
  posprobe study boundary --paddings zero,none,full --sizes 224,225 --epochs 3`,
	Args: cobra.NoArgs,
	RunE: oneStudy(boundaryStudy),
}

var boundaryFlags struct {
	encoder, trainDir, sizes string
	nTrain, nTest, inner     int
}

func init() {
	f := boundaryCmd.Flags()
	bf := &boundaryFlags
	f.StringVar(&bf.encoder, "encoder", "squeezenet1.1", "encoder")
	addPaddingsFlag(f, boundaryPaddings)
	addInitFlag(f, "")
	addDataPhotosFlag(f, &bf.trainDir, "train-photos-dir", "readout training photos", "imagenet-sample")
	addPhotosFlag(f, "test photos")
	f.IntVar(&bf.nTrain, "n-train", 0, "training photos (default 100, --quick 3)")
	f.IntVar(&bf.nTest, "n-test", 0, "test photos (default 30, --quick 1)")
	f.IntVar(&bf.inner, "inner", 0, "side of the photo on a canvas (default 160, --quick 112)")
	f.StringVar(&bf.sizes, "sizes", "", "input sizes for the asymmetry (default 224,225,226,227; --quick 64,65)")
	studyCmd.AddCommand(boundaryCmd)
}

// boundaryPaddings are the padding modes the study compares by default.
var boundaryPaddings = []nn.PadMode{nn.PadZero, nn.PadNone, nn.PadFull, nn.PadReflect}

func boundaryConfig() (boundary.Config, error) {
	sf, bf := studyFlags, boundaryFlags
	c := boundary.Config{Encoder: bf.encoder, Init: encoder.InitImageNet, Paddings: boundaryPaddings, Epochs: 5,
		Targets: []posmap.Target{posmap.H, posmap.G}, Band: 8, Inner: 160, Sizes: []int{224, 225, 226, 227}, AsymPhotos: 20, Seed: sf.seed, DataDir: dataDir(),
		Canvases: []boundary.Canvas{{Name: "black"}, {Name: "white", Color: [3]float32{1, 1, 1}},
			{Name: "gray", Color: [3]float32{.5, .5, .5}}, {Name: "mean", Color: [3]float32{0.485, 0.456, 0.406}}}}
	nTrain, nTest := 100, 30
	if sf.quick {
		c.Init, c.Width, c.Paddings, c.Epochs, c.Targets, c.Inner, c.Sizes, c.AsymPhotos = encoder.InitRandom, 8, []nn.PadMode{nn.PadZero, nn.PadFull}, 1, []posmap.Target{posmap.H}, 112, []int{64, 65}, 1
		c.Canvases = c.Canvases[:2]
		nTrain, nTest = 3, 1
	}
	if err := studyInit(&c.Init); err != nil {
		return c, err
	}
	if err := studyPaddings(&c.Paddings); err != nil {
		return c, err
	}
	if bf.nTrain < 0 || bf.nTest < 0 || bf.inner < 0 || sf.epochs < 0 {
		return c, fmt.Errorf("--n-train, --n-test, --inner and --epochs must not be negative")
	}
	c.Epochs, c.Inner = orDefault(sf.epochs, c.Epochs), orDefault(bf.inner, c.Inner)
	var err error
	if bf.sizes != "" {
		if c.Sizes, err = parseInts(bf.sizes, func(v int) bool { return v >= 16 && v <= 1024 }, "--sizes: %q is not a size in 16..1024"); err != nil {
			return c, err
		}
	}
	nTrain, nTest = orDefault(bf.nTrain, nTrain), orDefault(bf.nTest, nTest)
	if sf.quick && bf.trainDir == "" && sf.photos != "" { // one small folder serves both
		ps, err := photoList("--photos", sf.photos, "bsds500", nTrain+nTest)
		if err != nil {
			return c, err
		}
		c.Train, c.Test = ps[:nTrain], ps[nTrain:]
		return c, nil
	}
	if c.Train, err = photoList("--train-photos-dir", bf.trainDir, "imagenet-sample", nTrain); err != nil {
		return c, err
	}
	c.Test, err = photoList("--photos", sf.photos, "bsds500", nTest)
	return c, err
}

// boundaryStudy runs the study as the flags configure it.
var boundaryStudy = withConfig(boundaryConfig, runBoundary)

func runBoundary(cmd *cobra.Command, c boundary.Config) (study.Outcome, error) {
	var canv []string
	for _, cv := range c.Canvases {
		canv = append(canv, cv.Name)
	}
	settings := map[string]string{
		"encoder":  fmt.Sprintf("%s (%s)", c.Encoder, c.Init),
		"paddings": joinNames(c.Paddings), "targets": joinNames(c.Targets),
		"photos (train/test)": fmt.Sprintf("%d from %s / %d from %s", len(c.Train), photoSource(c.Train), len(c.Test), photoSource(c.Test)),
		"readout epochs":      fmt.Sprint(c.Epochs), "canvases": fmt.Sprintf("%s, photo %d px", strings.Join(canv, ","), c.Inner),
		"asymmetry sizes": strings.Trim(fmt.Sprint(c.Sizes), "[]"), "band": fmt.Sprintf("%d px", c.Band), "seed": fmt.Sprint(c.Seed),
	}
	return runStudy(cmd, studyJob[*boundary.Result]{name: "boundary", title: "Boundary: position near the border, canvas colour and uneven padding",
		settings: settings, reuse: func(r *boundary.Result) bool { return r != nil },
		markdown: func(r *boundary.Result) string { return boundary.Markdown(c, r) },
		figure:   func(r *boundary.Result, p string) error { return saveChart(p)(boundary.Figure(r)) },
	}, func(ctx context.Context) (*boundary.Result, error) {
		progress, done := stageBars(cmd.ErrOrStderr(), "boundary", "photos")
		defer done()
		return boundary.Run(ctx, c, progress)
	})
}
