package experiment

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/metric/score"
)

func sampleReport() *Report {
	r := &Report{Info: RunInfo{Command: "posprobe reproduce", Epochs: 15, Stripes: "01", Seconds: 90, PeakRSSMB: 1234.4}, Tables: Tables(), Rows: map[string]RowResult{}}
	r.Rows[RowKey("1", "none")] = RowResult{Table: "1", Row: "none", Status: StatusOK,
		Scores: map[string]map[string]score.Score{"H": {Natural: {SPC: 0.0123, MAE: 0.251, N: 500}}}}
	r.Rows[RowKey("1", "vgg16")] = RowResult{Table: "1", Row: "vgg16", Status: StatusUnavailable, Reason: "weights not available"}
	return r
}

func TestMarkdownShowsPaperOursAndReasons(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| H | PosENet (no encoder) | .012 / .251 | .012 / .251 |", // ours rounds to the paper's value here
		"VGG16 (ImageNet): unavailable — weights not available.",
		"SqueezeNet 1.1 (ImageNet): not run yet.",
		"## Table 4",
		"total wall time 1.5 min; peak RSS 1234 MB.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

// checkCSV checks that r's CSV parses and has a header and one record per
// row, target and set.
func checkCSV(t *testing.T, r *Report) {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := 1
	for _, tb := range r.Tables {
		want += len(tb.Rows) * len(tb.Targets) * len(tb.Sets)
	}
	if len(recs) != want {
		t.Errorf("%d CSV records, want %d", len(recs), want)
	}
}

func TestCSVOneLinePerCell(t *testing.T) {
	r := sampleReport()
	checkCSV(t, r)
	rows := 0
	for _, tb := range r.Tables {
		rows += len(tb.Rows)
	}
	if got := len(r.Missing()); got != rows-2 {
		t.Fatalf("Missing() = %d rows, want %d (all but the two filled)", got, rows-2)
	}
}
