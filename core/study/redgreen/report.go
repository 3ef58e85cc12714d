package redgreen

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/posprobe/posprobe/core/experiment/figures"
	"github.com/posprobe/posprobe/core/study"
)

// Checks are the pattern the study must show (the acceptance).
type Check struct {
	What string
	OK   bool
}

// find returns the result of kind on test, if present.
func find(rs []Result, kind, test string) (Result, bool) {
	for _, r := range rs {
		if r.Conv == kind && r.Test == test {
			return r, true
		}
	}
	return Result{}, false
}

// Pattern evaluates the paper's qualitative pattern on rs: zero S-Conv
// exploits location (Similar >= .9, Dissimilar <= .3), F-Conv does not
// (Dissimilar >= .7), circular is blind to it (Similar and Dissimilar within
// .15). Kinds absent from rs are skipped.
func Pattern(rs []Result) []Check {
	var cs []Check
	if s, ok := find(rs, "same-zero", "similar"); ok {
		d, _ := find(rs, "same-zero", "dissimilar")
		cs = append(cs, Check{fmt.Sprintf("S-Conv zero exploits location: Similar %.3f >= .9 and Dissimilar %.3f <= .3", s.Accuracy, d.Accuracy),
			s.Accuracy >= .9 && d.Accuracy <= .3})
	}
	if d, ok := find(rs, "full", "dissimilar"); ok {
		cs = append(cs, Check{fmt.Sprintf("F-Conv generalises to swapped locations: Dissimilar %.3f >= .7", d.Accuracy), d.Accuracy >= .7})
	}
	if s, ok := find(rs, "same-circular", "similar"); ok {
		d, _ := find(rs, "same-circular", "dissimilar")
		cs = append(cs, Check{fmt.Sprintf("circular padding is location-blind: |Similar %.3f - Dissimilar %.3f| <= .15", s.Accuracy, d.Accuracy),
			math.Abs(s.Accuracy-d.Accuracy) <= .15})
	}
	if s, ok := find(rs, "valid", "similar"); ok {
		d, _ := find(rs, "valid", "dissimilar")
		cs = append(cs, Check{fmt.Sprintf("V-Conv exploits location: Similar %.3f > Dissimilar %.3f + .5", s.Accuracy, d.Accuracy),
			s.Accuracy > d.Accuracy+.5})
	}
	return cs
}

// Markdown is the study's section: the table (ours beside the paper's),
// the pattern checks and a reading.
func Markdown(c Config, rs []Result) string {
	var b strings.Builder
	b.WriteString("Kayhan & van Gemert, CVPR 2020, \"On Translation Invariance in CNNs\" (code: `oskyhn/CNNs-Without-Borders`, " +
		"`full_conv/Exp2_Red_Green`). Class 0: a red box left of a green one in the upper half; class 1: green left of red in the " +
		"lower half. Trained from scratch in Go; tested on a *Similar* set (same placement) and a *Dissimilar* set (halves swapped).\n\n")
	b.WriteString(study.TableHeader("convolution", "Similar (ours)", "Dissimilar (ours)", "Similar (paper)", "Dissimilar (paper)", "epochs (best)"))
	for _, k := range c.Kinds {
		s, ok := find(rs, k, "similar")
		if !ok {
			continue
		}
		d, _ := find(rs, k, "dissimilar")
		var eps []string
		for i := range s.Epochs {
			eps = append(eps, fmt.Sprintf("%d (%d)", s.Epochs[i], s.Best[i]))
		}
		fmt.Fprintf(&b, "| %s | %.3f ± %.3f | %.3f ± %.3f | %.3f | %.3f | %s |\n", k, s.Accuracy, s.Std, d.Accuracy, d.Std,
			s.Paper, d.Paper, strings.Join(eps, ", "))
	}
	fmt.Fprintf(&b, "\nMean ± population std over %d seeds (nets seeded %d..%d); the paper averages 10.\n", c.Repeats, c.Seed, c.Seed+uint64(c.Repeats)-1)
	b.WriteString("\nThe paper's pattern, checked on these numbers:\n\n")
	for _, ch := range Pattern(rs) {
		mark := "agrees"
		if !ch.OK {
			mark = "**does not agree**"
		}
		fmt.Fprintf(&b, "- %s: %s\n", ch.What, mark)
	}
	b.WriteString("\nWhy: with valid or same zero padding, the zeros at the border let filters tell how far a box is from " +
		"the top or bottom edge, and global max pooling keeps that signal, so the net learns the shortcut \"upper half = class 0\" " +
		"and fails once the halves are swapped. Circular padding has no border at all: the features are the same wherever the boxes " +
		"are (up to stride aliasing), so Similar and Dissimilar score alike, and the net can only use the red/green order within its " +
		"17-pixel receptive field, hence its lower accuracy. Full convolution pads k-1 so that every pixel is seen by every kernel " +
		"tap: border distance is no longer encoded as cheaply, and the net learns the order instead.\n")
	fmt.Fprintf(&b, "\nDifferences from the official code: training, validation and test sets are drawn with distinct seeds (its "+
		"generator reseeds with 1988 for each set, so its validation set and Similar test set repeat training images); "+
		"widths %v (the paper's: 32, 32, 64, 64); up to %d epochs (the paper's: 50) with early stopping after %d epochs without a better "+
		"validation loss, Adadelta lr %g, rho %g, weight decay %g, batch %d, %d/%d/%d train/val/test images, as in the official script. "+
		"\"same-circular\" pads 1 circularly per side: the official `cir` setting asks for 2, which the PyTorch releases of 2020 "+
		"(1.1-1.4, `expanded_padding = ((p+1)//2, p//2)`) applied as 1 per side.\n",
		c.Widths, c.Epochs, c.Patience+1, c.LR, c.Rho, c.Decay, c.Batch, c.Train, c.Val, c.Test)
	return b.String()
}

// Figure draws the accuracies per convolution: ours (solid) and the paper's
// (pale) on Similar and Dissimilar.
func Figure(c Config, rs []Result) (*figures.Chart, error) {
	ch := figures.NewChart("Red/green accuracy per convolution (CVPR 2020)")
	p := ch.Plot
	p.Y.Label.Text = "test accuracy"
	p.Y.Min, p.Y.Max = 0, 1
	var labels []string
	for _, k := range c.Kinds {
		if _, ok := find(rs, k, "similar"); ok {
			labels = append(labels, k)
		}
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("redgreen: no results to draw")
	}
	w := vg.Points(14)
	series := []struct {
		name, test string
		paper      bool
		col        color.Color
	}{
		{"Similar (ours)", "similar", false, plotutil.Color(0)},
		{"Dissimilar (ours)", "dissimilar", false, plotutil.Color(1)},
		{"Similar (paper)", "similar", true, pale(plotutil.Color(0))},
		{"Dissimilar (paper)", "dissimilar", true, pale(plotutil.Color(1))},
	}
	for i, s := range series {
		vals := make(plotter.Values, len(labels))
		for j, k := range labels {
			r, _ := find(rs, k, s.test)
			vals[j] = r.Accuracy
			if s.paper {
				vals[j] = r.Paper
			}
		}
		bc, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bc.LineStyle.Width = 0
		bc.Color = s.col
		bc.Offset = w * vg.Length(float64(i)-1.5)
		p.Add(bc)
		ch.Add(s.name, bc)
	}
	p.NominalX(labels...)
	p.Add(plotter.NewGrid())
	return ch, nil
}

func pale(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8((float64(v>>8) + 2*255) / 3) }
	return color.NRGBA{mix(r), mix(g), mix(b), 255}
}
