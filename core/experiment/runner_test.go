package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/internal/testphotos"
)

// writeImages writes n small PNGs (a gradient plus a per-image tint) into
// dir/sub and returns dir.
func writeImages(t testing.TB, dir string, n int) string {
	t.Helper()
	for i := 0; i < n; i++ {
		testphotos.Write(t, filepath.Join(dir, "sub", testphotos.Name("", i)), 48, 40, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(5 * x), uint8(6*y + 20*i), uint8(37 * i), 255}
		})
	}
	return dir
}

// quickConfig is a run on tiny images with reduced-width encoders, no
// ImageNet weights (those rows must come out "unavailable").
func quickConfig(t *testing.T, out string) RunConfig {
	t.Setenv("POSPROBE_CACHE", t.TempDir())
	t.Setenv("POSPROBE_DOWNLOAD", "")
	return RunConfig{
		TrainDir: writeImages(t, t.TempDir(), 5), TestDir: writeImages(t, t.TempDir(), 3), Out: out,
		Epochs: 1, Width: 4, DeepImages: 2, FigureImages: 2, Quick: true, Command: "test",
	}
}

func TestRunQuickComplete(t *testing.T) {
	if testing.Short() || runtime.GOOS == "js" {
		t.Skip("runs every table (natively; too slow in node)")
	}
	out := t.TempDir()
	cfg := quickConfig(t, out)
	var stages []string
	cfg.Progress = func(p Progress) {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
		if p.Done > p.Total || p.Rows == 0 {
			t.Errorf("progress %+v", p)
		}
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m := rep.Missing(); len(m) > 0 {
		t.Fatalf("rows without result: %v", m)
	}
	rows := 0
	for _, tb := range rep.Tables {
		for _, row := range tb.Rows {
			rows++
			res := rep.Result(tb.ID, row.ID)
			switch res.Status {
			case StatusOK:
				for _, tg := range posmap.Names(tb.Targets) {
					for _, set := range tb.Sets {
						s, ok := res.Score(tg, set)
						want := 3
						if set != Natural {
							want = 1
						}
						if !ok || s.N != want || math.IsNaN(s.SPC) || s.SPC < -1 || s.SPC > 1 || !(s.MAE >= 0 && s.MAE <= 1) {
							t.Errorf("table %s row %s %s/%s: %+v (present %v)", tb.ID, row.ID, tg, set, s, ok)
						}
					}
					if _, ok := res.FinalLoss[tg]; !ok {
						t.Errorf("table %s row %s: no final loss for %s", tb.ID, row.ID, tg)
					}
				}
			case StatusUnavailable:
				if row.Setting.Init != encoder.InitImageNet || !strings.HasPrefix(res.Reason, reasonWeights) || !strings.Contains(res.Reason, row.Setting.Encoder) {
					t.Errorf("table %s row %s unavailable: %q", tb.ID, row.ID, res.Reason)
				}
			default:
				t.Errorf("table %s row %s: %s %s", tb.ID, row.ID, res.Status, res.Reason)
			}
			if _, err := os.Stat(filepath.Join(out, RowFile(tb.ID, row.ID))); err != nil {
				t.Errorf("row file: %v", err)
			}
		}
	}
	// Without ImageNet weights: none and the random-init encoders run.
	for _, k := range []string{"1/none", "1/vgg16-random", "1/resnet50-random", "2a/none/depth3", "4/none/pad2", "4/vgg16-random/circular"} {
		if res := rep.Rows[k]; res.Status != StatusOK {
			t.Errorf("%s: %s %s", k, res.Status, res.Reason)
		}
	}
	// The readout is trained once per setting and target: Table 2a's and
	// 2b's PosENet 3x3 rows are Table 1's, and score the same.
	a, b := rep.Result("1", "none"), rep.Result("2b", "none/k3")
	if sa, _ := a.Score("H", Natural); sa != func() score.Score { s, _ := b.Score("H", Natural); return s }() {
		t.Errorf("shared readout scored differently: %+v vs %+v", a.Scores["H"], b.Scores["H"])
	}
	// Markdown: every row's label, every unavailable row with its reason.
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, tb := range rep.Tables {
		if !strings.Contains(md.String(), "## "+tb.Title) {
			t.Errorf("report lacks %q", tb.Title)
		}
		for _, row := range tb.Rows {
			if !strings.Contains(md.String(), "| "+row.Label+" |") {
				t.Errorf("report lacks row %q of table %s", row.Label, tb.ID)
			}
		}
	}
	if strings.Contains(md.String(), "not run") || !strings.Contains(md.String(), "unavailable — weights not available") {
		t.Errorf("report:\n%s", md.String())
	}
	// CSV: one line per row, target and set.
	checkCSV(t, rep)
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Rows) != rows {
		t.Fatalf("JSON round trip: %v, %d rows of %d", err, len(back.Rows), rows)
	}
	// Figure maps of the figure photos for Tables 1 and 4.
	for _, k := range []string{MapFile("1", "none", "G", 1), MapFile("4", "vgg16-random/reflect", "HS", 0)} {
		if _, err := os.Stat(filepath.Join(out, k)); err != nil {
			t.Errorf("figure map: %v", err)
		}
	}

	// A restart reuses every finished row: no extraction, no training.
	stages = nil
	rep2, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stages {
		if !strings.Contains(s, "imagenet") {
			t.Errorf("restart ran stage %q", s)
		}
	}
	if got, want := rep2.Rows["3/f2"].Scores["G"][Natural], rep.Rows["3/f2"].Scores["G"][Natural]; got != want {
		t.Errorf("restart changed a row: %+v vs %+v", got, want)
	}

	// A different recipe does not reuse the rows.
	cfg.Tables = []string{"2b"}
	cfg.Seed = 1
	stages = nil
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if len(stages) == 0 {
		t.Error("new seed reused the old rows")
	}
}

func TestRunDeepRowsWithoutImages(t *testing.T) {
	cfg := quickConfig(t, t.TempDir())
	cfg.Width, cfg.DeepImages, cfg.Tables = 0, 0, []string{"2a"}
	// Only the rows of the 'none' encoder run; squeezenet has no weights here.
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rep.Tables[0].Rows {
		if r := rep.Result("2a", row.ID); r == nil || (r.Status != StatusOK && r.Reason == "") {
			t.Errorf("%s: %+v", row.ID, r)
		}
	}
	if hiddenMAC(Setting{Kernel: 3, Depth: 2}, 1344) < 10e9 || hiddenMAC(Setting{Kernel: 3, Depth: 3}, 3) > DeepBudget {
		t.Error("hidden layer cost")
	}
}

func TestRunBadInput(t *testing.T) {
	cfg := quickConfig(t, t.TempDir())
	cfg.TrainDir = filepath.Join(t.TempDir(), "nothing")
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "nothing") {
		t.Errorf("missing training folder: %v", err)
	}
	cfg = quickConfig(t, t.TempDir())
	cfg.Tables = []string{"9"}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `"9"`) {
		t.Errorf("unknown table: %v", err)
	}
	// A corrupt training photo is skipped by name; the run goes on.
	cfg = quickConfig(t, t.TempDir())
	cfg.Tables = []string{"2b"}
	os.WriteFile(filepath.Join(cfg.TrainDir, "sub", "zz.jpg"), []byte("no"), 0o644)
	var logs []string
	cfg.Log = func(s string) { logs = append(logs, s) }
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(logs, "\n"), "zz.jpg") {
		t.Errorf("skipped file not reported: %q", logs)
	}
	if len(rep.Info.Skipped) != 1 || !strings.HasSuffix(rep.Info.Skipped[0], "zz.jpg") {
		t.Errorf("skipped files counted: %q", rep.Info.Skipped)
	}
	var md bytes.Buffer
	rep.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "1 unreadable photo(s) left out") {
		t.Error("report does not count the skipped photo")
	}
	// Cancelled: an error, and the rows done so far stay.
	cfg = quickConfig(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, cfg); err == nil {
		t.Error("cancelled run: no error")
	}
}

// A feature budget of two photos: training on the first two, testing in
// chunks whose scores merge to the whole set's.
func TestRunFeatureBudget(t *testing.T) {
	cfg := quickConfig(t, t.TempDir())
	cfg.Tables = []string{"2b"}
	cfg.MaxFeatureBytes = 2 * 3 * 28 * 28 * 4
	cfg.DeepImages = 1 // for heavy rows only: these are not
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := rep.Result("2b", "none/k1")
	if res.Status != StatusOK || res.TrainImages != 2 || !strings.Contains(res.Note, "first 2 training photos") {
		t.Fatalf("%+v", res)
	}
	if s, _ := res.Score("G", Natural); s.N != 3 {
		t.Errorf("test photos scored: %d, want 3", s.N)
	}
	// One photo a chunk: every figure photo still keeps its map.
	cfg.Out, cfg.Tables, cfg.MaxFeatureBytes = t.TempDir(), []string{"1"}, 1
	rep, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res := rep.Result("1", "none"); res.Status != StatusOK || res.TrainImages != 1 {
		t.Fatalf("%+v", res)
	}
	for i := range 2 {
		if _, err := os.Stat(filepath.Join(cfg.Out, MapFile("1", "none", "VS", i))); err != nil {
			t.Errorf("figure map of photo %d: %v", i, err)
		}
	}

	r, err := readout.New(readout.DefaultConfig(), 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := readout.NewFeatures(5, 3, 28)
	for i, d := 0, nn.Data(f); i < len(d); i++ {
		d[i] = float32(math.Cos(float64(i) * 0.011))
	}
	gt := posmap.Map(posmap.V, 224, posmap.Options{})
	whole, _ := probe.Evaluate(r, f, gt)
	var got score.Score
	for _, part := range [][2]int{{0, 2}, {2, 5}} {
		sc, _ := probe.Evaluate(r, nn.Batch(f, part[0], part[1]), gt)
		got = score.Merge(got, sc)
	}
	if got.N != 5 || math.Abs(got.SPC-whole.SPC) > 1e-12 || math.Abs(got.MAE-whole.MAE) > 1e-12 || math.Abs(got.SPCStd-whole.SPCStd) > 1e-9 {
		t.Errorf("chunks merged %+v, whole %+v", got, whole)
	}
}
