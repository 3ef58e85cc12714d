package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
)

var trainFlags struct {
	probeFlags
	images, testImgs   string
	out, stripes       string
	epochs, batch      int
	kernel, pad, depth int
	lr                 float64
	readoutSeed        uint64
	recursive          bool
}

var trainCmd = &cobra.Command{
	Use:   "train --encoder NAME --images DIR --out PATH|DIR",
	Short: "Train position readouts on a frozen encoder's features",
	Long: `train runs the encoder once over --images (every .jpg/.jpeg/.png, resized to
224x224), keeps the readout's 28x28 features in memory, and trains one
independent readout per target with the official recipe: SGD lr 0.1
(x0.1 from epoch 10), momentum 0.9, weight decay 1e-4, batch 32, 15 epochs,
mean MSE against the 224x224 ground-truth map. Unreadable files are skipped,
listed by name and counted.

--target all (default) trains H, V, G, HS and VS; --out is then a folder and
each readout is written as <encoder>_<init>_<padding>_<target>.readout (the
names 'posprobe eval' and the demo look for). For one target --out may be a
file. After every epoch the readout is saved through a temporary file and a
rename, so Ctrl-C keeps the last finished epoch. With --test-images the
readouts are scored (SPC, MAE) and the scores stored in their headers.

The readout seed (init and shuffling) is --readout-seed*8 + target index
(H=0 .. VS=4); --seed is the encoder's seed for --init random.`,
	Example: `  posprobe train --encoder squeezenet1.1 --images $POSPROBE_DATA/images/imagenet-sample \
      --test-images $POSPROBE_DATA/images/bsds500 --out weights/readouts/
  posprobe train --encoder none --target H --kernel 7 --epochs 5 --images photos/ --out h7.readout`,
	RunE: runTrain,
}

func init() {
	f := trainCmd.Flags()
	tf := &trainFlags
	d, r := readout.DefaultTrainOptions(), readout.DefaultConfig()
	f.StringVar(&tf.images, "images", "", "training images folder")
	f.StringVar(&tf.testImgs, "test-images", "", "test images folder (or black, white, noise) scored after training")
	f.BoolVar(&tf.recursive, "recursive", true, "also take images from subfolders")
	f.StringVar(&tf.out, "out", "", "output readout file (one target) or folder")
	f.IntVar(&tf.epochs, "epochs", d.Epochs, "training epochs")
	f.Float64Var(&tf.lr, "lr", d.LR, "initial learning rate (x0.1 from epoch 10)")
	f.IntVar(&tf.batch, "batch", d.Batch, "batch size")
	f.IntVar(&tf.kernel, "kernel", r.Kernel, "readout conv kernel: 1, 3, 5 or 7")
	f.IntVar(&tf.pad, "pad", r.Pad, "readout conv zero padding")
	f.IntVar(&tf.depth, "depth", r.Depth, "readout conv layers (hidden ones keep all channels, with BN+ReLU)")
	limitFlag(f, "epochs", 1, 10000, false)
	limitFlag(f, "lr", 0, 100, true)
	limitFlag(f, "batch", 1, 65536, false)
	limitFlag(f, "kernel", 1, 7, false)
	limitFlag(f, "pad", 0, 8, false)
	limitFlag(f, "depth", 1, 8, false)
	f.StringVar(&tf.stripes, "stripes", "01", "HS/VS target range: 01 or pm1")
	f.Uint64Var(&tf.readoutSeed, "readout-seed", 0, "seed of the readout init and shuffling")
	addProbeCommand(trainCmd, &tf.probeFlags, "images", "out")
}

func runTrain(cmd *cobra.Command, _ []string) error {
	tf := trainFlags
	errw := cmd.ErrOrStderr()
	targets, err := parseTargets(tf.target)
	if err != nil {
		return err
	}
	stripes, err := posmap.ParseStripeRange(tf.stripes)
	if err != nil {
		return err
	}
	cfg := readout.DefaultConfig()
	cfg.Kernel, cfg.Pad, cfg.Depth = tf.kernel, tf.pad, tf.depth
	if err := cfg.Validate(); err != nil {
		return err
	}
	if tf.epochs < 1 || tf.batch < 1 || !(tf.lr > 0) {
		return fmt.Errorf("--epochs, --batch and --lr must be positive")
	}
	pe, err := tf.enc.build()
	if err != nil {
		return err
	}
	// Output paths.
	outPath := func(t posmap.Target) string {
		return filepath.Join(tf.out, readout.FileName(tf.enc.name, pe.init, pe.pad, t))
	}
	if st, err := os.Stat(tf.out); len(targets) == 1 && !strings.HasSuffix(tf.out, "/") && (err != nil || !st.IsDir()) {
		outPath = func(posmap.Target) string { return tf.out }
	}
	sel, err := readout.SelectTaps(pe.taps, tf.enc.tapFilter())
	if err != nil {
		return err
	}
	for _, k := range sel {
		cfg.Taps = append(cfg.Taps, pe.taps[k])
	}
	set, err := openImageSet("images", tf.images, tf.recursive)
	if err != nil {
		return err
	}
	if set.Paths == nil {
		return fmt.Errorf("--images %s: train on a folder of photos", tf.images)
	}
	// What is needed after training is checked before it: the test set
	// and that every output can be written.
	var tset *probe.Images
	if tf.testImgs != "" {
		if tset, err = openImageSet("test-images", tf.testImgs, tf.recursive); err != nil {
			return err
		}
	}
	for _, t := range targets {
		if err := checkWritable(outPath(t)); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	tty := isTerminal(errw)
	ctx, stop := interruptible(context.Background())
	defer stop()

	// Features once, shared by every target.
	start := time.Now()
	bar := newBar(errw, set.Len(), "features "+pe.enc.Name(), "img")
	feats, skipped, err := extract(ctx, pe, set, sel, cfg.Size, bar, 0, errw)
	bar.Finish()
	if err != nil {
		return err
	}
	unreadable := ""
	if len(skipped) > 0 {
		unreadable = fmt.Sprintf(" (%d unreadable skipped)", len(skipped))
	}
	nImages, nc, _, _ := nn.Dims4(feats)
	fmt.Fprintf(errw, "features: %d images%s, %d channels at %dx%d, %.1f s (%.1f img/s), %.0f MB\n", nImages, unreadable, nc, cfg.Size, cfg.Size,
		time.Since(start).Seconds(), float64(nImages)/time.Since(start).Seconds(), float64(4*feats.Len())/1e6)

	trained := map[posmap.Target]*readout.Readout{}
	for _, t := range targets {
		gt := posmap.Map(t, cfg.OutSize, posmap.Options{Stripes: stripes})
		meta := readout.Meta{Encoder: pe.enc.Name(), Init: pe.init, Seed: tf.enc.seed, Padding: pe.pad,
			Normalize: tf.enc.normalize, InputSize: probe.InputSize,
			Target: t, Stripes: stripes.String(), Training: readout.TrainSummary{Images: tf.images}}
		path := outPath(t)
		opts := readout.TrainOptions{Epochs: tf.epochs, LR: tf.lr, Batch: tf.batch, Seed: probe.ReadoutSeed(tf.readoutSeed, t),
			Checkpoint: func(r *readout.Readout, done int) error {
				r.Meta = mergeMeta(meta, r.Meta.Training) // the recipe too (lr, batch, momentum, wd)
				return saveReadout(path, r)
			}}
		steps := (nImages + tf.batch - 1) / tf.batch
		tbar := newBar(errw, tf.epochs*steps, fmt.Sprintf("train %-2s", t), "batch")
		tstart := time.Now()
		r, err := readout.Train(ctx, cfg, feats, gt, opts, func(p readout.Progress) {
			tbar.Describe(fmt.Sprintf("train %-2s epoch %d/%d loss %.5f", t, p.Epoch+1, p.Epochs, p.Loss))
			tbar.Add(1)
			if !tty && p.Step == p.Steps {
				fmt.Fprintf(errw, "train %s epoch %d/%d: loss %.5f (lr %.6g)\n", t, p.Epoch+1, p.Epochs, p.Loss, p.LR)
			}
		})
		tbar.Finish()
		if errors.Is(err, context.Canceled) {
			if r != nil {
				return fmt.Errorf("interrupted: %s keeps target %s after %d of %d epochs", path, t, r.Meta.Training.EpochsDone, tf.epochs)
			}
			return fmt.Errorf("interrupted before the first epoch of target %s finished", t)
		}
		if err != nil {
			return err
		}
		r.Meta = mergeMeta(meta, r.Meta.Training)
		if err := saveReadout(path, r); err != nil {
			return err
		}
		fmt.Fprintf(errw, "%s: final train MSE %.5f, %.1f s/epoch -> %s\n", t, r.Meta.Training.FinalLoss,
			time.Since(tstart).Seconds()/float64(tf.epochs), path)
		trained[t] = r
	}
	if tf.testImgs == "" {
		return nil
	}
	feats = nil // let the training cache go before testing
	res, err := scoreSet(ctx, pe, trained, targets, tset, errw)
	if err != nil {
		return err
	}
	key := filepath.Base(filepath.Clean(tf.testImgs))
	for _, t := range targets {
		r := trained[t]
		probe.StoreScore(&r.Meta, key, res.scores[t])
		if err := saveReadout(outPath(t), r); err != nil {
			return err
		}
	}
	return printScores(cmd.OutOrStdout(), pe, targets, res, false)
}

// mergeMeta puts Train's recipe summary into the run's metadata.
func mergeMeta(m readout.Meta, tr readout.TrainSummary) readout.Meta {
	tr.Images = m.Training.Images
	m.Training = tr
	return m
}
