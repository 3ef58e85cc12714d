package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/experiment"
	"github.com/posprobe/posprobe/core/experiment/figures"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/internal/atomicfile"
)

var reproFlags struct {
	train, test, out, tables, stripes, readouts string
	quick, noFigures                            bool
	epochs, deepImages, maxTrain, maxTest       int
	width                                       int
	seed                                        uint64
	maxFeatureGB                                float64
}

// Quick mode: enough to run every table end to end in minutes.
const (
	quickTrain  = 24
	quickTest   = 12
	quickEpochs = 2
	quickDeep   = 1
)

var reproduceCmd = &cobra.Command{
	Use:   "reproduce [--out results/] [--quick] [--tables 1,2a,2b,3,4]",
	Short: "Re-measure the paper's Tables 1-4 and write a report with the paper's numbers beside ours",
	Long: `reproduce runs every row of the paper's Tables 1-4 (encoders, readout depth and
kernel, single taps, padding) with the official readout recipe, and writes to
--out: report.md (ours beside the paper's), results.json, results.csv,
figures/ (SPC bar charts, predicted-map grids) and cache/ (one JSON per
finished row, the trained readouts). Rows sharing an encoder pass share one feature extraction;
each readout is trained once and cached in --out/cache. A restart skips the
rows already in cache/rows/ (same data and recipe only). Rows that cannot run —
missing ImageNet weights, readouts too heavy for a CPU run — are listed
with the reason.

Training photos default to $POSPROBE_DATA/images/imagenet-sample, test
photos to $POSPROBE_DATA/images/bsds500 (searched recursively).

--quick uses 24 training and 12 test photos, 2 epochs and 1 photo for the
full-width deep readouts: every table end to end in a few minutes, numbers
meaningless.`,
	Example: `  posprobe reproduce --data ../shared/data --out results/ --readouts weights/readouts
  posprobe reproduce --quick --out /tmp/quick`,
	Args: cobra.NoArgs,
	RunE: runReproduce,
}

func init() {
	f := reproduceCmd.Flags()
	rf := &reproFlags
	addDataPhotosFlag(f, &rf.train, "train", "training photos", "imagenet-sample")
	addDataPhotosFlag(f, &rf.test, "test", "test photos, searched recursively", "bsds500")
	f.StringVar(&rf.out, "out", "results", "results folder")
	f.StringVar(&rf.tables, "tables", "", "comma-separated tables to run: 1, 2a, 2b, 3, 4 (default all)")
	f.BoolVar(&rf.quick, "quick", false, "few photos and epochs: checks that every table runs, not the numbers")
	f.IntVar(&rf.epochs, "epochs", 0, "training epochs (default 15, --quick 2)")
	f.Uint64Var(&rf.seed, "seed", 0, "seed of random-init encoders and of the readouts (readout seed = seed*8 + target index)")
	f.IntVar(&rf.deepImages, "deep-images", 0, "training photos for readouts with full-width hidden layers on an encoder (0: mark those rows unavailable)")
	f.IntVar(&rf.maxTrain, "max-train", 0, "use at most this many training photos (0: all)")
	f.IntVar(&rf.maxTest, "max-test", 0, "use at most this many test photos (0: all)")
	f.StringVar(&rf.stripes, "stripes", "01", "HS/VS target range: 01 or pm1")
	f.StringVar(&rf.readouts, "readouts", "", "also write Table 1's readouts here for the demo (e.g. weights/readouts)")
	f.BoolVar(&rf.noFigures, "no-figures", false, "skip the figures")
	f.Float64Var(&rf.maxFeatureGB, "max-feature-gb", 8, "memory for one encoder pass's cached features; encoders with more channels train on fewer photos (0: no limit)")
	limitFlag(f, "epochs", 0, 10000, false)
	limitFlag(f, "deep-images", 0, 1e7, false)
	limitFlag(f, "max-train", 0, 1e7, false)
	limitFlag(f, "max-test", 0, 1e7, false)
	limitFlag(f, "max-feature-gb", 0, 1e4, false)
	f.IntVar(&rf.width, "width", 0, "encoder base width (0 = standard networks; reduced widths are for tests)")
	f.MarkHidden("width")
	rootCmd.AddCommand(reproduceCmd)
}

func runReproduce(cmd *cobra.Command, _ []string) error {
	rf := reproFlags
	errw := cmd.ErrOrStderr()
	data := dataDir()
	if rf.train == "" || rf.test == "" {
		if data == "" {
			return fmt.Errorf("no data: set --data or POSPROBE_DATA, or give --train and --test")
		}
		if rf.train == "" {
			rf.train = filepath.Join(data, "images", "imagenet-sample")
		}
		if rf.test == "" {
			rf.test = filepath.Join(data, "images", "bsds500")
		}
	}
	stripes, err := posmap.ParseStripeRange(rf.stripes)
	if err != nil {
		return err
	}
	if rf.epochs < 0 || rf.maxTrain < 0 || rf.maxTest < 0 || rf.deepImages < 0 || rf.width < 0 || rf.maxFeatureGB < 0 {
		return fmt.Errorf("--epochs, --deep-images, --max-train, --max-test, --max-feature-gb and --width must not be negative")
	}
	var tables []string
	if rf.tables != "" {
		for _, t := range strings.Split(rf.tables, ",") {
			tables = append(tables, strings.TrimSpace(t))
		}
	}
	if _, err := experiment.SelectTables(tables); err != nil {
		return fmt.Errorf("--tables: %w", err)
	}
	cfg := experiment.RunConfig{DataDir: data, TrainDir: rf.train, TestDir: rf.test, Out: rf.out, Tables: tables,
		Epochs: rf.epochs, Seed: rf.seed, MaxTrain: rf.maxTrain, MaxTest: rf.maxTest, DeepImages: rf.deepImages,
		Stripes: stripes, Width: rf.width, DemoDir: rf.readouts, FigureImages: 2, Quick: rf.quick, MaxFeatureBytes: int64(rf.maxFeatureGB * 1e9),
		Command: "posprobe " + strings.Join(os.Args[1:], " ")}
	if rf.quick {
		cfg.MaxTrain, cfg.MaxTest = orDefault(rf.maxTrain, quickTrain), orDefault(rf.maxTest, quickTest)
		cfg.Epochs, cfg.DeepImages = orDefault(rf.epochs, quickEpochs), orDefault(rf.deepImages, quickDeep)
	}
	if rf.width > 0 {
		cfg.Notes = append(cfg.Notes, fmt.Sprintf("Encoders at reduced base width %d (a test run).", rf.width))
	}
	if !rf.quick {
		cfg.Notes = append(cfg.Notes, fmt.Sprintf("Test photos: %s; black, white and noise are single images, so their columns are one sample each.", rf.test))
	}
	ctx, stop := interruptible(context.Background())
	defer stop()

	pr := &reproProgress{w: errw}
	cfg.Progress = pr.update
	cfg.Log = func(s string) { pr.clear(); fmt.Fprintln(errw, s) }
	rep, runErr := experiment.Run(ctx, cfg)
	pr.clear()
	if rep == nil {
		return runErr
	}
	if mb, ok := peakRSSMB(); ok {
		rep.Info.PeakRSSMB = mb // this process's peak: the rows it ran, not those resumed
	}
	if err := writeReport(rep, rf.out, !rf.noFigures, errw); err != nil {
		return err
	}
	if rf.quick && runErr == nil { // the follow-up studies, quick, into --out/beyond.md
		if err := quickStudies(cmd, rf.out, rf.train); err != nil {
			return err
		}
	}
	if runErr != nil {
		return fmt.Errorf("%w (the rows finished so far are in %s; run the same command again to go on)", runErr, rf.out)
	}
	if m := rep.Missing(); len(m) > 0 {
		return fmt.Errorf("rows without a result: %s", strings.Join(m, ", "))
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d rows in %s\n", filepath.Join(rf.out, "report.md"), len(rep.Rows), time.Duration(rep.Info.Seconds*float64(time.Second)).Round(time.Second))
	return nil
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// writeReport writes report.md, results.json, results.csv and the figures.
func writeReport(rep *experiment.Report, out string, figs bool, errw io.Writer) error {
	if figs {
		files, err := figures.WriteAll(rep, out, filepath.Join(out, "figures"))
		if err != nil {
			return err
		}
		if len(files) > 0 {
			var rel []string
			for _, f := range files {
				if r, err := filepath.Rel(out, f); err == nil && strings.HasSuffix(r, ".png") {
					rel = append(rel, r)
				}
			}
			rep.Info.Figures = rel
		}
	}
	for _, w := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"report.md", rep.WriteMarkdown},
		{"results.json", rep.WriteJSON},
		{"results.csv", rep.WriteCSV},
	} {
		if err := atomicfile.Write(filepath.Join(out, w.name), 0o644, w.write); err != nil {
			return err
		}
	}
	return nil
}

// reproProgress shows one progress bar per stage (extraction of a set,
// training of a row), with its ETA.
type reproProgress struct {
	w     io.Writer
	stage string
	bar   *progressbar.ProgressBar
	done  int
}

func (p *reproProgress) update(e experiment.Progress) {
	if e.Stage != p.stage || p.bar == nil {
		p.clear()
		p.stage = e.Stage
		p.bar = newBar(p.w, e.Total, "", e.Unit)
		p.done = 0
	}
	p.bar.Describe(fmt.Sprintf("[row %d/%d] %s", e.RowsDone+1, e.Rows, e.Desc))
	if e.Done > p.done {
		p.bar.Add(e.Done - p.done)
		p.done = e.Done
	}
}

func (p *reproProgress) clear() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
	p.stage = ""
}
