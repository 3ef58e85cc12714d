package probe

import (
	"context"
	"errors"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/metric"
	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/internal/testphotos"
	"gorgonia.org/tensor"
)

// writePhotos writes n small gradient PNGs (different per image) and one
// file that is not an image, and returns the folder.
func writePhotos(t *testing.T, n int) string {
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		testphotos.Write(t, filepath.Join(dir, testphotos.Name("p", i)), 40+i, 30, func(x, y int) color.NRGBA {
			return color.NRGBA{uint8(x * 6), uint8(y * 8), uint8(40 * i), 255}
		})
	}
	if err := os.WriteFile(filepath.Join(dir, "pbroken.jpg"), []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExtractSkipsAndMatchesPrepare(t *testing.T) {
	dir := writePhotos(t, 11)
	set, err := Folder(dir, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 12 {
		t.Fatalf("%d images listed, want 12", set.Len())
	}
	enc, err := encoder.New("none", encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	feats, skipped, err := Extract(context.Background(), enc, set, nil, 28, func(done, total int) {
		calls++
		if total != 12 || done > total {
			t.Errorf("progress %d/%d", done, total)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("%d progress calls, want 2 (batches of %d)", calls, Batch)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0].Error(), "pbroken.jpg") {
		t.Fatalf("skipped = %v, want the broken file named", skipped)
	}
	var se *SkipError
	if !errors.As(skipped[0], &se) || se.Index != 2 {
		t.Fatalf("skip error %#v, want index 2 (sorted after pb.png)", skipped[0])
	}
	if s := feats.Shape(); !slices.Equal(s, tensor.Shape{11, 3, 28, 28}) {
		t.Fatalf("features %v, want (11, 3, 28, 28)", s)
	}
	kept := Kept(set.Len(), skipped)
	if len(kept) != 11 || kept[1] != 1 || kept[2] != 3 {
		t.Fatalf("kept %v", kept)
	}
	// Each image's features equal the readout's own preparation of it.
	for j, i := range kept {
		x, err := set.Load(i)
		if err != nil {
			t.Fatal(err)
		}
		want, err := readout.PrepareOne([]*tensor.Dense{x}, 28)
		if err != nil {
			t.Fatal(err)
		}
		got := readout.Image(feats, j)
		for k := range want {
			if got[k] != want[k] {
				t.Fatalf("image %d value %d: %v, want %v", i, k, got[k], want[k])
			}
		}
	}
}

func TestExtractErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.png"), []byte("nope"), 0o644)
	set, err := Folder(dir, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := encoder.New("none", encoder.Options{})
	if _, skipped, err := Extract(context.Background(), enc, set, nil, 28, nil); err == nil || len(skipped) != 1 {
		t.Fatalf("all unreadable: err %v, skipped %v", err, skipped)
	}
	if _, _, err := Extract(context.Background(), enc, set, []int{3}, 28, nil); err == nil {
		t.Fatal("bad tap index: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	good, _ := Folder(writePhotos(t, 3), false, 0)
	if _, _, err := Extract(ctx, enc, good, nil, 28, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := Folder(filepath.Join(dir, "missing"), false, 0); err == nil {
		t.Fatal("missing folder: no error")
	}
}

func TestSelectChannelsAndSubset(t *testing.T) {
	taps := []encoder.Tap{{Name: "a", Channels: 2}, {Name: "b", Channels: 1}, {Name: "c", Channels: 3}}
	f := readout.NewFeatures(2, 6, 2)
	for i, d := 0, nn.Data(f); i < len(d); i++ {
		d[i] = float32(i)
	}
	g, err := SelectChannels(f, taps, []int{2, 0})
	if err != nil {
		t.Fatal(err)
	}
	if s := g.Shape(); !slices.Equal(s, tensor.Shape{2, 5, 2, 2}) {
		t.Fatalf("shape %v", s)
	}
	// image 1, first selected channel = channel 3 of f.
	if got, want := readout.Image(g, 1)[0], readout.Image(f, 1)[3*4]; got != want {
		t.Fatalf("got %v want %v", got, want)
	}
	if got, want := readout.Image(g, 1)[3*4], readout.Image(f, 1)[0]; got != want {
		t.Fatalf("tap a: got %v want %v", got, want)
	}
	if _, err := SelectChannels(f, taps, []int{5}); err == nil {
		t.Fatal("bad index: no error")
	}
	// One image keeps its image axis, and shares f's values.
	if s := Subset(f, 1); !slices.Equal(s.Shape(), tensor.Shape{1, 6, 2, 2}) || len(nn.Data(s)) != 24 || &nn.Data(s)[0] != &nn.Data(f)[0] {
		t.Fatalf("subset %v, %d values", s.Shape(), len(nn.Data(s)))
	}
	// A view across channels is not one run of values: refused, not misread.
	v, err := f.Slice(nil, tensor.S(0, 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SelectChannels(v.(*tensor.Dense), taps[:2], []int{0}); err == nil || !strings.Contains(err.Error(), "contiguous") {
		t.Fatalf("channel view: %v, want an error", err)
	}
}

// Evaluate agrees with scoring each prediction one by one with metric.
func TestEvaluate(t *testing.T) {
	cfg := readout.DefaultConfig()
	cfg.OutSize = 32
	r, err := readout.New(cfg, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	f := readout.NewFeatures(5, 3, cfg.Size)
	for i, d := 0, nn.Data(f); i < len(d); i++ {
		d[i] = float32(math.Sin(float64(i) * 0.37))
	}
	// Image 4 is constant: its prediction is constant and scores SPC 0.
	for i := range readout.Image(f, 4) {
		readout.Image(f, 4)[i] = 0.5
	}
	gt := posmap.Map(posmap.G, cfg.OutSize, posmap.Options{})
	got, err := Evaluate(r, f, gt)
	if err != nil {
		t.Fatal(err)
	}
	var spc, mae metric.Mean
	for i := 0; i < 5; i++ {
		p, _ := r.Predict(readout.Image(f, i))
		spc.Add(metric.Spearman(p, gt))
		mae.Add(metric.MAE(p, gt))
	}
	if got.N != 5 || got.Constant != 1 || math.Abs(got.SPC-spc.Mean()) > 1e-12 || math.Abs(got.MAE-mae.Mean()) > 1e-12 ||
		math.Abs(got.SPCStd-spc.Std()) > 1e-12 || math.Abs(got.MAEStd-mae.Std()) > 1e-12 {
		t.Fatalf("Evaluate %+v, one by one SPC %v±%v MAE %v", got, spc.Mean(), spc.Std(), mae.Mean())
	}
	// Scored in two chunks and merged, the set scores as a whole.
	a, err := Evaluate(r, Subset(f, 2), gt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Evaluate(r, nn.Batch(f, 2, 5), gt)
	if err != nil {
		t.Fatal(err)
	}
	m := score.Merge(a, b)
	if m.N != got.N || m.Constant != got.Constant || math.Abs(m.SPC-got.SPC) > 1e-12 || math.Abs(m.SPCStd-got.SPCStd) > 1e-9 ||
		math.Abs(m.MAE-got.MAE) > 1e-12 || math.Abs(m.MAEStd-got.MAEStd) > 1e-9 {
		t.Fatalf("merged %+v, whole %+v", m, got)
	}
	if e := score.Merge(score.Score{}, got); e.N != got.N || math.Abs(e.SPC-got.SPC) > 1e-12 || math.Abs(e.SPCStd-got.SPCStd) > 1e-9 {
		t.Fatalf("merged with nothing %+v, want %+v", e, got)
	}
	if _, err := Evaluate(r, readout.NewFeatures(1, 4, cfg.Size), gt); err == nil {
		t.Fatal("channel mismatch: no error")
	}
	if _, err := Evaluate(r, f, gt[:10]); err == nil {
		t.Fatal("short ground truth: no error")
	}
}

func TestSynthetic(t *testing.T) {
	s, err := Synthetic("white", "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := s.Load(0)
	if err != nil || s.Len() != 1 {
		t.Fatal(err)
	}
	if d := nn.Data(x); d[0] != 1 || d[len(d)-1] != 1 {
		t.Fatal("white is not 1")
	}
	if _, err := Synthetic("grey", ""); err == nil {
		t.Fatal("unknown synthetic: no error")
	}
}
