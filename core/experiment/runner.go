package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/weights"
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
	cfg     RunConfig
	rep     *Report
	sig     string
	done    int
	rows    int
	train   *probe.Images
	test    *probe.Images
	figKept []int
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

// RowFile is where a finished row is saved, relative to the results folder.
func RowFile(table, row string) string {
	return filepath.Join("cache", "rows", table+"-"+strings.ReplaceAll(row, "/", "_")+".json")
}

// MapFile is where the predicted map of figure photo i is kept, relative to
// the results folder.
func MapFile(table, row, target string, i int) string {
	return filepath.Join("cache", "maps", fmt.Sprintf("%s-%s-%s-%d.png", table, strings.ReplaceAll(row, "/", "_"), target, i))
}

func (r *runner) loadRow(table string, row Row) (RowResult, bool) {
	b, err := os.ReadFile(filepath.Join(r.cfg.Out, RowFile(table, row.ID)))
	if err != nil {
		return RowResult{}, false
	}
	var rr RowResult
	if err := json.Unmarshal(b, &rr); err != nil {
		r.log(fmt.Sprintf("%s: unreadable (%v); running the row again", RowFile(table, row.ID), err))
		return RowResult{}, false
	}
	same := rr.Run == r.sig && rr.Table == table && rr.Row == row.ID && rr.Setting.Key() == row.Setting.Key()
	if !same || (rr.Status != StatusOK && rr.Status != StatusUnavailable) {
		return RowResult{}, false
	}
	// Rows unavailable for missing weights are tried again: the weights may be there now.
	if rr.Status == StatusUnavailable && strings.HasPrefix(rr.Reason, reasonWeights) {
		return RowResult{}, false
	}
	return rr, true
}

func (r *runner) saveRow(rr RowResult) error {
	rr.Run = r.sig
	r.rep.Rows[RowKey(rr.Table, rr.Row)] = rr
	r.done++
	what := rr.Status
	if rr.Status == StatusOK {
		what = fmt.Sprintf("done in %.0f s (+%.0f s shared feature extraction)", rr.Seconds, rr.ExtractSeconds)
	}
	r.log(fmt.Sprintf("[%d/%d] table %s row %s: %s", r.done, r.rows, rr.Table, rr.Row, what))
	b, err := json.MarshalIndent(rr, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(r.cfg.Out, RowFile(rr.Table, rr.Row)), append(b, '\n'))
}

// writeAtomic writes through a temporary file and a rename, so an
// interrupted write never leaves a half file under the final name.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

const reasonWeights = "weights not available"

// job is one readout to have: a row's target.
type job struct {
	p      pending
	target posmap.Target
	ro     *readout.Readout
}

func (r *runner) runGroup(ctx context.Context, ps []pending) error {
	s := ps[0].row.Setting
	gkey := s.FeatureKey()
	enc, err := r.buildEncoder(ctx, s)
	if err != nil {
		status, reason := StatusFailed, err.Error()
		var we *weightsError
		if errors.As(err, &we) {
			status, reason = StatusUnavailable, we.Error()
		}
		for _, p := range ps {
			if err := r.saveRow(RowResult{Table: p.table.ID, Row: p.row.ID, Setting: p.row.Setting, Status: status, Reason: reason}); err != nil {
				return err
			}
		}
		return nil
	}
	tapNames := make([]string, len(enc.Taps()))
	totalC := 0
	for i, t := range enc.Taps() {
		tapNames[i] = t.Name
		totalC += t.Channels
	}
	sel := func(st Setting) []int {
		if st.Taps == nil {
			return nil
		}
		out := make([]int, len(st.Taps))
		for i, t := range st.Taps {
			out[i] = t - 1
		}
		return out
	}

	// How many training photos fit the feature budget.
	trainN, perImage := r.train.Len(), int64(totalC)*featureSize*featureSize*4
	if r.cfg.MaxFeatureBytes > 0 {
		trainN = int(min(int64(trainN), max(1, r.cfg.MaxFeatureBytes/perImage)))
	}
	capNote := ""
	if trainN < r.train.Len() {
		capNote = fmt.Sprintf("trained on the first %d training photos: the features of all %d would take %.1f GB (limit %.1f GB)",
			trainN, r.train.Len(), float64(perImage)*float64(r.train.Len())/1e9, float64(r.cfg.MaxFeatureBytes)/1e9)
	}
	trainSet := &probe.Images{Name: r.train.Name, Paths: r.train.Paths[:trainN]}

	// Which readouts exist already; which rows are too heavy.
	var jobs []*job
	notes := map[string]string{}
	heavy := map[string]bool{}
	failed := map[string]string{} // row key -> why its training failed
	var live []pending
	for _, p := range ps {
		key := RowKey(p.table.ID, p.row.ID)
		st := p.row.Setting
		c := totalC
		if st.Taps != nil {
			c = 0
			for _, t := range st.Taps {
				if t < 1 || t > len(enc.Taps()) {
					if err := r.saveRow(RowResult{Table: p.table.ID, Row: p.row.ID, Setting: st, Status: StatusFailed,
						Reason: fmt.Sprintf("tap f%d: %s has %d taps", t, enc.Name(), len(enc.Taps()))}); err != nil {
						return err
					}
					c = -1
					break
				}
				c += enc.Taps()[t-1].Channels
			}
			if c < 0 {
				continue
			}
		}
		if mac := hiddenMAC(st, c); mac > DeepBudget {
			if r.cfg.DeepImages == 0 {
				reason := fmt.Sprintf("readout hidden layers of full width (%dx%d %dx%d convs) cost %.1f GMAC per image per layer, "+
					"about %.0fx the single-layer readout: too slow for a CPU run on every photo; rerun with --deep-images N to train them on N photos",
					c, c, st.Kernel, st.Kernel, mac/float64(st.Depth-1)/1e9, mac/float64(st.Depth-1)/outMAC(st, c))
				if err := r.saveRow(RowResult{Table: p.table.ID, Row: p.row.ID, Setting: st, Status: StatusUnavailable, Reason: reason, Channels: c}); err != nil {
					return err
				}
				continue
			}
			if !r.deepNoted {
				r.deepNoted = true
				r.rep.Info.Notes = append(r.rep.Info.Notes, fmt.Sprintf("Deviation: readouts with full-width hidden layers on an encoder (Table 2a, depth 2-3) "+
					"were trained on the first %d training photos only; a %d-channel hidden %dx%d layer costs about %.0fx the single-layer readout.",
					min(r.cfg.DeepImages, trainN), c, st.Kernel, st.Kernel, mac/float64(st.Depth-1)/outMAC(st, c)))
			}
			heavy[key] = true
			notes[key] = fmt.Sprintf("trained on the first %d training photos only (full-width hidden layers, %.1f GMAC per image per layer)",
				min(r.cfg.DeepImages, trainN), mac/float64(st.Depth-1)/1e9)
		} else if capNote != "" {
			notes[key] = capNote
		}
		live = append(live, p)
		for _, tname := range p.table.Targets {
			t, err := posmap.ParseTarget(tname)
			if err != nil {
				return err
			}
			j := &job{p: p, target: t}
			j.ro = r.cachedReadout(st, t, c, trainN)
			jobs = append(jobs, j)
		}
	}
	if len(live) == 0 {
		return nil
	}
	rowSecs := map[string]float64{}
	var extractSecs float64

	// Training: features of the training photos once, every missing readout.
	if slices.ContainsFunc(jobs, func(j *job) bool { return j.ro == nil }) {
		t0 := time.Now()
		feats, skipped, err := probe.Extract(ctx, enc, trainSet, nil, featureSize, func(d, n int) {
			r.progress(Progress{Stage: "features " + gkey + " train", Desc: "features " + gkey + " (train)", Done: d, Total: n, Unit: "img"})
		})
		for _, e := range skipped {
			r.skip(e)
		}
		if err != nil {
			return err
		}
		extractSecs += time.Since(t0).Seconds()
		for _, p := range live {
			key := RowKey(p.table.ID, p.row.ID)
			var rowJobs []*job
			for _, j := range jobs {
				if j.p.table.ID == p.table.ID && j.p.row.ID == p.row.ID && j.ro == nil {
					rowJobs = append(rowJobs, j)
				}
			}
			if len(rowJobs) == 0 {
				continue
			}
			st := p.row.Setting
			f, err := probe.SelectChannels(feats, enc.Taps(), sel(st))
			if err != nil {
				return err
			}
			if heavy[key] {
				f = probe.Subset(f, r.cfg.DeepImages)
			}
			steps := (f.N + 31) / 32
			total := steps * r.cfg.Epochs * len(rowJobs)
			done := 0
			for _, j := range rowJobs {
				// Another row of this group may have trained the same readout just now.
				if j.ro = r.cachedReadout(st, j.target, f.C, trainN); j.ro != nil {
					done += steps * r.cfg.Epochs
					continue
				}
				t1 := time.Now()
				cfg := readoutConfig(st, tapNames)
				opts := readout.TrainOptions{Epochs: r.cfg.Epochs, Seed: r.cfg.Seed*8 + uint64(j.target)}
				ro, err := readout.Train(ctx, cfg, f, posmap.Map(j.target, cfg.OutSize, posmap.Options{Stripes: r.cfg.Stripes}), opts,
					func(pr readout.Progress) {
						done++
						r.progress(Progress{Stage: "train " + key, Unit: "step", Done: done, Total: total,
							Desc: fmt.Sprintf("table %s %s: %s epoch %d/%d loss %.4f", p.table.ID, p.row.ID, j.target, pr.Epoch+1, pr.Epochs, pr.Loss)})
					})
				if err != nil {
					if ctx.Err() != nil {
						return err
					}
					// A diverged readout fails its row; the run goes on.
					failed[key] = fmt.Sprintf("target %s: %v", j.target, err)
					break
				}
				ro.Meta = readout.Meta{Encoder: st.Encoder, Init: st.Init, Seed: r.cfg.Seed, Padding: st.Padding, Target: j.target.String(),
					Stripes: r.cfg.Stripes.String(), Training: ro.Meta.Training}
				ro.Meta.Training.Images = r.cfg.TrainDir
				if err := r.saveReadout(st, j.target, ro); err != nil {
					return err
				}
				j.ro = ro
				rowSecs[key] += time.Since(t1).Seconds()
			}
			if f != feats {
				f = nil
			}
		}
		feats = nil
		debug.FreeOSMemory()
	}

	// Evaluation: each test set once, every row of the group on it.
	sets := map[string]bool{}
	for _, p := range live {
		for _, s := range p.table.Sets {
			sets[s] = true
		}
	}
	acc := map[string]map[string]map[string]*scoreSum{} // row key -> target -> set
	chunk := trainN                                     // test photos per extraction: the same feature budget
	evalDone := map[string]probe.Score{}
	for _, set := range []string{Natural, Black, White, Noise} {
		if !sets[set] {
			continue
		}
		imgs := r.test
		if set != Natural {
			if imgs, err = probe.Synthetic(set, r.cfg.DataDir); err != nil {
				return err
			}
		}
		n := imgs.Len()
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			part := imgs
			if imgs.Paths != nil {
				part = &probe.Images{Name: imgs.Name, Paths: imgs.Paths[lo:hi]}
			}
			t0 := time.Now()
			feats, skipped, err := probe.Extract(ctx, enc, part, nil, featureSize, func(d, _ int) {
				r.progress(Progress{Stage: "features " + gkey + " " + set, Desc: "features " + gkey + " (" + set + ")", Done: lo + d, Total: n, Unit: "img"})
			})
			for _, e := range skipped {
				r.skip(e)
			}
			if lo == 0 && set == Natural {
				r.figKept = probe.Kept(part.Len(), skipped)
			}
			if err != nil {
				if len(skipped) == part.Len() && ctx.Err() == nil {
					continue // a chunk of unreadable files: reported above
				}
				return err
			}
			extractSecs += time.Since(t0).Seconds()
			for _, p := range live {
				if !slices.Contains(p.table.Sets, set) || failed[RowKey(p.table.ID, p.row.ID)] != "" {
					continue
				}
				key := RowKey(p.table.ID, p.row.ID)
				t1 := time.Now()
				f, err := probe.SelectChannels(feats, enc.Taps(), sel(p.row.Setting))
				if err != nil {
					return err
				}
				for _, j := range jobs {
					if j.p.table.ID != p.table.ID || j.p.row.ID != p.row.ID {
						continue
					}
					gt := posmap.Map(j.target, j.ro.Config.OutSize, posmap.Options{Stripes: r.cfg.Stripes})
					var keep func(int, []float32)
					if set == Natural && lo == 0 && (p.table.ID == "1" || p.table.ID == "4") {
						keep = r.keepMap(p, j.target)
					}
					// Rows of several tables share a setting: score its readout once per chunk.
					ek := fmt.Sprintf("%s/%s/%s/%d", p.row.Setting.Key(), j.target, set, lo)
					sc, done := evalDone[ek]
					if !done || keep != nil {
						if sc, err = probe.EvaluateEach(j.ro, f, gt, keep); err != nil {
							return fmt.Errorf("table %s row %s target %s on %s: %w", p.table.ID, p.row.ID, j.target, set, err)
						}
						evalDone[ek] = sc
					}
					if acc[key] == nil {
						acc[key] = map[string]map[string]*scoreSum{}
					}
					tg := j.target.String()
					if acc[key][tg] == nil {
						acc[key][tg] = map[string]*scoreSum{}
					}
					if acc[key][tg][set] == nil {
						acc[key][tg][set] = &scoreSum{}
					}
					acc[key][tg][set].add(sc)
				}
				rowSecs[key] += time.Since(t1).Seconds()
			}
			feats = nil
		}
	}
	scores := map[string]map[string]map[string]Score{}
	for key, byTarget := range acc {
		scores[key] = map[string]map[string]Score{}
		for tg, bySet := range byTarget {
			scores[key][tg] = map[string]Score{}
			for set, sum := range bySet {
				scores[key][tg][set] = sum.score()
			}
		}
	}

	for _, p := range live {
		key := RowKey(p.table.ID, p.row.ID)
		if why := failed[key]; why != "" {
			if err := r.saveRow(RowResult{Table: p.table.ID, Row: p.row.ID, Setting: p.row.Setting, Status: StatusFailed, Reason: why}); err != nil {
				return err
			}
			continue
		}
		rr := RowResult{Table: p.table.ID, Row: p.row.ID, Setting: p.row.Setting, Status: StatusOK, Note: notes[key],
			Scores: scores[key], FinalLoss: map[string]float64{}, Seconds: rowSecs[key], ExtractSeconds: extractSecs}
		for _, j := range jobs {
			if j.p.table.ID == p.table.ID && j.p.row.ID == p.row.ID {
				rr.FinalLoss[j.target.String()] = j.ro.Meta.Training.FinalLoss
				rr.Channels = j.ro.Channels
				rr.TrainImages = j.ro.Meta.Training.NImages
			}
		}
		if err := r.saveRow(rr); err != nil {
			return err
		}
		if p.table.ID == "1" && r.cfg.DemoDir != "" {
			if err := r.saveDemo(rr, jobs); err != nil {
				return err
			}
		}
	}
	return nil
}

// hiddenMAC is the forward cost of a readout's hidden layers per image.
func hiddenMAC(s Setting, c int) float64 {
	if s.Depth <= 1 {
		return 0
	}
	total, side := 0.0, featureSize
	for i := 0; i < s.Depth-1; i++ {
		side += 2*s.Pad - s.Kernel + 1
		total += float64(c) * float64(c) * float64(s.Kernel*s.Kernel) * float64(side*side)
	}
	return total
}

// outMAC is the forward cost of the single output layer per image.
func outMAC(s Setting, c int) float64 {
	side := featureSize + 2*s.Pad - s.Kernel + 1
	return float64(c) * float64(s.Kernel*s.Kernel) * float64(side*side)
}

func readoutConfig(s Setting, tapNames []string) readout.Config {
	cfg := readout.DefaultConfig()
	cfg.Kernel, cfg.Pad, cfg.Depth = s.Kernel, s.Pad, s.Depth
	if s.Taps != nil {
		for _, t := range s.Taps {
			cfg.Taps = append(cfg.Taps, tapNames[t-1])
		}
	} else {
		cfg.Taps = append([]string(nil), tapNames...)
	}
	return cfg
}

// weightsError is an encoder whose ImageNet weights are not here.
type weightsError struct{ msg string }

func (e *weightsError) Error() string { return e.msg }

func (r *runner) buildEncoder(ctx context.Context, s Setting) (encoder.Encoder, error) {
	pad, err := nn.ParsePadMode(s.Padding)
	if err != nil {
		return nil, err
	}
	if s.Encoder != "none" && readout.NormInit(s.Init) == encoder.InitImageNet {
		if r.cfg.Width != 0 { // the committed SqueezeNet weights are found, but only fit full width
			return nil, &weightsError{fmt.Sprintf("%s: %s: pretrained weights exist at full width only, not width %d", reasonWeights, s.Encoder, r.cfg.Width)}
		}
		if _, err := weights.Resolve(ctx, s.Encoder, weights.Options{DataDir: r.cfg.DataDir}); err != nil {
			return nil, &weightsError{fmt.Sprintf("%s: %v", reasonWeights, err)}
		}
	}
	enc, err := encoder.New(s.Encoder, encoder.Options{Init: s.Init, Seed: r.cfg.Seed, Padding: pad, DataDir: r.cfg.DataDir, Width: r.cfg.Width})
	if err != nil {
		return nil, fmt.Errorf("encoder %s: %w", s.Encoder, err)
	}
	return enc, nil
}

func (r *runner) readoutPath(s Setting, t posmap.Target) string {
	return filepath.Join(r.cfg.Out, "cache", "readouts", s.Key()+"_"+t.String()+readout.Ext)
}

// cachedReadout returns the readout of this run's recipe saved earlier, or nil.
func (r *runner) cachedReadout(s Setting, t posmap.Target, channels, trainN int) *readout.Readout {
	path := r.readoutPath(s, t)
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	ro, err := readout.Load(f, path)
	if err != nil {
		r.log(fmt.Sprintf("%v: training it again", err))
		return nil
	}
	tr := ro.Meta.Training
	want := trainN
	if r.cfg.DeepImages > 0 && hiddenMAC(s, channels) > DeepBudget {
		want = min(want, r.cfg.DeepImages)
	}
	if ro.Channels != channels || tr.EpochsDone != r.cfg.Epochs || tr.Epochs != r.cfg.Epochs || tr.Seed != r.cfg.Seed*8+uint64(t) ||
		ro.Meta.Stripes != r.cfg.Stripes.String() || ro.Meta.Seed != r.cfg.Seed || tr.Images != r.cfg.TrainDir || tr.NImages > want ||
		tr.NImages < want-max(want/50, len(r.rep.Info.Skipped)) {
		return nil
	}
	return ro
}

func (r *runner) saveReadout(s Setting, t posmap.Target, ro *readout.Readout) error {
	return saveReadoutFile(r.readoutPath(s, t), ro)
}

func saveReadoutFile(path string, ro *readout.Readout) error {
	var b strings.Builder
	if err := ro.Save(&b); err != nil {
		return err
	}
	return writeAtomic(path, []byte(b.String()))
}

// saveDemo writes a Table 1 row's readouts, with their test scores, where
// the demo reads them.
func (r *runner) saveDemo(rr RowResult, jobs []*job) error {
	if err := os.MkdirAll(r.cfg.DemoDir, 0o755); err != nil {
		return err
	}
	for _, j := range jobs {
		if j.p.table.ID != rr.Table || j.p.row.ID != rr.Row {
			continue
		}
		ro := j.ro.Clone()
		ro.Meta.Metrics = map[string]float64{}
		name := filepath.Base(filepath.Clean(r.cfg.TestDir))
		if sc, ok := rr.Score(j.target.String(), Natural); ok {
			ro.Meta.Metrics[name+"_spc"], ro.Meta.Metrics[name+"_mae"], ro.Meta.Metrics[name+"_n"] = sc.SPC, sc.MAE, float64(sc.N)
		}
		s := rr.Setting
		init := s.Init
		if s.Encoder == "none" {
			// none has no weights; the demo and the train command name it by the default init.
			init = readout.NormInit("")
			ro.Meta.Init = init
		}
		if err := saveReadoutFile(filepath.Join(r.cfg.DemoDir, readout.FileName(s.Encoder, init, s.Padding, j.target.String())), ro); err != nil {
			return err
		}
	}
	return nil
}

// keepMap returns a hook that saves the predictions of the figure photos as
// 8-bit grey PNGs.
func (r *runner) keepMap(p pending, t posmap.Target) func(int, []float32) {
	n := len(r.rep.Info.FigurePhotos)
	return func(i int, pred []float32) {
		if i >= n || i >= len(r.figKept) || r.figKept[i] != i {
			return
		}
		side := 1
		for side*side < len(pred) {
			side++
		}
		img := image.NewGray(image.Rect(0, 0, side, side))
		for k, v := range pred {
			img.Pix[k] = uint8(min(max(v, 0), 1)*255 + 0.5)
		}
		path := filepath.Join(r.cfg.Out, MapFile(p.table.ID, p.row.ID, t.String(), i))
		var b strings.Builder
		if err := png.Encode(&b, img); err == nil {
			if err := writeAtomic(path, []byte(b.String())); err != nil {
				r.log(err.Error())
			}
		}
	}
}

// scoreSum merges the scores of chunks of a test set (probe.Merge).
type scoreSum struct{ probe.Score }

func (s *scoreSum) add(sc probe.Score) { s.Score = probe.Merge(s.Score, sc) }

func (s *scoreSum) score() Score {
	return Score{Cell: Cell{SPC: s.SPC, MAE: s.MAE}, SPCStd: s.SPCStd, N: s.N, Constant: s.Constant}
}
