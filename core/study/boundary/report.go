package boundary

import (
	"fmt"
	"sort"
	"strings"

	"gonum.org/v1/plot/plotter"

	"github.com/posprobe/posprobe/core/experiment/figures"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
)

// Markdown is the study's section.
func Markdown(c Config, r *Result) string {
	var b strings.Builder
	b.WriteString("Islam et al., IJCV 2024, \"Position, Padding and Predictions\" and Alsallakh et al., ICLR 2021, \"Mind the Pad\". " +
		"Neither has public code or a table we can set beside ours; the IJCV paper's claims are that zero padding injects the most " +
		"position information and that the canvas colour matters, and Mind the Pad's that uneven stride-2 padding makes mean feature " +
		"maps asymmetric.\n\n")
	fmt.Fprintf(&b, "%s (%s); readouts (official recipe, %d epochs) trained per padding on %d photos, tested on %d.\n\n",
		r.Encoder, r.Init, c.Epochs, len(c.Train), len(c.Test))
	if len(r.Readouts) > 0 {
		nb := len(r.Readouts[0].Bands)
		b.WriteString("Readout error by distance to the nearest border (pixels of 224):\n\n| padding | target | SPC | MAE |")
		for _, bd := range r.Readouts[0].Bands {
			fmt.Fprintf(&b, " MAE %s |", bd.Dist)
		}
		b.WriteString("\n|---|---|---|---|" + strings.Repeat("---|", nb) + "\n")
		for _, ro := range r.Readouts {
			fmt.Fprintf(&b, "| %s | %s | %.3f | %.3f |", ro.Padding, ro.Target, ro.Overall[0], ro.Overall[1])
			for _, bd := range ro.Bands {
				fmt.Fprintf(&b, " %.3f |", bd.MAE)
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "\nThe photo shrunk to %d px in the middle of a canvas (readout SPC / MAE):\n\n| padding | target |", c.Inner)
		for _, cs := range r.Readouts[0].Canvas {
			fmt.Fprintf(&b, " %s |", cs.Canvas)
		}
		b.WriteString("\n|---|---|" + strings.Repeat("---|", len(r.Readouts[0].Canvas)) + "\n")
		for _, ro := range r.Readouts {
			fmt.Fprintf(&b, "| %s | %s |", ro.Padding, ro.Target)
			for _, cs := range ro.Canvas {
				fmt.Fprintf(&b, " %.3f / %.3f |", cs.SPC, cs.MAE)
			}
			b.WriteString("\n")
		}
	}
	if len(r.Asym) > 0 {
		b.WriteString("\nMirror asymmetry of the mean feature map (zero padding; mean over photos and channels; |M - mirrored M| / |M|):\n\n| size | tap | map | left/right | top/bottom |\n|---|---|---|---|---|\n")
		for _, a := range r.Asym {
			fmt.Fprintf(&b, "| %d | %s | %dx%d | %.4f | %.4f |\n", a.Size, a.Tap, a.H, a.W, a.LeftRight, a.TopBottom)
		}
	}
	b.WriteString("\n" + reading(r) + "\n")
	return b.String()
}

// reading states, from the numbers, which padding reads position best and
// where the error is largest.
func reading(r *Result) string {
	var lines []string
	best, full := map[posmap.Target]Readout{}, map[posmap.Target]Readout{}
	for _, ro := range r.Readouts {
		if ro.Padding == nn.PadFull { // not one of the common modes the IJCV claim is about
			full[ro.Target] = ro
		} else if cur, ok := best[ro.Target]; !ok || ro.Overall[0] > cur.Overall[0] {
			best[ro.Target] = ro
		}
		n := len(ro.Bands)
		if n > 1 {
			edge, mid := ro.Bands[0].MAE, ro.Bands[n-1].MAE
			where := "larger at the border than in the centre"
			if edge <= mid {
				where = "no larger at the border than in the centre"
			}
			lines = append(lines, fmt.Sprintf("- %s, %s: MAE %.3f within %s px of the border vs %.3f in the centre: %s.",
				ro.Padding, ro.Target, edge, ro.Bands[0].Dist, mid, where))
		}
		if len(ro.Canvas) > 1 {
			lo, hi := ro.Canvas[0], ro.Canvas[0]
			for _, cs := range ro.Canvas {
				if cs.SPC < lo.SPC {
					lo = cs
				}
				if cs.SPC > hi.SPC {
					hi = cs
				}
			}
			lines = append(lines, fmt.Sprintf("- %s, %s: canvas colour moves SPC from %.3f (%s) to %.3f (%s).", ro.Padding, ro.Target, lo.SPC, lo.Canvas, hi.SPC, hi.Canvas))
		}
	}
	var tail []string
	for t, ro := range best {
		verdict := "as the IJCV paper says"
		if ro.Padding != nn.PadZero {
			verdict = "not zero padding, unlike the IJCV paper's claim"
		}
		s := fmt.Sprintf("- Highest %s SPC among the common modes: %s padding (%.3f), %s.", t, ro.Padding, ro.Overall[0], verdict)
		if f, ok := full[t]; ok {
			s += fmt.Sprintf(" Full padding (F-Conv, k-1 zeros per side) gives %.3f", f.Overall[0])
			if f.Overall[0] > ro.Overall[0] {
				s += ": more still, as its wider zero border is an even stronger cue for a frozen encoder (F-Conv removes the " +
					"location shortcut when a net is trained with it, see red/green, not in weights trained with zero padding)."
			} else {
				s += "."
			}
		}
		tail = append(tail, s)
	}
	sort.Strings(tail)
	lines = append(lines, tail...)
	if len(r.Asym) > 0 { // the deepest tap, the last of each size
		deep := r.Asym[len(r.Asym)-1].Tap
		var lo, hi Asym
		for _, a := range r.Asym {
			if a.Tap != deep {
				continue
			}
			if lo.Size == 0 || a.LeftRight < lo.LeftRight {
				lo = a
			}
			if hi.Size == 0 || a.LeftRight > hi.LeftRight {
				hi = a
			}
		}
		lines = append(lines, fmt.Sprintf("- Mean-map asymmetry of %s (left/right): %.3f at %d px (%dx%d map) up to %.3f at %d px (%dx%d): "+
			"the input size changes how the strided layers' windows meet the borders, and with it the spatial bias Mind the Pad describes.",
			deep, lo.LeftRight, lo.Size, lo.H, lo.W, hi.LeftRight, hi.Size, hi.H, hi.W))
	}
	return strings.Join(lines, "\n")
}

// Figure draws the readout MAE against distance to the border, one line per
// padding and target.
func Figure(r *Result) (*figures.Chart, error) {
	if len(r.Readouts) == 0 {
		return nil, fmt.Errorf("boundary: no readouts")
	}
	ch := figures.NewChart("Readout error by distance to the border")
	ch.Plot.X.Label.Text = "distance to the nearest border (pixels of 224)"
	ch.Plot.Y.Label.Text = "MAE"
	for i, ro := range r.Readouts {
		pts := make(plotter.XYs, len(ro.Bands))
		for k, bd := range ro.Bands {
			pts[k].X, pts[k].Y = float64(bd.From+bd.To)/2, bd.MAE
		}
		if err := ch.AddLine(ro.Padding.String()+" "+ro.Target.String(), pts, i); err != nil {
			return nil, err
		}
	}
	ch.Plot.Add(plotter.NewGrid())
	return ch, nil
}
