package grid

import (
	"fmt"
	"sort"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/posprobe/posprobe/core/experiment/figures"
	"github.com/posprobe/posprobe/core/study"
)

// Markdown is the study's section: accuracy per encoder and padding.
func Markdown(c Config, rs []Result) string {
	var b strings.Builder
	b.WriteString("Islam, Kowal et al., ICCV 2021, \"Global Pooling, More than Meets the Eye\" (GAPNet; code `islamamirul/PermuteNet`). " +
		"A photo fills one cell of a 3x3 canvas; the frozen encoder's taps are globally average-pooled and concatenated, and a " +
		"softmax classifier names the cell (chance 1/9 = 0.111). The paper uses ResNet-18 on CIFAR-10 cells and reports 100% with zero padding.\n\n")
	b.WriteString(study.TableHeader("encoder", "padding", "test accuracy", "train accuracy", "pooled features", "paper", "worst cell"))
	for _, r := range rs {
		paper := "—"
		if r.Paper > 0 {
			paper = fmt.Sprintf("%.3f", r.Paper)
		}
		worst, wk := 1.0, 0
		for k, v := range r.PerCell {
			if v < worst {
				worst, wk = v, k
			}
		}
		fmt.Fprintf(&b, "| %s (%s) | %s | %.3f | %.3f | %d | %s | %.2f (row %d, col %d) |\n", r.Encoder, r.Init, r.Padding,
			r.Accuracy, r.TrainAcc, r.Features, paper, worst, wk/3+1, wk%3+1)
	}
	fmt.Fprintf(&b, "\n%d training and %d test photos (x9 cells), cells of %d pixels (canvas %d), canvas colour %.2f,%.2f,%.2f; "+
		"classifier: standardised features, %d full-batch gradient steps, lr %g, momentum 0.9, L2 %g.\n",
		c.Train, c.Test, c.Cell, 3*c.Cell, c.Canvas[0], c.Canvas[1], c.Canvas[2], c.Iters, c.LR, c.L2)
	b.WriteString("\n" + reading(rs) + "\n")
	return b.String()
}

// reading compares the padding modes of each encoder from the numbers.
func reading(rs []Result) string {
	byPad := map[string]map[string]float64{}
	for _, r := range rs {
		if byPad[r.Encoder] == nil {
			byPad[r.Encoder] = map[string]float64{}
		}
		byPad[r.Encoder][r.Padding.String()] = r.Accuracy
	}
	var lines []string
	for enc, m := range byPad {
		z, okz := m["zero"]
		n, okn := m["none"]
		if okz && okn {
			verdict := "agrees with the paper: zero padding leaves the cell decodable after global pooling, removing the padding takes much of it away"
			switch {
			case z < 0.9:
				verdict = "falls short of the paper's near-perfect zero-padding accuracy"
			case z-n < 0.1:
				verdict = "agrees that the cell survives global pooling with zero padding, but not that it is lost without padding: " +
					"the photo's edges against the canvas tell its cell by themselves (a centre photo has four such edges, a corner " +
					"photo two, and oriented filters see on which sides they are), and ceil-mode pooling and the valid convolutions' " +
					"cropping of the outer cells add border cues of their own"
			}
			lines = append(lines, fmt.Sprintf("- %s: zero %.3f vs none %.3f — %s.", enc, z, n, verdict))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	sort.Strings(lines)
	return "What agrees:\n\n" + strings.Join(lines, "\n")
}

// Figure draws test accuracy per padding, one bar group per encoder.
func Figure(rs []Result) (*figures.Chart, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("grid: no results to draw")
	}
	ch := figures.NewChart("Cell decoded after global pooling (GAPNet)")
	p := ch.Plot
	p.Y.Label.Text = "test accuracy (9 cells)"
	p.Y.Min, p.Y.Max = 0, 1
	var labels []string
	vals := plotter.Values{}
	for _, r := range rs {
		labels = append(labels, r.Encoder+"/"+r.Padding.String())
		vals = append(vals, r.Accuracy)
	}
	bc, err := plotter.NewBarChart(vals, vg.Points(22))
	if err != nil {
		return nil, err
	}
	bc.LineStyle.Width = 0
	bc.Color = plotutil.Color(2)
	p.Add(bc)
	ch.Add("ours", bc)
	chance, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 1.0 / 9}, {X: float64(len(rs)) - 0.5, Y: 1.0 / 9}})
	if err != nil {
		return nil, err
	}
	chance.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(chance)
	ch.Add("chance", chance)
	p.NominalX(labels...)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.Add(plotter.NewGrid())
	return ch, nil
}
