package figures

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Chart is a plot with its legend kept apart, so Save can draw the legend
// beside the data area instead of over it.
type Chart struct {
	Plot   *plot.Plot
	Legend plot.Legend
}

// NewChart returns a chart with an empty plot and legend.
func NewChart(title string) *Chart {
	p := plot.New()
	p.Title.Text = title
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	return &Chart{Plot: p, Legend: l}
}

// Add puts a legend entry for the given thumbnails.
func (c *Chart) Add(name string, thumbs ...plot.Thumbnailer) { c.Legend.Add(name, thumbs...) }

// AddLine draws pts as the chart's i-th curve (colour by i, and a dash
// pattern past the seventh), 1.5 points wide, with a legend entry.
func (c *Chart) AddLine(name string, pts plotter.XYs, i int) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = plotutil.Color(i)
	l.Dashes = plotutil.Dashes(i / 7)
	l.Width = vg.Points(1.5)
	c.Plot.Add(l)
	c.Add(name, l)
	return nil
}

// legendWidth is the width of the legend column (0 without entries).
func (c *Chart) legendWidth(dc draw.Canvas) vg.Length {
	r := c.Legend.Rectangle(dc)
	if r.Size().X == 0 {
		return 0
	}
	return r.Size().X + vg.Points(12)
}

// Draw renders the plot on the left of dc and the legend in a column on its
// right, top-aligned with the data area.
func (c *Chart) Draw(dc draw.Canvas) {
	lw := c.legendWidth(dc)
	c.Plot.Draw(draw.Crop(dc, 0, -lw, 0, 0))
	if lw > 0 {
		top := vg.Length(0)
		if c.Plot.Title.Text != "" {
			top = c.Plot.Title.TextStyle.Height(c.Plot.Title.Text) + c.Plot.Title.Padding
		}
		c.Legend.Draw(draw.Crop(dc, dc.Size().X-lw+vg.Points(6), 0, 0, -top-vg.Points(4)))
	}
}

// Save writes the chart as PNG or SVG (by path's extension), w x h.
func (c *Chart) Save(w, h vg.Length, path string) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	cv, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.Draw(draw.New(cv))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := cv.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// fitLabel breaks a row label at '/' into lines and picks the largest font
// size (at most 9 points) at which every line fits width.
func fitLabel(label string, width vg.Length, p *plot.Plot) (string, vg.Length) {
	text := strings.ReplaceAll(label, "/", "/\n")
	sty := p.Title.TextStyle
	for size := vg.Points(9); size > vg.Points(4); size -= vg.Points(0.5) {
		sty.Font.Size = size
		if sty.Width(text) <= width {
			return text, size
		}
	}
	return text, vg.Points(4)
}
