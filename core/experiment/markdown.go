package experiment

import (
	"fmt"
	"io"
	"strings"

	"github.com/posprobe/posprobe/core/posmap"
)

var setTitle = map[string]string{Natural: "photos", Black: "black", White: "white", Noise: "noise"}

func fmtCell(c Cell) string {
	return strings.ReplaceAll(fmt.Sprintf("%.3f / %.3f", c.SPC, c.MAE), "0.", ".")
}

// WriteMarkdown renders the report: per table, our SPC / MAE beside the
// paper's, the settings, and the wall time of each row.
func (r *Report) WriteMarkdown(w io.Writer) error {
	b := &strings.Builder{}
	in := r.Info
	fmt.Fprintf(b, "# posprobe: the paper's Tables 1-4 re-measured\n\n")
	fmt.Fprintf(b, "Cells are **SPC / MAE** (per-image Spearman correlation and mean absolute error at 224x224, averaged over images); "+
		"\"paper\" is the value reported by Islam, Jia & Bruce (ICLR 2020) on PASCAL-S, \"ours\" is this run.\n\n")
	fmt.Fprintf(b, "- Command: `%s`\n", in.Command)
	fmt.Fprintf(b, "- Training images: %s (%d); test photos: %s (%d); black, white and noise are single 224x224 images.\n", in.TrainImages, in.NTrain, in.TestImages, in.NTest)
	fmt.Fprintf(b, "- Readout recipe: MSE, SGD momentum 0.9, weight decay 1e-4, lr 0.1 (x0.1 from epoch 10), batch 32, %d epochs, seed %d; stripes in [%s]; one readout per target.\n", in.Epochs, in.Seed, map[string]string{"01": "0,1", "pm1": "-1,1"}[in.Stripes])
	rss := ""
	if in.PeakRSSMB > 0 {
		rss = fmt.Sprintf("; peak RSS %.0f MB", in.PeakRSSMB)
	}
	fmt.Fprintf(b, "- Started %s, %d threads, %s; total wall time %s%s.\n", in.Started, in.Threads, in.GoVersion, fmtDur(in.Seconds), rss)
	if in.Resumed > 0 {
		var rows float64
		passes := map[float64]bool{} // rows of one encoder pass share its extraction time
		for _, rr := range r.Rows {
			rows += rr.Seconds
			if !passes[rr.ExtractSeconds] {
				passes[rr.ExtractSeconds] = true
				rows += rr.ExtractSeconds
			}
		}
		fmt.Fprintf(b, "- %d of the %d rows were finished by earlier runs of this command (cache/rows) and taken as they were; "+
			"the rows' own times (training and evaluation per row, plus each encoder pass's feature extraction) add up to %s.\n",
			in.Resumed, len(r.Rows), fmtDur(rows))
	}
	if in.Quick {
		fmt.Fprintf(b, "- **Quick mode**: few images and epochs; the numbers only show that every table runs end to end.\n")
	}
	if len(in.Skipped) > 0 {
		fmt.Fprintf(b, "- %d unreadable photo(s) left out: %s.\n", len(in.Skipped), strings.Join(in.Skipped, ", "))
	}
	for _, n := range in.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	fmt.Fprintln(b)
	fmt.Fprintf(b, "Stripe (HS, VS) MAEs of the paper are not comparable with [0,1] targets (paper-notes §8): compare stripes on SPC.\n\n")

	for _, tb := range r.Tables {
		fmt.Fprintf(b, "## %s\n\n", tb.Title)
		if tb.Note != "" {
			fmt.Fprintf(b, "%s\n\n", tb.Note)
		}
		fmt.Fprintf(b, "| target | row |")
		for _, s := range tb.Sets {
			fmt.Fprintf(b, " %s: ours | %s: paper |", setTitle[s], setTitle[s])
		}
		fmt.Fprintf(b, " time |\n|---|---|")
		for range tb.Sets {
			fmt.Fprintf(b, "---|---|")
		}
		fmt.Fprintf(b, "---|\n")
		for _, tg := range posmap.Names(tb.Targets) {
			for _, row := range tb.Rows {
				res := r.Result(tb.ID, row.ID)
				fmt.Fprintf(b, "| %s | %s |", tg, row.Label)
				for _, s := range tb.Sets {
					ours := "—"
					switch {
					case res == nil:
						ours = "not run"
					case res.Status == StatusOK:
						if sc, ok := res.Score(tg, s); ok {
							ours = fmtCell(Cell{SPC: sc.SPC, MAE: sc.MAE})
						}
					default:
						ours = "n/a"
					}
					paper := "—"
					if row.PaperRow != "" {
						if c, ok := Paper(tb.ID, row.PaperRow, tg, s); ok {
							paper = fmtCell(c)
						}
					}
					fmt.Fprintf(b, " %s | %s |", ours, paper)
				}
				t := ""
				if res != nil && res.Status == StatusOK {
					t = fmtDur(res.Seconds)
				}
				fmt.Fprintf(b, " %s |\n", t)
			}
		}
		fmt.Fprintln(b)
		// Rows that could not run say why, once per row.
		for _, row := range tb.Rows {
			res := r.Result(tb.ID, row.ID)
			switch {
			case res == nil:
				fmt.Fprintf(b, "- %s: not run yet.\n", row.Label)
			case res.Status != StatusOK:
				fmt.Fprintf(b, "- %s: %s — %s.\n", row.Label, res.Status, res.Reason)
			case res.Note != "":
				fmt.Fprintf(b, "- %s: %s.\n", row.Label, res.Note)
			}
		}
		fmt.Fprintf(b, "\nSettings: ")
		for i, row := range tb.Rows {
			if i > 0 {
				fmt.Fprintf(b, "; ")
			}
			s := row.Setting
			taps := "all taps"
			if s.Taps != nil {
				taps = fmt.Sprintf("taps %v", s.Taps)
			}
			fmt.Fprintf(b, "%s = `%s` init %s, padding %s, %s, readout %dx%d pad %d depth %d", row.Label, s.Encoder, s.Init, s.Padding, taps, s.Kernel, s.Kernel, s.Pad, s.Depth)
		}
		fmt.Fprintf(b, ".\n\n")
	}
	if len(in.Figures) > 0 {
		fmt.Fprintf(b, "## Figures\n\n")
		if len(in.FigurePhotos) > 0 {
			fmt.Fprintf(b, "Predicted maps (grey, 0 black to 1 white) of the test photos %s: first line the photo and the targets, then one line per row.\n\n", strings.Join(in.FigurePhotos, ", "))
		}
		for _, f := range in.Figures {
			fmt.Fprintf(b, "![%s](%s)\n\n", f, f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtDur(s float64) string {
	switch {
	case s < 60:
		return fmt.Sprintf("%.0f s", s)
	case s < 3600:
		return fmt.Sprintf("%.1f min", s/60)
	default:
		return fmt.Sprintf("%.1f h", s/3600)
	}
}
