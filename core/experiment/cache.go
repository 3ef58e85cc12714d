package experiment

import (
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/probe"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/internal/atomicfile"
)

// The run's state under Out/cache: finished rows, trained readouts, the
// figure maps; and the demo's copies of Table 1's readouts.

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
	return atomicfile.WriteFile(path, data, 0o644)
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
	if ro.Channels != channels || tr.EpochsDone != r.cfg.Epochs || tr.Epochs != r.cfg.Epochs || tr.Seed != probe.ReadoutSeed(r.cfg.Seed, t) ||
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

// saveDemo writes the readouts of a row of a Demo table, with their test
// scores, where the demo reads them.
func (r *runner) saveDemo(rr RowResult, rp *rowPlan) error {
	if err := os.MkdirAll(r.cfg.DemoDir, 0o755); err != nil {
		return err
	}
	for i, t := range rp.targets {
		ro := rp.readouts[i].Clone()
		ro.Meta.Metrics = map[string]float64{}
		if sc, ok := rr.Score(t.String(), Natural); ok {
			probe.StoreScore(&ro.Meta, filepath.Base(filepath.Clean(r.cfg.TestDir)), sc)
		}
		s := rr.Setting
		init := s.Init
		if s.Encoder == "none" {
			// none has no weights; the demo and the train command name it by the default init.
			init = encoder.InitImageNet
			ro.Meta.Init = init
		}
		if err := saveReadoutFile(filepath.Join(r.cfg.DemoDir, readout.FileName(s.Encoder, init, s.Padding, t)), ro); err != nil {
			return err
		}
	}
	return nil
}

// keepMap returns a hook that saves the predictions of the figure photos
// (by their index in the test set) as 8-bit grey PNGs.
func (r *runner) keepMap(rp *rowPlan, t posmap.Target) func(int, []float32) {
	n := len(r.rep.Info.FigurePhotos)
	return func(i int, pred []float32) {
		if i >= n {
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
		path := filepath.Join(r.cfg.Out, MapFile(rp.table.ID, rp.row.ID, t.String(), i))
		var b strings.Builder
		if err := png.Encode(&b, img); err == nil {
			if err := writeAtomic(path, []byte(b.String())); err != nil {
				r.log(err.Error())
			}
		}
	}
}
