package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot/vg"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/study"
	"github.com/posprobe/posprobe/core/study/channels"
)

var channelsCmd = &cobra.Command{
	Use:   "channels",
	Short: "Which channels carry position: flipped-kernel and per-channel SPC rankings, top-k vs random-k ablation",
	Long: `channels ranks every readout input channel of a frozen encoder (all taps,
resized to 28x28) by the flipped-kernel difference of Islam, Kowal et al.
(ICCV 2021) — mean |features - features of the net with every conv kernel
mirrored| — and by its mean Spearman correlation with the H, V and G maps,
then zeroes the top-k channels of each ranking, and k random ones, before
the trained H, V and G readouts (--readouts, as 'posprobe train' names them)
and reports their SPC. A PermuteNet-style test then trains the readout on
features whose channels are shuffled by a new permutation for every image,
beside the same recipe on plain features. --shuffle-layer NAME permutes
the channels inside the encoder, at the input of the layers that produce
tap NAME, and scores the trained readouts with and without. --json prints
the rankings and curves.`,
	Example: `  posprobe study channels --json
  posprobe study channels --encoder squeezenet1.1 --padding none --photos $POSPROBE_DATA/images/bsds500
  posprobe study channels --shuffle-layer fire5 --shuffle-per image`,
	Args: cobra.NoArgs,
	RunE: oneStudy(channelsStudy),
}

var channelsFlags struct {
	encoder, padding, readouts string
	photos, shuffle            int
	shuffleLayer, shufflePer   string
}

func init() {
	f := channelsCmd.Flags()
	f.StringVar(&channelsFlags.encoder, "encoder", "squeezenet1.1", "encoder")
	f.StringVar(&channelsFlags.padding, "padding", "zero", "encoder padding mode")
	f.StringVar(&channelsFlags.readouts, "readouts", "weights/readouts", "folder of trained readouts (<encoder>_<init>_<padding>_<target>.readout)")
	f.IntVar(&channelsFlags.photos, "n-photos", 0, "photos to average over (default 30, --quick 3)")
	f.IntVar(&channelsFlags.shuffle, "shuffle-train", 60, "training photos (from $POSPROBE_DATA/images/imagenet-sample) for the channel-shuffle test; 0 skips it")
	f.StringVar(&channelsFlags.shuffleLayer, "shuffle-layer", "", "PermuteNet-style: permute the channels at the input of this tap's layers inside the encoder (squeezenet1.1: conv1, fire3, fire5, fire7, fire9) and report the readouts' SPC with and without")
	f.StringVar(&channelsFlags.shufflePer, "shuffle-per", "image", "with --shuffle-layer: a new permutation per image or per position (pixel)")
	addPhotosFlag(f, "photo folder, searched recursively")
	addInitFlag(f, "random, reduced width, readouts trained on the photos")
	studyCmd.AddCommand(channelsCmd)
}

func channelsConfig() (channels.Config, error) {
	sf, cf := studyFlags, channelsFlags
	c := channels.Config{Encoder: cf.encoder, Init: encoder.InitImageNet, Ks: []int{0, 16, 32, 64, 128, 256, 512},
		RandomRepeats: 3, Seed: sf.seed, DataDir: dataDir(), ShuffleLayer: cf.shuffleLayer, ShufflePer: cf.shufflePer}
	if cf.shufflePer != "image" && cf.shufflePer != "position" {
		return c, fmt.Errorf("--shuffle-per: %q is not image or position", cf.shufflePer)
	}
	var err error
	if c.Padding, err = nn.ParsePadMode(cf.padding); err != nil {
		return c, fmt.Errorf("--padding: %w", err)
	}
	n := 30
	if sf.quick {
		c.Init, c.Width, c.Ks, c.RandomRepeats, c.TrainEpochs, n = encoder.InitRandom, 8, []int{0, 4, 8}, 1, 2, 3
	}
	if err := studyInit(&c.Init); err != nil {
		return c, err
	}
	if cf.photos < 0 {
		return c, fmt.Errorf("--n-photos must not be negative")
	}
	n = orDefault(cf.photos, n)
	photos, err := photoList("--photos", sf.photos, "bsds500", n)
	if err != nil {
		return c, err
	}
	c.Photos = photos
	if cf.shuffle < 0 {
		return c, fmt.Errorf("--shuffle-train must not be negative")
	}
	if sf.quick {
		if cf.shuffle > 0 {
			c.ShuffleTrain, c.ShuffleEpochs = c.Photos, 1
		}
		return c, nil
	}

	c.Readouts = map[string]*readout.Readout{}
	for _, t := range []posmap.Target{posmap.H, posmap.V, posmap.G} {
		path := filepath.Join(cf.readouts, readout.FileName(c.Encoder, c.Init, c.Padding, t))
		r, err := loadReadoutFile(path)
		if err != nil {
			return c, fmt.Errorf("--readouts: %w (train one with 'posprobe train --encoder %s --padding %s')", err, c.Encoder, c.Padding)
		}
		c.Readouts[t.String()] = r
	}
	if cf.shuffle > 0 {
		if c.ShuffleTrain, err = photoList("--shuffle-train", "", "imagenet-sample", cf.shuffle); err != nil {
			return c, err
		}
		c.ShuffleEpochs = 5
	}
	return c, nil
}

// channelsStudy runs the study as the flags configure it.
var channelsStudy = withConfig(channelsConfig, runChannels)

func runChannels(cmd *cobra.Command, c channels.Config) (study.Outcome, error) {
	settings := map[string]string{
		"encoder": fmt.Sprintf("%s (%s, %s padding)", c.Encoder, c.Init, c.Padding), "photos": fmt.Sprintf("%d from %s", len(c.Photos), photoSource(c.Photos)),
		"k": strings.Trim(fmt.Sprint(c.Ks), "[]"), "random draws": fmt.Sprint(c.RandomRepeats), "seed": fmt.Sprint(c.Seed),
		"shuffle test": fmt.Sprintf("%d training photos, %d epochs", len(c.ShuffleTrain), c.ShuffleEpochs),
	}
	if c.ShuffleLayer != "" {
		settings["shuffle before layer"] = fmt.Sprintf("%s, a permutation per %s", c.ShuffleLayer, c.ShufflePer)
	}
	return runStudy(cmd, studyJob[*channels.Result]{name: "channels", title: "Channels: where position lives in the features",
		settings: settings, reuse: func(r *channels.Result) bool { return r != nil },
		markdown: channels.Markdown,
		figure:   func(r *channels.Result, p string) error { return channels.SaveFigure(r, 10*vg.Inch, 3.6*vg.Inch, p) },
	}, func(ctx context.Context) (*channels.Result, error) {
		progress, done := stageBars(cmd.ErrOrStderr(), "channels", "steps")
		defer done()
		return channels.Run(ctx, c, progress)
	})
}
