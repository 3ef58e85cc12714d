package experiment

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/posmap"
)

// Row states.
const (
	StatusOK          = "ok"
	StatusUnavailable = "unavailable" // e.g. weights not available; Reason says why
	StatusFailed      = "failed"
)

// RowResult is everything measured for one row; it is saved on its own so an
// interrupted run resumes from the rows already done.
type RowResult struct {
	Table     string                            `json:"table"`
	Row       string                            `json:"row"`
	Setting   Setting                           `json:"setting"`
	Status    string                            `json:"status"`
	Reason    string                            `json:"reason,omitempty"`
	Scores    map[string]map[string]score.Score `json:"scores,omitempty"`     // target -> set -> score
	FinalLoss map[string]float64                `json:"final_loss,omitempty"` // target -> last-epoch train MSE
	Seconds   float64                           `json:"seconds"`              // wall time of the row (training + evaluation)
	Channels  int                               `json:"channels,omitempty"`   // readout input channels
	Note      string                            `json:"note,omitempty"`       // how the row deviates from the table's recipe
	// ExtractSeconds is the feature extraction of the row's encoder pass,
	// shared by every row of that pass.
	ExtractSeconds float64 `json:"extract_seconds,omitempty"`
	TrainImages    int     `json:"train_images,omitempty"`
	Run            string  `json:"run,omitempty"` // data and recipe signature; a restart reuses rows of the same run only
}

// Score returns our score for a target and set.
func (r *RowResult) Score(target, set string) (score.Score, bool) {
	if r == nil || r.Scores == nil {
		return score.Score{}, false
	}
	s, ok := r.Scores[target][set]
	return s, ok
}

// RunInfo records how a report was produced.
type RunInfo struct {
	Command     string  `json:"command"`
	TrainImages string  `json:"train_images"`
	NTrain      int     `json:"n_train"`
	TestImages  string  `json:"test_images"`
	NTest       int     `json:"n_test"`
	Epochs      int     `json:"epochs"`
	Seed        uint64  `json:"seed"`
	Quick       bool    `json:"quick"`
	Stripes     string  `json:"stripes"`
	Threads     int     `json:"threads"`
	GoVersion   string  `json:"go_version"`
	Started     string  `json:"started"`
	Seconds     float64 `json:"seconds"`
	// Resumed counts the rows taken from cache/rows (finished by earlier
	// runs of the same command); their own times stay in their rows.
	Resumed int `json:"resumed,omitempty"`
	// PeakRSSMB is the peak resident set size (MB) of the process that ran
	// the report (rows resumed from an earlier run not included); 0 = unknown.
	PeakRSSMB float64  `json:"peak_rss_mb,omitempty"`
	Notes     []string `json:"notes,omitempty"`
	// FigurePhotos are the test photos of the qualitative figure.
	FigurePhotos []string `json:"figure_photos,omitempty"`
	// Skipped are the photos that could not be read (left out of every row).
	Skipped []string `json:"skipped,omitempty"`
	// Figures are the figure files, relative to the results folder.
	Figures []string `json:"figures,omitempty"`
}

// Report is a whole reproduction: the tables, our results per row, and the run.
type Report struct {
	Info   RunInfo              `json:"info"`
	Tables []Table              `json:"tables"`
	Rows   map[string]RowResult `json:"rows"` // key: table + "/" + row ID
}

// RowKey is the key of a row in Report.Rows.
func RowKey(table, row string) string { return table + "/" + row }

// Result returns the stored result of a row, or nil.
func (r *Report) Result(table, row string) *RowResult {
	if rr, ok := r.Rows[RowKey(table, row)]; ok {
		return &rr
	}
	return nil
}

// WriteJSON writes the whole report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteCSV writes one line per measured or reported cell:
// table,row,label,target,set,status,spc,mae,spc_std,n_images,paper_spc,paper_mae.
func (r *Report) WriteCSV(w io.Writer) error {
	if _, err := fmt.Fprintln(w, "table,row,label,encoder,init,padding,target,set,status,spc,mae,spc_std,n_images,paper_spc,paper_mae"); err != nil {
		return err
	}
	for _, tb := range r.Tables {
		for _, row := range tb.Rows {
			res := r.Result(tb.ID, row.ID)
			status := "missing"
			if res != nil {
				status = res.Status
			}
			for _, tg := range posmap.Names(tb.Targets) {
				for _, set := range tb.Sets {
					ours, paperCell := "", ""
					if s, ok := res.Score(tg, set); ok {
						ours = fmt.Sprintf("%.4f,%.4f,%.4f,%d", s.SPC, s.MAE, s.SPCStd, s.N)
					} else {
						ours = ",,,"
					}
					if row.PaperRow != "" {
						if c, ok := Paper(tb.ID, row.PaperRow, tg, set); ok {
							paperCell = fmt.Sprintf("%.3f,%.3f", c.SPC, c.MAE)
						}
					}
					if paperCell == "" {
						paperCell = ","
					}
					if _, err := fmt.Fprintf(w, "%s,%s,%q,%s,%s,%s,%s,%s,%s,%s,%s\n", tb.ID, row.ID, row.Label,
						row.Setting.Encoder, row.Setting.Init, row.Setting.Padding, tg, set, status, ours, paperCell); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// Missing lists rows that have no result at all (a complete report has none).
func (r *Report) Missing() []string {
	var out []string
	for _, tb := range r.Tables {
		for _, row := range tb.Rows {
			if r.Result(tb.ID, row.ID) == nil {
				out = append(out, RowKey(tb.ID, row.ID))
			}
		}
	}
	sort.Strings(out)
	return out
}
