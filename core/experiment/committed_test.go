package experiment

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
)

// TestCommittedResultsRegenerate decodes the committed results.json (padding
// modes, inits and targets as typed values) and writes it, the CSV and the
// report again: each must equal the committed file byte for byte.
func TestCommittedResultsRegenerate(t *testing.T) {
	dir := filepath.Join("..", "..", "results")
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Skip("no committed results:", err)
	}
	var rep Report
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	// The typed values are there, not only their names.
	modes := map[nn.PadMode]bool{}
	for _, rr := range rep.Rows {
		modes[rr.Setting.Padding] = true
	}
	if !modes[nn.PadReflect] || !modes[nn.PadCircular] || rep.Tables[0].Targets[4] != posmap.VS {
		t.Fatalf("decoded padding modes %v, Table 1 targets %v", modes, rep.Tables[0].Targets)
	}
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"results.json", func(w *bytes.Buffer) error { return rep.WriteJSON(w) }},
		{"results.csv", func(w *bytes.Buffer) error { return rep.WriteCSV(w) }},
		{"report.md", func(w *bytes.Buffer) error { return rep.WriteMarkdown(w) }},
	} {
		want, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := f.write(&got); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s written again differs from the committed file (%d vs %d bytes)", f.name, got.Len(), len(want))
		}
	}
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
