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
	studyFlags.kinds, studyFlags.widths, studyFlags.rerun = "", "", false
	studyFlags.encoders, studyFlags.init, studyFlags.paddings, studyFlags.photos = "", "", "", ""
	studyFlags.trainPhotos, studyFlags.testPhotos, studyFlags.cell, studyFlags.canvas = 0, 0, 0, "black"
	channelsFlags.encoder, channelsFlags.padding, channelsFlags.readouts, channelsFlags.photos = "squeezenet1.1", "zero", "weights/readouts", 0
	channelsFlags.shuffle, channelsFlags.shuffleLayer, channelsFlags.shufflePer = 60, "", "image"
	boundaryFlags.encoder, boundaryFlags.trainDir, boundaryFlags.sizes = "squeezenet1.1", "", ""
	boundaryFlags.nTrain, boundaryFlags.nTest, boundaryFlags.inner = 0, 0, 0
	return runCLI(t, append([]string{"study"}, args...)...)
}

// studyJSON runs a study with args (--json among them) and decodes the JSON
// it prints into v.
func studyJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	msg, err := runStudyCLI(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	start := strings.IndexAny(msg, "[{")
	if start < 0 {
		t.Fatalf("no JSON in the output:\n%s", msg)
	}
	if err := json.Unmarshal([]byte(msg[start:]), v); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
}

func TestStudyHelpListsStudies(t *testing.T) {
	out, err := runStudyCLI(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"redgreen", "grid", "all", "posprobe study redgreen --json", "posprobe study grid", "channels", "posprobe study channels", "boundary", "posprobe study boundary"} {
		if !strings.Contains(out, s) {
			t.Errorf("study --help does not mention %q", s)
		}
	}
}

// The quick red/green run prints the JSON list the issue asks for and writes
// its figure and record; V-Conv learns the location shortcut even here.
func TestStudyRedGreenQuickJSON(t *testing.T) {
	out := t.TempDir()
	var rs []struct {
		Conv, Test string
		Accuracy   float64
		Paper      float64
	}
	studyJSON(t, &rs, "redgreen", "--quick", "--json", "--kinds", "valid,full", "--out", out)
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
		{"grid", "--quick", "--canvas", "purple"},
		{"grid", "--quick", "--photos", "/nonexistent/folder"},
		{"grid", "--quick", "--init", "pretrained"},
		{"boundary", "--quick", "--sizes", "224,x"},
		{"boundary", "--quick", "--n-test", "-2"},
	} {
		if msg, err := runStudyCLI(t, args...); err == nil {
			t.Errorf("%v: no error\n%s", args, msg)
		}
	}
}

// The quick grid run prints per-padding results and, with --out, reuses
// them on a second run with the same settings.
func TestStudyGridQuick(t *testing.T) {
	photos, out := writeTinyPhotos(t, 4), t.TempDir()
	var rs []struct {
		Encoder, Padding string
		Accuracy         float64
		PerCell          []float64 `json:"per_cell"`
	}
	studyJSON(t, &rs, "grid", "--quick", "--json", "--photos", photos, "--out", out, "--canvas", "128,0,255")
	if len(rs) != 2 || rs[0].Padding != "zero" || rs[1].Padding != "full" || len(rs[0].PerCell) != 9 {
		t.Fatalf("%+v", rs)
	}
	if _, err := os.Stat(filepath.Join(out, "beyond", "grid.png")); err != nil {
		t.Error(err)
	}
}

// The quick channels run (random reduced-width encoder, readouts trained on
// the photos) gives both rankings and three curves per target starting at
// the same unablated SPC.
func TestStudyChannelsQuick(t *testing.T) {
	photos := writeTinyPhotos(t, 3)
	var r struct {
		TopFlip []struct{ Tap string } `json:"top_flip"`
		TopSPC  []struct{ Tap string } `json:"top_spc"`
		Curves  []struct {
			Target, Ranking string
			K               []int
			SPC             []float64
		}
		Shuffle []struct{ Target string }
	}
	studyJSON(t, &r, "channels", "--quick", "--json", "--photos", photos)
	if len(r.TopFlip) != 10 || len(r.TopSPC) != 10 || len(r.Curves) != 9 || len(r.Shuffle) != 2 {
		t.Fatalf("%d, %d, %d, %d", len(r.TopFlip), len(r.TopSPC), len(r.Curves), len(r.Shuffle))
	}
	for i := 0; i < 9; i += 3 {
		if r.Curves[i].SPC[0] != r.Curves[i+1].SPC[0] || r.Curves[i].SPC[0] != r.Curves[i+2].SPC[0] {
			t.Errorf("%s: k=0 differs between rankings", r.Curves[i].Target)
		}
	}
	_, err := runStudyCLI(t, "channels", "--init", "random", "--readouts", t.TempDir(), "--photos", photos, "--n-photos", "1")
	if err == nil || !strings.Contains(err.Error(), "--readouts") {
		t.Errorf("missing readouts: %v", err)
	}
}

// The quick boundary run reports distance bands from the border to the
// centre, the canvases and the asymmetry at both sizes.
func TestStudyBoundaryQuick(t *testing.T) {
	photos := writeTinyPhotos(t, 4)
	var r struct {
		Readouts []struct {
			Padding string
			Bands   []struct{ From, To int }
			Canvas  []struct{ Canvas string }
		}
		Asymmetry []struct {
			Size      int
			LeftRight float64 `json:"left_right"`
		}
	}
	studyJSON(t, &r, "boundary", "--quick", "--json", "--photos", photos)
	if len(r.Readouts) != 2 || r.Readouts[1].Padding != "full" || len(r.Readouts[0].Canvas) != 2 {
		t.Fatalf("%+v", r.Readouts)
	}
	b := r.Readouts[0].Bands
	if len(b) != 14 || b[0].From != 0 || b[13].To != 111 {
		t.Errorf("bands %+v", b)
	}
	if len(r.Asymmetry) == 0 || r.Asymmetry[0].Size != 64 || r.Asymmetry[len(r.Asymmetry)-1].Size != 65 {
		t.Errorf("asymmetry %+v", r.Asymmetry)
	}
}
