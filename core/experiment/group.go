package experiment

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/weights"
	"gorgonia.org/tensor"
)

// A group is the rows that share one encoder pass (Setting.FeatureKey). It
// runs in four steps: plan (which rows can run, on how many photos, which
// readouts are cached), train (the training photos' features once, every
// missing readout), evaluate (each test set once, every readout on it)
// and finish (save the rows).
type group struct {
	key            string // Setting.FeatureKey
	enc            encoder.Encoder
	tapNames       []string
	trainN         int // training photos within the feature budget; also the test photos per chunk
	rows           []*rowPlan
	extractSeconds float64 // feature extraction, shared by every row of the group
}

// rowPlan is one row of a group that runs: what its readouts read, their
// training photos, the readouts (one per target of its table) and what
// they measured.
type rowPlan struct {
	table    Table
	row      Row
	key      string // RowKey
	sel      []int  // encoder tap indices the readouts read (nil: all)
	channels int
	heavy    bool   // full-width hidden layers: trained on RunConfig.DeepImages photos
	note     string // how the row deviates from its table's recipe
	targets  []posmap.Target
	readouts []*readout.Readout // per target; nil until loaded or trained
	failed   string             // why training failed ("" = it did not)
	seconds  float64
	scores   map[string]map[string]score.Score // target -> set
}

func (r *runner) runGroup(ctx context.Context, ps []pending) error {
	g, err := r.plan(ctx, ps)
	if err != nil || g == nil {
		return err
	}
	if err := r.trainGroup(ctx, g); err != nil {
		return err
	}
	if err := r.evaluate(ctx, g); err != nil {
		return err
	}
	return r.finish(g)
}

// plan builds the group's encoder and plans its rows; rows that cannot run
// are saved with the reason. It returns nil when no row is left to run.
func (r *runner) plan(ctx context.Context, ps []pending) (*group, error) {
	s := ps[0].row.Setting
	enc, err := r.buildEncoder(ctx, s)
	if err != nil {
		status, reason := StatusFailed, err.Error()
		var we *weightsError
		if errors.As(err, &we) {
			status, reason = StatusUnavailable, we.Error()
		}
		for _, p := range ps {
			if err := r.saveRow(RowResult{Table: p.table.ID, Row: p.row.ID, Setting: p.row.Setting, Status: status, Reason: reason}); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	g := &group{key: s.FeatureKey(), enc: enc}
	totalC := 0
	for _, t := range enc.Taps() {
		g.tapNames = append(g.tapNames, t.Name)
		totalC += t.Channels
	}
	// How many training photos fit the feature budget.
	perImage := int64(totalC) * featureSize * featureSize * 4
	g.trainN = r.train.Len()
	if r.cfg.MaxFeatureBytes > 0 {
		g.trainN = int(min(int64(g.trainN), max(1, r.cfg.MaxFeatureBytes/perImage)))
	}
	capNote := ""
	if g.trainN < r.train.Len() {
		capNote = fmt.Sprintf("trained on the first %d training photos: the features of all %d would take %.1f GB (limit %.1f GB)",
			g.trainN, r.train.Len(), float64(perImage)*float64(r.train.Len())/1e9, float64(r.cfg.MaxFeatureBytes)/1e9)
	}
	for _, p := range ps {
		rp, err := r.planRow(g, p, totalC, capNote)
		if err != nil {
			return nil, err
		}
		if rp != nil {
			g.rows = append(g.rows, rp)
		}
	}
	if len(g.rows) == 0 {
		return nil, nil
	}
	return g, nil
}

// planRow checks a row's taps and cost and finds its cached readouts; a row
// that cannot run is saved with the reason and planRow returns nil.
func (r *runner) planRow(g *group, p pending, totalC int, capNote string) (*rowPlan, error) {
	st := p.row.Setting
	rp := &rowPlan{table: p.table, row: p.row, key: RowKey(p.table.ID, p.row.ID), channels: totalC}
	if st.Taps != nil {
		taps := g.enc.Taps()
		rp.channels = 0
		for _, t := range st.Taps {
			if t < 1 || t > len(taps) {
				return nil, r.saveRow(RowResult{Table: p.table.ID, Row: p.row.ID, Setting: st, Status: StatusFailed,
					Reason: fmt.Sprintf("tap f%d: %s has %d taps", t, g.enc.Name(), len(taps))})
			}
			rp.sel = append(rp.sel, t-1)
			rp.channels += taps[t-1].Channels
		}
	}
	c := rp.channels
	if mac := hiddenMAC(st, c); mac > DeepBudget {
		perLayer := mac / float64(st.Depth-1)
		if r.cfg.DeepImages == 0 {
			reason := fmt.Sprintf("readout hidden layers of full width (%dx%d %dx%d convs) cost %.1f GMAC per image per layer, "+
				"about %.0fx the single-layer readout: too slow for a CPU run on every photo; rerun with --deep-images N to train them on N photos",
				c, c, st.Kernel, st.Kernel, perLayer/1e9, perLayer/outMAC(st, c))
			return nil, r.saveRow(RowResult{Table: p.table.ID, Row: p.row.ID, Setting: st, Status: StatusUnavailable, Reason: reason, Channels: c})
		}
		if !r.deepNoted {
			r.deepNoted = true
			r.rep.Info.Notes = append(r.rep.Info.Notes, fmt.Sprintf("Deviation: readouts with full-width hidden layers on an encoder (Table 2a, depth 2-3) "+
				"were trained on the first %d training photos only; a %d-channel hidden %dx%d layer costs about %.0fx the single-layer readout.",
				min(r.cfg.DeepImages, g.trainN), c, st.Kernel, st.Kernel, perLayer/outMAC(st, c)))
		}
		rp.heavy = true
		rp.note = fmt.Sprintf("trained on the first %d training photos only (full-width hidden layers, %.1f GMAC per image per layer)",
			min(r.cfg.DeepImages, g.trainN), perLayer/1e9)
	} else {
		rp.note = capNote
	}
	for _, t := range p.table.Targets {
		rp.targets = append(rp.targets, t)
		rp.readouts = append(rp.readouts, r.cachedReadout(st, t, c, g.trainN))
	}
	return rp, nil
}

// trainGroup extracts the features of the training photos once and trains
// every readout not cached.
func (r *runner) trainGroup(ctx context.Context, g *group) error {
	if !slices.ContainsFunc(g.rows, func(rp *rowPlan) bool { return slices.Contains(rp.readouts, nil) }) {
		return nil
	}
	trainSet := &probe.Images{Name: r.train.Name, Paths: r.train.Paths[:g.trainN]}
	t0 := time.Now()
	feats, skipped, err := probe.Extract(ctx, g.enc, trainSet, nil, featureSize, func(d, n int) {
		r.progress(Progress{Stage: "features " + g.key + " train", Desc: "features " + g.key + " (train)", Done: d, Total: n, Unit: "img"})
	})
	for _, e := range skipped {
		r.skip(e)
	}
	if err != nil {
		return err
	}
	g.extractSeconds += time.Since(t0).Seconds()
	for _, rp := range g.rows {
		if err := r.trainRow(ctx, g, rp, feats); err != nil {
			return err
		}
	}
	feats = nil
	debug.FreeOSMemory()
	return nil
}

// trainRow trains the row's missing readouts on its taps of feats. A
// readout that diverges fails its row; the run goes on.
func (r *runner) trainRow(ctx context.Context, g *group, rp *rowPlan, feats *tensor.Dense) error {
	missing := 0
	for _, ro := range rp.readouts {
		if ro == nil {
			missing++
		}
	}
	if missing == 0 {
		return nil
	}
	st := rp.row.Setting
	f, err := probe.SelectChannels(feats, g.enc.Taps(), rp.sel)
	if err != nil {
		return err
	}
	if rp.heavy {
		f = probe.Subset(f, r.cfg.DeepImages)
	}
	n, c, _, _ := nn.Dims4(f)
	steps := (n + 31) / 32
	total := steps * r.cfg.Epochs * missing
	done := 0
	for i, t := range rp.targets {
		if rp.readouts[i] != nil {
			continue
		}
		// Another row of this group may have trained the same readout just now.
		if rp.readouts[i] = r.cachedReadout(st, t, c, g.trainN); rp.readouts[i] != nil {
			done += steps * r.cfg.Epochs
			continue
		}
		t1 := time.Now()
		ro, err := r.trainReadout(ctx, st, t, f, g.tapNames, func(pr readout.Progress) {
			done++
			r.progress(Progress{Stage: "train " + rp.key, Unit: "step", Done: done, Total: total,
				Desc: fmt.Sprintf("table %s %s: %s epoch %d/%d loss %.4f", rp.table.ID, rp.row.ID, t, pr.Epoch+1, pr.Epochs, pr.Loss)})
		})
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			rp.failed = fmt.Sprintf("target %s: %v", t, err)
			return nil
		}
		rp.readouts[i] = ro
		rp.seconds += time.Since(t1).Seconds()
	}
	return nil
}

// trainReadout trains the readout of setting st for target t on f and
// saves it in the cache; a training error is returned unsaved.
func (r *runner) trainReadout(ctx context.Context, st Setting, t posmap.Target, f *tensor.Dense, tapNames []string,
	progress func(readout.Progress)) (*readout.Readout, error) {
	cfg := readoutConfig(st, tapNames)
	opts := readout.TrainOptions{Epochs: r.cfg.Epochs, Seed: probe.ReadoutSeed(r.cfg.Seed, t)}
	ro, err := readout.Train(ctx, cfg, f, posmap.Map(t, cfg.OutSize, posmap.Options{Stripes: r.cfg.Stripes}), opts, progress)
	if err != nil {
		return nil, err
	}
	ro.Meta = readout.Meta{Encoder: st.Encoder, Init: st.Init, Seed: r.cfg.Seed, Padding: st.Padding, Target: t,
		Stripes: r.cfg.Stripes.String(), Training: ro.Meta.Training}
	ro.Meta.Training.Images = r.cfg.TrainDir
	return ro, r.saveReadout(st, t, ro)
}

// evaluate scores every readout of the group on each test set its tables
// list, one encoder pass over the set (in chunks of the training budget).
func (r *runner) evaluate(ctx context.Context, g *group) error {
	for _, set := range []string{Natural, Black, White, Noise} {
		if !slices.ContainsFunc(g.rows, func(rp *rowPlan) bool { return rp.failed == "" && slices.Contains(rp.table.Sets, set) }) {
			continue
		}
		imgs := r.test
		if set != Natural {
			var err error
			if imgs, err = probe.Synthetic(set, r.cfg.DataDir); err != nil {
				return err
			}
		}
		evals, users := r.evals(g, set)
		res, err := probe.EvaluateSet(ctx, g.enc, imgs, evals, probe.SetOptions{
			Chunk: g.trainN,
			Progress: func(done, total int) {
				r.progress(Progress{Stage: "features " + g.key + " " + set, Desc: "features " + g.key + " (" + set + ")", Done: done, Total: total, Unit: "img"})
			},
			Skip: r.skip,
		})
		if err != nil {
			return err
		}
		g.extractSeconds += res.ExtractSeconds
		for k, us := range users {
			us[0].rp.seconds += res.EvalSeconds[k]
			if res.Scores[k].N == 0 {
				continue // no readable photo
			}
			for _, u := range us {
				u.rp.setScore(u.target, set, res.Scores[k])
			}
		}
	}
	return nil
}

// use is a row's target scored by an Eval.
type use struct {
	rp     *rowPlan
	target posmap.Target
}

// evals lists one Eval per readout of the group to score on set, and the
// rows' targets that take its score: rows of several tables share a
// setting, and its readout is scored once.
func (r *runner) evals(g *group, set string) ([]probe.Eval, [][]use) {
	var evals []probe.Eval
	var users [][]use
	index := map[string]int{}
	for _, rp := range g.rows {
		if rp.failed != "" || !slices.Contains(rp.table.Sets, set) {
			continue
		}
		for i, t := range rp.targets {
			k, ok := index[rp.row.Setting.Key()+"/"+t.String()]
			if !ok {
				k = len(evals)
				index[rp.row.Setting.Key()+"/"+t.String()] = k
				ro := rp.readouts[i]
				evals = append(evals, probe.Eval{Readout: ro, Taps: rp.sel,
					Name:  fmt.Sprintf("table %s row %s target %s on %s", rp.table.ID, rp.row.ID, t, set),
					Truth: posmap.Map(t, ro.Config.OutSize, posmap.Options{Stripes: r.cfg.Stripes})})
				users = append(users, nil)
			}
			users[k] = append(users[k], use{rp, t})
			if set == Natural && rp.table.Maps {
				evals[k].Keep = chainKeep(evals[k].Keep, r.keepMap(rp, t))
			}
		}
	}
	return evals, users
}

// chainKeep calls a, if any, then b.
func chainKeep(a, b func(int, []float32)) func(int, []float32) {
	if a == nil {
		return b
	}
	return func(i int, p []float32) { a(i, p); b(i, p) }
}

func (rp *rowPlan) setScore(t posmap.Target, set string, s score.Score) {
	if rp.scores == nil {
		rp.scores = map[string]map[string]score.Score{}
	}
	if rp.scores[t.String()] == nil {
		rp.scores[t.String()] = map[string]score.Score{}
	}
	rp.scores[t.String()][set] = s
}

// finish saves the group's rows, and the readouts of Demo tables for the demo.
func (r *runner) finish(g *group) error {
	for _, rp := range g.rows {
		if rp.failed != "" {
			if err := r.saveRow(RowResult{Table: rp.table.ID, Row: rp.row.ID, Setting: rp.row.Setting, Status: StatusFailed, Reason: rp.failed}); err != nil {
				return err
			}
			continue
		}
		rr := RowResult{Table: rp.table.ID, Row: rp.row.ID, Setting: rp.row.Setting, Status: StatusOK, Note: rp.note,
			Scores: rp.scores, FinalLoss: map[string]float64{}, Seconds: rp.seconds, ExtractSeconds: g.extractSeconds}
		for i, t := range rp.targets {
			ro := rp.readouts[i]
			rr.FinalLoss[t.String()] = ro.Meta.Training.FinalLoss
			rr.Channels = ro.Channels
			rr.TrainImages = ro.Meta.Training.NImages
		}
		if err := r.saveRow(rr); err != nil {
			return err
		}
		if rp.table.Demo && r.cfg.DemoDir != "" {
			if err := r.saveDemo(rr, rp); err != nil {
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

const reasonWeights = "weights not available"

// weightsError is an encoder whose ImageNet weights are not here.
type weightsError struct{ msg string }

func (e *weightsError) Error() string { return e.msg }

func (r *runner) buildEncoder(ctx context.Context, s Setting) (encoder.Encoder, error) {
	if s.Encoder != "none" && s.Init == encoder.InitImageNet {
		if r.cfg.Width != 0 { // the committed SqueezeNet weights are found, but only fit full width
			return nil, &weightsError{fmt.Sprintf("%s: %s: pretrained weights exist at full width only, not width %d", reasonWeights, s.Encoder, r.cfg.Width)}
		}
		if _, err := weights.Resolve(ctx, s.Encoder, weights.Options{DataDir: r.cfg.DataDir}); err != nil {
			return nil, &weightsError{fmt.Sprintf("%s: %v", reasonWeights, err)}
		}
	}
	enc, err := encoder.New(s.Encoder, encoder.Options{Init: s.Init, Seed: r.cfg.Seed, Padding: s.Padding, DataDir: r.cfg.DataDir, Width: r.cfg.Width})
	if err != nil {
		return nil, fmt.Errorf("encoder %s: %w", s.Encoder, err)
	}
	return enc, nil
}
