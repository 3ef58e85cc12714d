package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runStudyCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	studyFlags.quick, studyFlags.asJSON, studyFlags.out = false, false, ""
	studyFlags.repeats, studyFlags.epochs, studyFlags.seed = 0, 0, 0
	studyFlags.kinds, studyFlags.widths = "", ""
	return runCLI(t, append([]string{"study"}, args...)...)
}

func TestStudyHelpListsStudies(t *testing.T) {
	out, err := runStudyCLI(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"redgreen", "all", "posprobe study redgreen --json"} {
		if !strings.Contains(out, s) {
			t.Errorf("study --help does not mention %q", s)
		}
	}
}

// The quick red/green run prints the JSON list the issue asks for and writes
// its figure and record; V-Conv learns the location shortcut even here.
func TestStudyRedGreenQuickJSON(t *testing.T) {
	out := t.TempDir()
	msg, err := runStudyCLI(t, "redgreen", "--quick", "--json", "--kinds", "valid,full", "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	var rs []struct {
		Conv, Test string
		Accuracy   float64
		Paper      float64
	}
	if err := json.Unmarshal([]byte(msg[strings.Index(msg, "["):]), &rs); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	if len(rs) != 4 || rs[0].Conv != "valid" || rs[0].Test != "similar" || rs[1].Test != "dissimilar" || rs[3].Conv != "full" {
		t.Fatalf("results %+v", rs)
	}
	if rs[0].Accuracy < rs[1].Accuracy+0.5 {
		t.Errorf("valid: Similar %.3f, Dissimilar %.3f: no location shortcut learnt", rs[0].Accuracy, rs[1].Accuracy)
	}
	for _, f := range []string{"beyond/redgreen.png", "beyond/redgreen.json"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestStudyRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"redgreen", "--quick", "--widths", "8,x"},
		{"redgreen", "--quick", "--kinds", "sideways"},
		{"redgreen", "--quick", "--repeats", "-1"},
		{"all"},
	} {
		if msg, err := runStudyCLI(t, args...); err == nil {
			t.Errorf("%v: no error\n%s", args, msg)
		}
	}
}
