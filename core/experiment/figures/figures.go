// Package figures draws a reproduction's charts with gonum/plot: bar charts
// of SPC per encoder (Table 1) and per padding mode (Table 4), and grids of
// predicted position maps (the paper's qualitative figure). It is kept out
// of core/experiment so the browser app never links plot.
package figures

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/posprobe/posprobe/core/experiment"
	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/internal/atomicfile"
)

// SPCBars is a grouped bar chart of our SPC on a table's natural-photo set:
// one group per finished row, one bar per target.
func SPCBars(rep *experiment.Report, tableID, title string) (*Chart, error) {
	tb, ok := table(rep, tableID)
	if !ok {
		return nil, fmt.Errorf("figures: the report has no table %s", tableID)
	}
	var labels []string
	var rows []experiment.Row
	for _, row := range tb.Rows {
		if res := rep.Result(tb.ID, row.ID); res != nil && res.Status == experiment.StatusOK {
			labels = append(labels, row.ID)
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("figures: table %s has no finished row", tableID)
	}
	ch := NewChart(title)
	p := ch.Plot
	p.Y.Label.Text = "SPC (test photos)"
	p.Y.Min, p.Y.Max = math.Min(0, minSPC(rep, tb, rows)), 1 // the legend sits beside the data
	w := vg.Points(math.Max(3, 40/float64(len(tb.Targets))))
	for k, tg := range posmap.Names(tb.Targets) {
		vals := make(plotter.Values, len(rows))
		for i, row := range rows {
			if s, ok := rep.Result(tb.ID, row.ID).Score(tg, experiment.Natural); ok {
				vals[i] = s.SPC
			}
		}
		bc, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bc.LineStyle.Width = 0
		bc.Color = plotutil.Color(k)
		bc.Offset = w * vg.Length(float64(k)-float64(len(tb.Targets)-1)/2)
		p.Add(bc)
		ch.Add(tg, bc)
	}
	p.NominalX(labels...)
	p.X.Tick.Label.Rotation = math.Pi / 5
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.Add(plotter.NewGrid())
	return ch, nil
}

func minSPC(rep *experiment.Report, tb experiment.Table, rows []experiment.Row) float64 {
	m := 0.0
	for _, row := range rows {
		for _, tg := range posmap.Names(tb.Targets) {
			if s, ok := rep.Result(tb.ID, row.ID).Score(tg, experiment.Natural); ok {
				m = math.Min(m, s.SPC)
			}
		}
	}
	return m
}

func table(rep *experiment.Report, id string) (experiment.Table, bool) {
	i := slices.IndexFunc(rep.Tables, func(t experiment.Table) bool { return t.ID == id })
	if i < 0 {
		return experiment.Table{}, false
	}
	return rep.Tables[i], true
}

// MapGrid draws, for figure photo i, the photo and the ground truth of each
// target in the first row and below it one row per finished row of the
// table, its predicted maps (read from the results folder) beside each other.
func MapGrid(rep *experiment.Report, results, tableID string, photo int) (image.Image, error) {
	tb, ok := table(rep, tableID)
	if !ok {
		return nil, fmt.Errorf("figures: the report has no table %s", tableID)
	}
	if photo < 0 || photo >= len(rep.Info.FigurePhotos) {
		return nil, fmt.Errorf("figures: no figure photo %d (the run kept %d)", photo, len(rep.Info.FigurePhotos))
	}
	src, err := imageio.Load(rep.Info.FigurePhotos[photo])
	if err != nil {
		return nil, err
	}
	type line struct {
		label string
		maps  []image.Image
	}
	gtLine := line{label: "ground truth"}
	for _, t := range tb.Targets {
		gtLine.maps = append(gtLine.maps, grey(posmap.Map(t, 224, posmap.Options{Stripes: stripes(rep)}), 224))
	}
	lines := []line{gtLine}
	for _, row := range tb.Rows {
		res := rep.Result(tb.ID, row.ID)
		if res == nil || res.Status != experiment.StatusOK {
			continue
		}
		l := line{label: row.ID}
		for _, tg := range posmap.Names(tb.Targets) {
			im, err := loadPNG(filepath.Join(results, experiment.MapFile(tb.ID, row.ID, tg, photo)))
			if err != nil {
				return nil, fmt.Errorf("figures: table %s row %s target %s: %w", tb.ID, row.ID, tg, err)
			}
			l.maps = append(l.maps, im)
		}
		lines = append(lines, l)
	}
	cols := 1 + len(tb.Targets)
	cell := vg.Points(72)
	plots := make([][]*plot.Plot, len(lines))
	for y, l := range lines {
		plots[y] = make([]*plot.Plot, cols)
		for x := 0; x < cols; x++ {
			p := plot.New()
			hideAxes(p)
			switch {
			case x == 0 && y == 0:
				p.Add(plotter.NewImage(src, 0, 0, 1, 1))
				p.Title.Text = "photo"
			case x == 0: // the row label, broken at '/' and shrunk until it fits the cell
				p.Title.Text, p.Title.TextStyle.Font.Size = fitLabel(l.label, cell-vg.Points(6), p)
			default:
				p.Add(plotter.NewImage(l.maps[x-1], 0, 0, 1, 1))
				if y == 0 {
					p.Title.Text = tb.Targets[x-1].String()
				}
			}
			plots[y][x] = p
		}
	}
	c := vgimg.NewWith(vgimg.UseWH(cell*vg.Length(cols), cell*vg.Length(len(lines))), vgimg.UseDPI(96),
		vgimg.UseBackgroundColor(color.White))
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: len(lines), Cols: cols, PadX: vg.Points(2), PadY: vg.Points(2)}
	canvases := plot.Align(plots, tiles, dc)
	for y := range plots {
		for x := range plots[y] {
			plots[y][x].Draw(canvases[y][x])
		}
	}
	return c.Image(), nil
}

func stripes(rep *experiment.Report) posmap.StripeRange {
	s, err := posmap.ParseStripeRange(rep.Info.Stripes)
	if err != nil {
		return posmap.StripeRange(0)
	}
	return s
}

func hideAxes(p *plot.Plot) {
	p.HideAxes()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
}

// grey renders a map in [0,1] (values clipped) as an 8-bit grey image.
func grey(m []float32, side int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i, v := range m {
		img.Pix[i] = uint8(min(max(v, 0), 1)*255 + 0.5)
	}
	return img
}

func loadPNG(path string) (image.Image, error) {
	return imageio.Load(path)
}

// WriteAll writes every figure the report can have into dir (PNG, and SVG
// for the bar charts) and returns the files written. Tables absent from the
// report or without finished rows are left out.
func WriteAll(rep *experiment.Report, results, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, b := range []struct{ table, name, title string }{
		{"1", "table1_spc", "Table 1: SPC per encoder (test photos)"},
		{"4", "table4_spc", "Table 4: SPC per padding (test photos)"},
	} {
		if _, ok := table(rep, b.table); !ok {
			continue
		}
		p, err := SPCBars(rep, b.table, b.title)
		if err != nil {
			continue // no finished row: nothing to draw
		}
		for _, ext := range []string{".png", ".svg"} {
			path := filepath.Join(dir, b.name+ext)
			if err := p.Save(8*vg.Inch, 4.5*vg.Inch, path); err != nil {
				return files, fmt.Errorf("%s: %w", path, err)
			}
			files = append(files, path)
		}
	}
	for _, id := range []string{"1", "4"} {
		if _, ok := table(rep, id); !ok {
			continue
		}
		for i := range rep.Info.FigurePhotos {
			img, err := MapGrid(rep, results, id, i)
			if err != nil {
				return files, err
			}
			path := filepath.Join(dir, fmt.Sprintf("table%s_maps_%d.png", id, i))
			if err := savePNG(path, img); err != nil {
				return files, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

func savePNG(path string, img image.Image) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return png.Encode(w, img) })
}
