package experiment

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
)

// The committed results must read back and be written again byte for byte:
// results.json, results.csv and report.md are the formats readers (and
// `make reproduce` with a cache) depend on.
func TestCommittedResultsRoundTrip(t *testing.T) {
	dir := filepath.Join("..", "..", "results")
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Skipf("no committed results: %v", err)
	}
	var rep Report
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if len(rep.Rows) == 0 {
		t.Fatal("results.json has no rows")
	}
	// Padding modes, inits and targets decode as typed values, not only names.
	modes := map[nn.PadMode]bool{}
	for _, rr := range rep.Rows {
		modes[rr.Setting.Padding] = true
	}
	if !modes[nn.PadReflect] || !modes[nn.PadCircular] || rep.Tables[0].Targets[4] != posmap.VS {
		t.Fatalf("decoded padding modes %v, Table 1 targets %v", modes, rep.Tables[0].Targets)
	}
	files := map[string]func(io.Writer) error{"results.json": rep.WriteJSON, "results.csv": rep.WriteCSV, "report.md": rep.WriteMarkdown}
	for name, write := range files {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := write(&got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: written again it differs from the committed file (%d vs %d bytes) at byte %d", name, got.Len(), len(want), firstDiff(got.Bytes(), want))
		}
	}
	// A row as cache/rows keeps it reads back to the same row.
	for key, rr := range rep.Rows {
		b, err := json.MarshalIndent(rr, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		var back RowResult
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if b2, _ := json.MarshalIndent(back, "", "  "); !bytes.Equal(b, b2) {
			t.Errorf("row %s does not read back the same", key)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestSettingRejectsUnknownNames: a padding mode, init or target that is
// not one of the names fails at decode time, naming the value.
func TestSettingRejectsUnknownNames(t *testing.T) {
	for _, c := range []struct{ js, bad string }{
		{`{"setting":{"encoder":"none","init":"xavier","padding":"zero"}}`, `"xavier"`},
		{`{"setting":{"encoder":"none","init":"random","padding":"mirror"}}`, `"mirror"`},
	} {
		var r Row
		if err := json.Unmarshal([]byte(c.js), &r); err == nil || !strings.Contains(err.Error(), c.bad) {
			t.Errorf("%s: error %v, want one naming %s", c.js, err, c.bad)
		}
	}
	var tb Table
	if err := json.Unmarshal([]byte(`{"targets":["H","Q"]}`), &tb); err == nil || !strings.Contains(err.Error(), `"Q"`) {
		t.Errorf("unknown target: error %v", err)
	}
}
