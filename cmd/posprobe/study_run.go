package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot/vg"

	"github.com/posprobe/posprobe/core/experiment/figures"
	"github.com/posprobe/posprobe/core/study"
)

// studyJob is what a study's runner tells runStudy: its record's name and
// title, the settings that key the cached record, and how to report and
// draw its results R.
type studyJob[R any] struct {
	name, title string
	settings    map[string]string
	reuse       func(R) bool          // whether cached results still fit (nil: always)
	markdown    func(R) string        // the section of beyond.md
	figure      func(R, string) error // writes the PNG at the path
}

// studyRunner runs one study with the current flags.
type studyRunner func(*cobra.Command) (study.Outcome, error)

// withConfig is the runner that builds a study's configuration from the
// flags and runs the study with it.
func withConfig[C any](config func() (C, error), run func(*cobra.Command, C) (study.Outcome, error)) studyRunner {
	return func(cmd *cobra.Command) (study.Outcome, error) {
		c, err := config()
		if err != nil {
			return study.Outcome{}, err
		}
		return run(cmd, c)
	}
}

// oneStudy is the RunE of a study's own command: run it, then print or
// record it as finishStudy does.
func oneStudy(run studyRunner) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		o, err := run(cmd)
		if err != nil {
			return err
		}
		return finishStudy(cmd, []study.Outcome{o}, false)
	}
}

// runStudy reuses --out/beyond/NAME.json when its settings match (see
// cachedOutcome), else times run under Ctrl-C cancellation, and writes the
// figure under --out.
func runStudy[R any](cmd *cobra.Command, j studyJob[R], run func(context.Context) (R, error)) (study.Outcome, error) {
	var res R
	if prev, ok := cachedOutcome(j.name, j.settings, &res); ok && (j.reuse == nil || j.reuse(res)) {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: reusing %s (same settings; --rerun runs again)\n", j.name, filepath.Join(studyFlags.out, "beyond", j.name+".json"))
		prev.Markdown, prev.Results, prev.Figures = j.markdown(res), res, nil
		return prev, studyFigure(j, res, &prev)
	}
	ctx, stop := interruptible(context.Background())
	defer stop()
	secs, heap, err := study.Measure(func() error {
		var err error
		res, err = run(ctx)
		return err
	})
	if err != nil {
		return study.Outcome{}, err
	}
	o := study.Outcome{Name: j.name, Title: j.title, Seconds: secs, PeakHeapMB: heap, Load: loadAverage(),
		Markdown: j.markdown(res), Results: res, Settings: j.settings}
	return o, studyFigure(j, res, &o)
}

// studyFigure writes --out/beyond/NAME.png and lists it in o.
func studyFigure[R any](j studyJob[R], res R, o *study.Outcome) error {
	if studyFlags.out == "" {
		return nil
	}
	rel := filepath.Join("beyond", j.name+".png")
	path := filepath.Join(studyFlags.out, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := j.figure(res, path); err != nil {
		return err
	}
	o.Figures = append(o.Figures, rel)
	return nil
}

// saveChart returns a saver of a study's chart at 8x4.5 inches, to be
// applied to the (chart, error) that the study's Figure returns.
func saveChart(path string) func(*figures.Chart, error) error {
	return func(ch *figures.Chart, err error) error {
		if err != nil {
			return err
		}
		return ch.Save(8*vg.Inch, 4.5*vg.Inch, path)
	}
}

// stageBars returns a progress callback that shows one bar per stage of a
// study, and a function that clears the last bar.
func stageBars(w io.Writer, prefix, unit string) (func(stage string, done, total int), func()) {
	pr := &reproProgress{w: w}
	return func(s string, done, total int) {
		if s != pr.stage || pr.bar == nil {
			pr.clear()
			pr.stage = s
			pr.bar = newBar(pr.w, total, prefix+" "+s, unit)
		}
		pr.bar.Set(done)
	}, pr.clear
}
