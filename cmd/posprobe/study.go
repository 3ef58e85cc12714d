package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot/vg"

	"github.com/posprobe/posprobe/core/study"
	"github.com/posprobe/posprobe/core/study/redgreen"
)

var studyCmd = &cobra.Command{
	Use:   "study NAME",
	Short: "Run a follow-up study of position information (redgreen, grid, all)",
	Long: `study runs the experiments that came after the paper, at a scale a CPU affords.
Each study has --json (results on stdout), --quick (seconds; used by the
tests), --out (figures and a JSON record) and a progress bar on a terminal.

  redgreen  Kayhan & van Gemert (CVPR 2020): a 4-layer CNN with global max
            pooling, trained from scratch with valid, same-zero,
            same-circular and full convolutions, tested on Similar and
            location-swapped Dissimilar images.
  all       every study, and --out/beyond.md with the papers' numbers
            beside ours (make reproduce-beyond).

Not built yet: channels (position-channel rankings and ablations, ICCV 2021),
grid (GAPNet cell location after global pooling) and boundary (distance to
the border, canvas colour, stride-2 asymmetry).`,
	Example: `  posprobe study redgreen --json
  posprobe study redgreen --quick --out /tmp/rg
  posprobe study all --out results`,
}

var studyFlags struct {
	quick, asJSON bool
	out           string
	repeats       int
	epochs        int
	seed          uint64
	kinds, widths string
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
	RunE: func(cmd *cobra.Command, _ []string) error {
		o, err := runRedGreen(cmd)
		if err != nil {
			return err
		}
		return finishStudy(cmd, []study.Outcome{o}, false)
	},
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
	for _, run := range []func(*cobra.Command) (study.Outcome, error){runRedGreen} {
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
func quickStudies(cmd *cobra.Command, out string) error {
	saved := studyFlags
	defer func() { studyFlags = saved }()
	studyFlags.quick, studyFlags.asJSON, studyFlags.out = true, false, out
	studyFlags.repeats, studyFlags.epochs, studyFlags.kinds, studyFlags.widths = 0, 0, "", ""
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
	pf.IntVar(&sf.epochs, "epochs", 0, "most training epochs (redgreen: default 30, --quick 4)")
	pf.Uint64Var(&sf.seed, "seed", 0, "first seed")
	redgreenCmd.Flags().StringVar(&sf.kinds, "kinds", "", "comma-separated convolutions (default valid,same-zero,same-circular,full)")
	redgreenCmd.Flags().StringVar(&sf.widths, "widths", "", "comma-separated conv widths (default 16,16,32,32; the paper 32,32,64,64; --quick 8,8,16,16)")
	studyCmd.AddCommand(redgreenCmd, studyAllCmd)
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
		c.Kinds = nil
		for _, k := range strings.Split(sf.kinds, ",") {
			k = strings.TrimSpace(k)
			if err := redgreen.CheckKind(k); err != nil {
				return c, fmt.Errorf("--kinds: %w", err)
			}
			c.Kinds = append(c.Kinds, k)
		}
	}
	if sf.widths != "" {
		c.Widths = nil
		for _, w := range strings.Split(sf.widths, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(w))
			if err != nil || v < 1 {
				return c, fmt.Errorf("--widths: %q is not a positive integer", w)
			}
			c.Widths = append(c.Widths, v)
		}
	}
	return c, nil
}

func runRedGreen(cmd *cobra.Command) (study.Outcome, error) {
	c, err := redGreenConfig()
	if err != nil {
		return study.Outcome{}, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bar := newBar(cmd.ErrOrStderr(), len(c.Kinds)*c.Repeats*c.Epochs, "redgreen", "epochs")
	var rs []redgreen.Result
	last := map[string]int{}
	secs, heap, err := study.Measure(func() error {
		var err error
		rs, err = redgreen.Run(ctx, c, func(kind string, r, ep int) {
			key := fmt.Sprintf("%s/%d", kind, r)
			bar.Describe(fmt.Sprintf("redgreen %s seed %d", kind, c.Seed+uint64(r)))
			bar.Add(ep - last[key])
			last[key] = ep
		})
		return err
	})
	bar.Finish()
	if err != nil {
		return study.Outcome{}, err
	}
	o := study.Outcome{Name: "redgreen", Title: "Red/green: which convolution exploits absolute location",
		Seconds: secs, PeakHeapMB: heap, Markdown: redgreen.Markdown(c, rs), Results: rs,
		Settings: map[string]string{
			"images (train/val/test)": fmt.Sprintf("%d/%d/%d", c.Train, c.Val, c.Test),
			"widths":                  fmt.Sprint(c.Widths), "seeds": fmt.Sprintf("%d from %d", c.Repeats, c.Seed),
			"epochs": fmt.Sprintf("<= %d, early stop after %d without improvement", c.Epochs, c.Patience+1),
		}}
	if studyFlags.out != "" {
		ch, err := redgreen.Figure(c, rs)
		if err != nil {
			return o, err
		}
		rel := filepath.Join("beyond", "redgreen.png")
		path := filepath.Join(studyFlags.out, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return o, err
		}
		if err := ch.Save(8*vg.Inch, 4.5*vg.Inch, path); err != nil {
			return o, err
		}
		o.Figures = append(o.Figures, rel)
	}
	return o, nil
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
}
