package figures

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/posprobe/posprobe/core/experiment"
	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/posmap"
)

func writeGrey(t *testing.T, path string, v uint8) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 224, 224))
	for i := range img.Pix {
		img.Pix[i] = v + uint8(i%224)/4
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	png.Encode(f, img)
	f.Close()
}

// A hand-made report: Table 1 with one finished and one unavailable row.
func testReport(t *testing.T, results string) *experiment.Report {
	tb := experiment.Tables()[0]
	tb.Rows = tb.Rows[:2]
	photo := filepath.Join(results, "photo.png")
	writeGrey(t, photo, 10)
	rep := &experiment.Report{Tables: []experiment.Table{tb}, Rows: map[string]experiment.RowResult{},
		Info: experiment.RunInfo{Stripes: "01", FigurePhotos: []string{photo}}}
	sc := map[string]map[string]score.Score{}
	for i, tg := range posmap.Names(tb.Targets) {
		sc[tg] = map[string]score.Score{experiment.Natural: {SPC: 0.2*float64(i) - 0.1, MAE: 0.2, N: 3}}
		writeGrey(t, filepath.Join(results, experiment.MapFile("1", "none", tg, 0)), uint8(20*i))
	}
	rep.Rows[experiment.RowKey("1", "none")] = experiment.RowResult{Table: "1", Row: "none", Status: experiment.StatusOK, Scores: sc}
	rep.Rows[experiment.RowKey("1", "vgg16")] = experiment.RowResult{Table: "1", Row: "vgg16", Status: experiment.StatusUnavailable, Reason: "weights not available"}
	return rep
}

func TestWriteAll(t *testing.T) {
	results := t.TempDir()
	rep := testReport(t, results)
	files, err := WriteAll(rep, results, filepath.Join(results, "figures"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"table1_spc.png", "table1_spc.svg", "table1_maps_0.png"}
	if len(files) != len(want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	for i, f := range files {
		if filepath.Base(f) != want[i] {
			t.Errorf("file %d: %s, want %s", i, f, want[i])
		}
	}
	f, err := os.Open(files[2])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// 6 columns (photo + 5 targets) by 2 lines (ground truth, one row).
	if b := img.Bounds(); b.Dx() <= b.Dy() || b.Dx() < 500 {
		t.Errorf("grid is %v", b)
	}
}

func TestErrors(t *testing.T) {
	results := t.TempDir()
	rep := testReport(t, results)
	os.Remove(filepath.Join(results, experiment.MapFile("1", "none", "VS", 0)))
	if _, err := MapGrid(rep, results, "1", 0); err == nil || !strings.Contains(err.Error(), "VS") {
		t.Errorf("missing map: %v", err)
	}
	if _, err := MapGrid(rep, results, "1", 3); err == nil {
		t.Error("photo out of range: no error")
	}
	if _, err := SPCBars(rep, "4", "x"); err == nil {
		t.Error("absent table: no error")
	}
	delete(rep.Rows, experiment.RowKey("1", "none"))
	if _, err := SPCBars(rep, "1", "x"); err == nil {
		t.Error("no finished row: no error")
	}
}

// TestRowLabelsFit: long row labels are broken at '/' and shrunk until every
// line fits the label cell (they used to be clipped: "queezenet1.1/replicate").
func TestRowLabelsFit(t *testing.T) {
	p := plot.New()
	for _, l := range []string{"squeezenet1.1/replicate", "vgg16-random/circular", "none/pad2", "resnet50v2/full"} {
		text, size := fitLabel(l, vg.Points(66), p)
		sty := p.Title.TextStyle
		sty.Font.Size = size
		if w := sty.Width(text); w > vg.Points(66) {
			t.Errorf("%q at %.1f pt is %.1f pt wide, cell 66", l, size, w)
		}
		if size < vg.Points(6) {
			t.Errorf("%q shrunk to %.1f pt", l, size)
		}
	}
}

// TestLegendBesideData: the legend column lies right of the plot's data area.
func TestLegendBesideData(t *testing.T) {
	results := t.TempDir()
	ch, err := SPCBars(testReport(t, results), "1", "t")
	if err != nil {
		t.Fatal(err)
	}
	dc := draw.New(vgimg.New(8*vg.Inch, 4.5*vg.Inch))
	lw := ch.legendWidth(dc)
	if lw <= 0 || lw > 2*vg.Inch {
		t.Fatalf("legend column %.1f pt", lw)
	}
	if ch.Plot.Y.Max < 1 || ch.Plot.Legend.Rectangle(dc).Size().X != 0 {
		t.Fatal("legend drawn inside the plot")
	}
	if err := ch.Save(8*vg.Inch, 4.5*vg.Inch, filepath.Join(results, "c.png")); err != nil {
		t.Fatal(err)
	}
}
