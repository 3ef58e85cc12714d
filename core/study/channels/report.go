package channels

import (
	"fmt"
	"image/color"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/posprobe/posprobe/core/experiment/figures"
	"github.com/posprobe/posprobe/core/study"
)

// Markdown is the study's section.
func Markdown(r *Result) string {
	var b strings.Builder
	b.WriteString("Islam, Kowal et al., ICCV 2021, \"Global Pooling, More than Meets the Eye\" (code `islamamirul/PermuteNet`, " +
		"`flip_conv_kernels.py`). The paper ranks the channels of DeepLabv3-ResNet50 by mean |latent - latent with every conv kernel " +
		"flipped horizontally| and zeroes the top 100 on Cityscapes; it gives no number we can set beside ours, so this section " +
		"reports the rankings and the ablation curves.\n\n")
	flipBy := "every conv kernel mirrored left-right (ImageNet weights flipped)"
	if r.FlipBy == "input" {
		flipBy = "the input mirrored and the features mirrored back (random init has no weight file to flip; equal to flipping the kernels wherever the layers are mirror-symmetric)"
	}
	fmt.Fprintf(&b, "%s (%s, %s padding), %d readout channels, %d photos; flipped net: %s.\n\n", r.Encoder, r.Init, r.Padding, r.Channels, r.Photos, flipBy)
	b.WriteString(study.TableHeader("rank", "by flip difference", "flip", "by per-channel SPC", "SPC (map)"))
	for i := range r.TopFlip {
		f, s := r.TopFlip[i], r.TopSPC[i]
		fmt.Fprintf(&b, "| %d | %s #%d | %.3f | %s #%d | %.3f (%s) |\n", i+1, f.Tap, f.Index, f.Flip, s.Tap, s.Index, s.SPC, s.Target)
	}
	fmt.Fprintf(&b, "\nThe two top-50 lists share %d channels.\n\n", r.Overlap)
	b.WriteString("Readout SPC with k channels zeroed (trained readouts of the Table 1 row, test photos):\n\n| target | ranking |")
	if len(r.Curves) == 0 {
		return b.String()
	}
	for _, k := range r.Curves[0].K {
		fmt.Fprintf(&b, " k=%d |", k)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(r.Curves[0].K)) + "\n")
	for _, c := range r.Curves {
		fmt.Fprintf(&b, "| %s | %s |", c.Target, c.Rank)
		for _, v := range c.SPC {
			fmt.Fprintf(&b, " %.3f |", v)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n" + reading(r) + "\n")
	if len(r.Shuffle) > 0 {
		b.WriteString("\nPermuteNet-style shuffle before the readout: the same readout recipe trained and tested on the plain features, " +
			"and on features whose channels are shuffled by a new permutation for every image (channel identity then means nothing):\n\n" +
			study.TableHeader("target", "plain SPC", "shuffled SPC"))
		for _, sh := range r.Shuffle {
			fmt.Fprintf(&b, "| %s | %.3f | %.3f |\n", sh.Target, sh.Plain, sh.Shuffled)
		}
		for _, sh := range r.Shuffle {
			verdict := "position is carried by which channel responds, as PermuteNet argues: without a fixed channel order little is left"
			if sh.Plain-sh.Shuffled < 0.2 {
				verdict = "much of the position survives the shuffle, so here it is also in the spatial pattern that all channels share"
			}
			fmt.Fprintf(&b, "\n- %s: %.3f -> %.3f: %s.", sh.Target, sh.Plain, sh.Shuffled, verdict)
		}
		b.WriteString("\n\nThe shuffle sits before the readout, the one layer we train; PermuteNet shuffles inside a network it trains " +
			"(--shuffle-layer below shuffles inside our frozen encoder instead).\n")
	}
	if len(r.LayerShuffle) > 0 {
		l := r.LayerShuffle[0]
		fmt.Fprintf(&b, "\nChannels shuffled inside the frozen encoder, at the input of the layers that produce %s (a new permutation per %s), "+
			"scored by the same trained readouts:\n\n| target | plain SPC | shuffled SPC |\n|---|---|---|\n", l.Layer, l.Per)
		for _, sh := range r.LayerShuffle {
			fmt.Fprintf(&b, "| %s | %.3f | %.3f |\n", sh.Target, sh.Plain, sh.Shuffled)
		}
		b.WriteString("\nThe readouts read every tap and the taps before the shuffle are untouched, so a drop is what the later taps " +
			"carried. The layers after the shuffle were trained on one channel order, so it mixes lost position with " +
			"features that no longer mean what the readout learned; PermuteNet trains with the shuffle in place.\n")
	}
	return b.String()
}

// reading compares the drop under each ranking with the random drop at the
// largest k, from the numbers.
func reading(r *Result) string {
	var lines []string
	for i := 0; i+2 < len(r.Curves); i += 3 {
		f, s, rnd := r.Curves[i], r.Curves[i+1], r.Curves[i+2]
		n := len(f.K) - 1
		if n < 1 {
			continue
		}
		base := f.SPC[0]
		df, ds, dr := base-f.SPC[n], base-s.SPC[n], base-rnd.SPC[n]
		verdict := "position channels matter more than random ones, as the paper argues"
		if df <= dr && ds <= dr {
			verdict = "zeroing the ranked channels hurts no more than zeroing random ones: here position is not concentrated in the top channels"
		}
		lines = append(lines, fmt.Sprintf("- %s, k=%d: SPC falls by %.3f (flip ranking), %.3f (SPC ranking), %.3f (random): %s.",
			f.Target, f.K[n], df, ds, dr, verdict))
	}
	return strings.Join(lines, "\n")
}

// SaveFigure draws one panel per target, readout SPC against k for each
// ranking, into a w x h PNG.
func SaveFigure(r *Result, w, h vg.Length, path string) error {
	if len(r.Curves) == 0 {
		return fmt.Errorf("channels: no curves")
	}
	var charts []*figures.Chart
	for i := 0; i+2 < len(r.Curves); i += 3 {
		ch := figures.NewChart("readout " + r.Curves[i].Target.String())
		ch.Plot.X.Label.Text = "channels zeroed (k)"
		ch.Plot.Y.Label.Text = "SPC"
		ch.Plot.Y.Min, ch.Plot.Y.Max = 0, 1 // the same scale in every panel
		for j, c := range r.Curves[i : i+3] {
			pts := make(plotter.XYs, len(c.K))
			for q, k := range c.K {
				pts[q].X, pts[q].Y = float64(k), c.SPC[q]
			}
			if err := ch.AddLine(c.Rank, pts, j); err != nil {
				return err
			}
		}
		ch.Plot.Add(plotter.NewGrid())
		charts = append(charts, ch)
	}
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 1, Cols: len(charts), PadX: vg.Points(8)}
	for i, ch := range charts {
		ch.Draw(tiles.At(dc, i, 0))
	}
	return savePNG(path, c)
}
