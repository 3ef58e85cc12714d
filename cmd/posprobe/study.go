package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/study"
	"github.com/posprobe/posprobe/core/study/grid"
	"github.com/posprobe/posprobe/core/study/redgreen"
)

var studyCmd = &cobra.Command{
	Use:   "study NAME",
	Short: "Run a follow-up study of position information (channels, grid, boundary, redgreen, all)",
	Long: `study runs the experiments that came after the paper, at a scale a CPU affords.
Each study has --json (results on stdout), --quick (seconds; used by the
tests), --out (figures and a JSON record) and a progress bar on a terminal.

  grid      Islam, Kowal et al. (ICCV 2021, GAPNet): a photo in one cell of
            a 3x3 canvas, a frozen encoder, global average pooling of every
            tap, a softmax classifier for the cell; accuracy per encoder and
            padding mode.
  redgreen  Kayhan & van Gemert (CVPR 2020): a 4-layer CNN with global max
            pooling, trained from scratch with valid, same-zero,
            same-circular and full convolutions, tested on Similar and
            location-swapped Dissimilar images.
  channels  Islam, Kowal et al. (ICCV 2021): readout channels ranked by the
            flipped-kernel difference and by per-channel SPC, the trained
            readouts' SPC as the top-k or k random channels are zeroed, and
            a PermuteNet-style shuffle of the readout's input channels.
  boundary  Islam et al. (IJCV 2024) and Alsallakh et al. (ICLR 2021):
            readout error by distance to the border per padding mode, the
            canvas colour around a shrunken photo, and the mirror asymmetry
            of mean feature maps at 224, 225, 226 and 227 pixels.
  all       every study, and --out/beyond.md with the papers' numbers
            beside ours (make reproduce-beyond).`,
	Example: `  posprobe study redgreen --json
  posprobe study boundary --paddings zero,none,full --sizes 224,225
  posprobe study channels --padding zero --readouts weights/readouts
  posprobe study grid --encoders squeezenet1.1 --paddings zero,none,full --canvas white
  posprobe study redgreen --quick --out /tmp/rg
  posprobe study all --out results`,
}

var studyFlags struct {
	quick, asJSON bool
	rerun         bool
	out           string
	repeats       int
	epochs        int
	seed          uint64
	kinds, widths string
	encoders      string
	init          string
	paddings      string
	photos        string
	trainPhotos   int
	testPhotos    int
	cell          int
	canvas        string
}

var redgreenCmd = &cobra.Command{
	Use:   "redgreen",
	Short: "Red/green location experiment: valid, same-zero, same-circular and full convolutions",
	Long: `redgreen trains the red/green CNN of Kayhan & van Gemert (CVPR 2020) from
scratch for each convolution kind and tests it on the Similar and the
location-swapped Dissimilar sets. --json prints a list of
{"conv", "test", "accuracy", "std", "per_seed", "paper", ...}. The defaults follow
the official script (2000/1000/1000 images of 32x32, Adadelta, batch 200,
early stopping on the validation loss) scaled to a shared CPU: widths
16,16,32,32 instead of 32,32,64,64, at most 30 epochs instead of 50, 3 seeds
instead of 10.`,
	Example: `  posprobe study redgreen --json
  posprobe study redgreen --kinds same-zero,full --repeats 1 --out /tmp/rg`,
	Args: cobra.NoArgs,
	RunE: oneStudy(redGreenStudy),
}

var studyAllCmd = &cobra.Command{
	Use:     "all",
	Short:   "Run every study and write --out/beyond.md",
	Example: `  posprobe study all --out results`,
	Args:    cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		if studyFlags.out == "" {
			return fmt.Errorf("--out: give the folder for beyond.md")
		}
		outs, err := allStudies(cmd)
		if err != nil {
			return err
		}
		return finishStudy(cmd, outs, true)
	},
}

// allStudies runs every study with the current flags.
func allStudies(cmd *cobra.Command) ([]study.Outcome, error) {
	var outs []study.Outcome
	for _, run := range []studyRunner{redGreenStudy, gridStudy, channelsStudy, boundaryStudy} {
		o, err := run(cmd)
		if err != nil {
			return outs, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// quickStudies runs every study in quick mode and writes out/beyond.md
// beside the quick reproduction (reproduce --quick), so the tests check the
// studies' report end to end.
func quickStudies(cmd *cobra.Command, out, photos string) error {
	saved, savedC, savedB := studyFlags, channelsFlags, boundaryFlags
	defer func() { studyFlags, channelsFlags, boundaryFlags = saved, savedC, savedB }()
	channelsFlags.photos, channelsFlags.shuffle = 0, 60
	boundaryFlags.trainDir, boundaryFlags.sizes, boundaryFlags.nTrain, boundaryFlags.nTest, boundaryFlags.inner = "", "", 0, 0, 0
	studyFlags.quick, studyFlags.asJSON, studyFlags.out = true, false, out
	studyFlags.repeats, studyFlags.epochs, studyFlags.kinds, studyFlags.widths = 0, 0, "", ""
	studyFlags.encoders, studyFlags.init, studyFlags.paddings, studyFlags.photos = "", "", "", photos
	studyFlags.trainPhotos, studyFlags.testPhotos, studyFlags.cell, studyFlags.canvas = 0, 0, 0, "black"
	outs, err := allStudies(cmd)
	if err != nil {
		return fmt.Errorf("studies: %w", err)
	}
	return finishStudy(cmd, outs, true)
}

func init() {
	pf := studyCmd.PersistentFlags()
	sf := &studyFlags
	pf.BoolVar(&sf.quick, "quick", false, "tiny sets and few epochs: checks that the study runs, not the numbers")
	pf.BoolVar(&sf.asJSON, "json", false, "print the results as JSON on stdout")
	pf.StringVar(&sf.out, "out", "", "folder for figures and the JSON record (all: also beyond.md)")
	pf.IntVar(&sf.repeats, "repeats", 0, "seeds per setting (default 3, --quick 1)")
	pf.IntVar(&sf.epochs, "epochs", 0, "training epochs (redgreen: at most, default 30, --quick 4; boundary: readout epochs, default 5)")
	pf.Uint64Var(&sf.seed, "seed", 0, "first seed")
	pf.BoolVar(&sf.rerun, "rerun", false, "with --out: run again even where --out/beyond/NAME.json has results for the same settings")
	redgreenCmd.Flags().StringVar(&sf.kinds, "kinds", "", "comma-separated convolutions (default valid,same-zero,same-circular,full)")
	redgreenCmd.Flags().StringVar(&sf.widths, "widths", "", "comma-separated conv widths (default 16,16,32,32; the paper 32,32,64,64; --quick 8,8,16,16)")
	gf := gridCmd.Flags()
	gf.StringVar(&sf.encoders, "encoders", "", "comma-separated encoders (default squeezenet1.1)")
	addInitFlag(gf, "random, reduced width")
	addPaddingsFlag(gf, grid.Default().Paddings)
	addPhotosFlag(gf, "photo folder, searched recursively")
	gf.IntVar(&sf.trainPhotos, "train-photos", 0, "training photos (default 40, --quick 3); each gives 9 canvases")
	gf.IntVar(&sf.testPhotos, "test-photos", 0, "test photos (default 20, --quick 1)")
	gf.IntVar(&sf.cell, "cell", 0, "cell side in pixels; the canvas is 3 cells (default 74, --quick 24)")
	gf.StringVar(&sf.canvas, "canvas", "black", "canvas colour: black, white, gray, mean (ImageNet mean) or R,G,B in 0..255")
	studyCmd.AddCommand(redgreenCmd, gridCmd, studyAllCmd)
	rootCmd.AddCommand(studyCmd)
}

// studyConfig applies the shared flags to the red/green configuration.
func redGreenConfig() (redgreen.Config, error) {
	sf := studyFlags
	c := redgreen.Default()
	if sf.quick {
		c = redgreen.Quick()
	}
	if sf.repeats < 0 || sf.epochs < 0 {
		return c, fmt.Errorf("--repeats and --epochs must not be negative")
	}
	if sf.repeats > 0 {
		c.Repeats = sf.repeats
	}
	if sf.epochs > 0 {
		c.Epochs = sf.epochs
	}
	c.Seed = sf.seed
	if sf.kinds != "" {
		c.Kinds = splitList(sf.kinds)
		for _, k := range c.Kinds {
			if err := redgreen.CheckKind(k); err != nil {
				return c, fmt.Errorf("--kinds: %w", err)
			}
		}
	}
	if sf.widths != "" {
		var err error
		if c.Widths, err = parseInts(sf.widths, func(v int) bool { return v >= 1 }, "--widths: %q is not a positive integer"); err != nil {
			return c, err
		}
	}
	return c, nil
}

// redGreenStudy runs the study as the flags configure it.
var redGreenStudy = withConfig(redGreenConfig, runRedGreen)

func runRedGreen(cmd *cobra.Command, c redgreen.Config) (study.Outcome, error) {
	settings := map[string]string{
		"images (train/val/test)": fmt.Sprintf("%d/%d/%d", c.Train, c.Val, c.Test),
		"widths":                  fmt.Sprint(c.Widths), "seeds": fmt.Sprintf("%d from %d", c.Repeats, c.Seed),
		"epochs": fmt.Sprintf("<= %d, early stop after %d without improvement", c.Epochs, c.Patience+1),
	}
	return runStudy(cmd, studyJob[[]redgreen.Result]{name: "redgreen", title: "Red/green: which convolution exploits absolute location",
		settings: settings, reuse: func(rs []redgreen.Result) bool { return sameKinds(rs, c.Kinds) },
		markdown: func(rs []redgreen.Result) string { return redgreen.Markdown(c, rs) },
		figure:   func(rs []redgreen.Result, p string) error { return saveChart(p)(redgreen.Figure(c, rs)) },
	}, func(ctx context.Context) ([]redgreen.Result, error) {
		bar := newBar(cmd.ErrOrStderr(), len(c.Kinds)*c.Repeats*c.Epochs, "redgreen", "epochs")
		defer bar.Finish()
		last := map[string]int{}
		return redgreen.Run(ctx, c, func(kind string, r, ep int) {
			key := fmt.Sprintf("%s/%d", kind, r)
			bar.Describe(fmt.Sprintf("redgreen %s seed %d", kind, c.Seed+uint64(r)))
			bar.Add(ep - last[key])
			last[key] = ep
		})
	})
}

// cachedOutcome loads --out/beyond/NAME.json when it was written with the
// same settings by a full (not --quick) run, unless --rerun; its results
// are decoded into results.
func cachedOutcome(name string, settings map[string]string, results any) (study.Outcome, bool) {
	sf := studyFlags
	if sf.out == "" || sf.quick || sf.rerun {
		return study.Outcome{}, false
	}
	b, err := os.ReadFile(filepath.Join(sf.out, "beyond", name+".json"))
	if err != nil {
		return study.Outcome{}, false
	}
	var o struct {
		study.Outcome
		Raw json.RawMessage `json:"results"`
	}
	if json.Unmarshal(b, &o) != nil || !maps.Equal(o.Settings, settings) || json.Unmarshal(o.Raw, results) != nil {
		return study.Outcome{}, false
	}
	return o.Outcome, true
}

func sameKinds(rs []redgreen.Result, kinds []string) bool {
	if len(rs) != 2*len(kinds) {
		return false
	}
	for i, k := range kinds {
		if rs[2*i].Conv != k || rs[2*i+1].Conv != k {
			return false
		}
	}
	return true
}

// dataRel names a folder under the data folder as $POSPROBE_DATA/..., so
// records and their settings do not depend on where the data lives.
func dataRel(dir string) string {
	d, err1 := filepath.Abs(dataDir())
	a, err2 := filepath.Abs(dir)
	if dataDir() != "" && err1 == nil && err2 == nil {
		if r, err := filepath.Rel(d, a); err == nil && !strings.HasPrefix(r, "..") {
			return filepath.Join("$POSPROBE_DATA", r)
		}
	}
	return dir
}

// loadAverage is the 1-minute load average ("" where /proc is absent).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return fmt.Sprintf("%s on %d CPUs", f[0], runtime.NumCPU())
}

// finishStudy prints the JSON or a short summary, and writes the JSON
// record (and, for all, beyond.md) under --out.
func finishStudy(cmd *cobra.Command, outs []study.Outcome, report bool) error {
	sf := studyFlags
	stdout := cmd.OutOrStdout()
	if sf.out != "" {
		for _, o := range outs {
			b, err := json.MarshalIndent(o, "", "  ")
			if err != nil {
				return err
			}
			if err := writeFileAtomic(filepath.Join(sf.out, "beyond", o.Name+".json"), append(b, '\n')); err != nil {
				return err
			}
		}
		if report {
			var md strings.Builder
			info := study.Info{Command: "posprobe " + strings.Join(os.Args[1:], " "), GoVersion: runtime.Version(),
				Threads: runtime.GOMAXPROCS(0), Quick: sf.quick, Started: time.Now()}
			if err := study.WriteMarkdown(&md, info, outs); err != nil {
				return err
			}
			if err := writeFileAtomic(filepath.Join(sf.out, "beyond.md"), []byte(md.String())); err != nil {
				return err
			}
		}
	}
	if sf.asJSON {
		var all []any
		for _, o := range outs {
			all = append(all, o.Results)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if len(all) == 1 {
			return enc.Encode(all[0])
		}
		return enc.Encode(all)
	}
	for _, o := range outs {
		summarize(stdout, o)
	}
	return nil
}

func summarize(w io.Writer, o study.Outcome) {
	fmt.Fprintf(w, "%s: %s, peak Go heap %.0f MB\n", o.Name, time.Duration(o.Seconds*float64(time.Second)).Round(100*time.Millisecond), o.PeakHeapMB)
	if rs, ok := o.Results.([]redgreen.Result); ok {
		for _, r := range rs {
			fmt.Fprintf(w, "  %-14s %-10s accuracy %.3f ± %.3f (paper %.3f)\n", r.Conv, r.Test, r.Accuracy, r.Std, r.Paper)
		}
		for _, ch := range redgreen.Pattern(rs) {
			fmt.Fprintf(w, "  pattern: %s: %v\n", ch.What, ch.OK)
		}
	}
	if rs, ok := o.Results.([]grid.Result); ok {
		for _, r := range rs {
			fmt.Fprintf(w, "  %-14s %-9s test accuracy %.3f (train %.3f, chance 0.111)\n", r.Encoder, r.Padding, r.Accuracy, r.TrainAcc)
		}
	}
}
