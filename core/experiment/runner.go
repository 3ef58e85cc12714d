package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
)

// RunConfig says what to run and where to put it.
type RunConfig struct {
	DataDir  string // POSPROBE_DATA: encoder weights and the reference noise image ("" = none)
	TrainDir string // training photos (the paper: its training split; ours: imagenet-sample)
	TestDir  string // test photos, searched recursively (ours: bsds500)
	Out      string // results folder; the run's state goes to Out/cache (rows, readouts, figure maps)
	Tables   []string
	Epochs   int    // 0: the recipe's 15
	Seed     uint64 // encoder seed (random init) and base of the readout seeds
	MaxTrain int    // use at most this many training photos (0: all)
	MaxTest  int    // and test photos
	// DeepImages is the number of training photos for readouts whose hidden
	// layers are too heavy for a CPU run (DeepBudget); 0 marks those rows
	// unavailable instead.
	DeepImages int
	Stripes    posmap.StripeRange
	Width      int    // encoder base width (0 = the standard networks; tests use reduced ones)
	DemoDir    string // when set, Table 1's readouts are also written here under readout.FileName
	// FigureImages is how many test photos keep their predicted maps for
	// the qualitative figure (Tables 1 and 4).
	FigureImages int
	// MaxFeatureBytes bounds the cached features of one encoder pass (0: no
	// bound): an encoder with more channels trains on fewer photos (noted in
	// its rows) and the test photos go through in chunks.
	MaxFeatureBytes int64
	Command         string
	Quick           bool
	Notes           []string       // run notes for the report (deviations of this run)
	Progress        func(Progress) // optional
	Log             func(string)   // optional: skipped files, reused rows
}

// DeepBudget is the hidden-layer cost (multiply-adds per image, forward)
// above which a readout counts as too heavy to train on every photo.
const DeepBudget = 1e9

// Progress is one step of a run.
type Progress struct {
	Stage       string // identity of the bar: changes when a new phase starts
	Desc        string // what is happening
	Done, Total int
	Unit        string // "img" or "step"
	RowsDone    int
	Rows        int
}

// featureSize is the side the taps are resized to (the readout's input).
const featureSize = 28

type pending struct {
	table Table
	row   Row
}

type runner struct {
	cfg   RunConfig
	rep   *Report
	sig   string
	done  int
	rows  int
	train *probe.Images
	test  *probe.Images
	// deepNoted: the run's notes already say how heavy rows were trained.
	deepNoted bool
}

// runSignature identifies the data and recipe of a run; saved rows are reused
// only under the same signature.
func (c RunConfig) runSignature(ntrain, ntest int) string {
	return fmt.Sprintf("train=%s:%d test=%s:%d epochs=%d seed=%d stripes=%s deep=%d width=%d",
		filepath.Base(filepath.Clean(c.TrainDir)), ntrain, filepath.Base(filepath.Clean(c.TestDir)), ntest,
		c.Epochs, c.Seed, c.Stripes, c.DeepImages, c.Width)
}

// SelectTables returns the tables whose IDs are in ids (all when empty).
func SelectTables(ids []string) ([]Table, error) {
	all := Tables()
	if len(ids) == 0 {
		return all, nil
	}
	var out []Table
	for _, id := range ids {
		i := slices.IndexFunc(all, func(t Table) bool { return t.ID == id })
		if i < 0 {
			var known []string
			for _, t := range all {
				known = append(known, t.ID)
			}
			return nil, fmt.Errorf("unknown table %q (known: %s)", id, strings.Join(known, ", "))
		}
		if !slices.ContainsFunc(out, func(t Table) bool { return t.ID == id }) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// Run fills the selected tables: rows sharing an encoder pass share one
// feature extraction (training photos, then test sets), each readout is
// trained once per setting and target (cached under Out/cache/readouts),
// and every finished row is saved as Out/cache/rows/<table>-<row>.json, so a
// restart skips it. Rows that cannot run are recorded with the reason.
// On cancellation the rows finished so far are in the returned report.
func Run(ctx context.Context, cfg RunConfig) (*Report, error) {
	start := time.Now()
	if cfg.Epochs == 0 {
		cfg.Epochs = readout.DefaultTrainOptions().Epochs
	}
	if cfg.Epochs < 0 || cfg.MaxTrain < 0 || cfg.MaxTest < 0 || cfg.DeepImages < 0 {
		return nil, fmt.Errorf("negative epochs or image counts")
	}
	if cfg.Out == "" {
		return nil, fmt.Errorf("no results folder")
	}
	tables, err := SelectTables(cfg.Tables)
	if err != nil {
		return nil, err
	}
	train, err := probe.Folder(cfg.TrainDir, true, cfg.MaxTrain)
	if err != nil {
		return nil, fmt.Errorf("training images: %w", err)
	}
	test, err := probe.Folder(cfg.TestDir, true, cfg.MaxTest)
	if err != nil {
		return nil, fmt.Errorf("test images: %w", err)
	}
	for _, d := range []string{"cache/rows", "cache/readouts", "cache/maps"} {
		if err := os.MkdirAll(filepath.Join(cfg.Out, d), 0o755); err != nil {
			return nil, err
		}
	}
	r := &runner{cfg: cfg, train: train, test: test, sig: cfg.runSignature(train.Len(), test.Len())}
	r.rep = &Report{Tables: tables, Rows: map[string]RowResult{}, Info: RunInfo{
		Command: cfg.Command, TrainImages: cfg.TrainDir, NTrain: train.Len(), TestImages: cfg.TestDir, NTest: test.Len(),
		Epochs: cfg.Epochs, Seed: cfg.Seed, Quick: cfg.Quick, Notes: cfg.Notes, Stripes: cfg.Stripes.String(), Threads: runtime.GOMAXPROCS(0),
		GoVersion: runtime.Version(), Started: start.UTC().Format(time.RFC3339),
	}}
	for i := 0; i < min(cfg.FigureImages, test.Len()); i++ {
		r.rep.Info.FigurePhotos = append(r.rep.Info.FigurePhotos, test.Paths[i])
	}

	// Saved rows of this same run come back; the rest are grouped by encoder pass.
	groups := map[string][]pending{}
	var order []string
	for _, tb := range tables {
		for _, row := range tb.Rows {
			r.rows++
			if rr, ok := r.loadRow(tb.ID, row); ok {
				r.rep.Rows[RowKey(tb.ID, row.ID)] = rr
				r.done++
				continue
			}
			k := row.Setting.FeatureKey()
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], pending{tb, row})
		}
	}
	r.rep.Info.Resumed = r.done
	if r.done > 0 {
		r.log(fmt.Sprintf("%d of %d rows already done in %s", r.done, r.rows, filepath.Join(cfg.Out, "cache", "rows")))
	}
	for _, k := range order {
		if err := r.runGroup(ctx, groups[k]); err != nil {
			r.rep.Info.Seconds = time.Since(start).Seconds()
			return r.rep, err
		}
		debug.FreeOSMemory()
	}
	r.rep.Info.Seconds = time.Since(start).Seconds()
	return r.rep, nil
}

func (r *runner) log(s string) {
	if r.cfg.Log != nil {
		r.cfg.Log(s)
	}
}

// skip reports an unreadable photo once and counts it in the report.
func (r *runner) skip(e error) {
	var se *probe.SkipError
	if errors.As(e, &se) {
		if slices.Contains(r.rep.Info.Skipped, se.Path) {
			return
		}
		r.rep.Info.Skipped = append(r.rep.Info.Skipped, se.Path)
	}
	r.log(e.Error())
}

func (r *runner) progress(p Progress) {
	if r.cfg.Progress != nil {
		p.RowsDone, p.Rows = r.done, r.rows
		r.cfg.Progress(p)
	}
}
