package study

import (
	"strings"
	"testing"
	"time"

	"github.com/posprobe/posprobe/core/nn"
)

func TestMeasureAndMarkdown(t *testing.T) {
	var keep []byte
	secs, heap, err := Measure(func() error {
		keep = make([]byte, 20<<20)
		for i := range keep {
			keep[i] = byte(i)
		}
		time.Sleep(120 * time.Millisecond)
		return nil
	})
	if err != nil || secs < 0.1 || heap < 20 {
		t.Fatalf("%.2f s, %.1f MB, %v", secs, heap, err)
	}
	_ = keep[len(keep)-1]
	var b strings.Builder
	outs := []Outcome{{Name: "redgreen", Title: "Red/green: a test", Seconds: 75, PeakHeapMB: 12, Settings: map[string]string{"seeds": "3"},
		Markdown: "| a |\n", Figures: []string{"beyond/redgreen.png"}}}
	if err := WriteMarkdown(&b, Info{Command: "posprobe study all", GoVersion: "go", Threads: 2, Started: time.Unix(0, 0)}, outs); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, s := range []string{"[redgreen](#redgreen-a-test)", "| 1m15s | 12 MB | not recorded |", "## Red/green: a test", "Settings: seeds 3.", "![beyond/redgreen.png](beyond/redgreen.png)"} {
		if !strings.Contains(md, s) {
			t.Errorf("beyond.md lacks %q:\n%s", s, md)
		}
	}
}

func TestTableHeader(t *testing.T) {
	if got, want := TableHeader("study", "wall time"), "| study | wall time |\n|---|---|\n"; got != want {
		t.Errorf("TableHeader = %q, want %q", got, want)
	}
}

// A 100-pixel photo pasted at (62, 62) of a 224 canvas sits in its centre.
func TestPaste(t *testing.T) {
	x := nn.New(1, 3, 100, 100)
	x.Memset(float32(1))
	c := nn.Data(Paste(x, 224, 62, 62, [3]float32{0.25, 0.5, 0.75}))
	at := func(ch, y, xx int) float32 { return c[(ch*224+y)*224+xx] }
	if at(0, 61, 61) != 0.25 || at(0, 62, 62) != 1 || at(2, 161, 161) != 1 || at(2, 162, 162) != 0.75 || at(1, 0, 223) != 0.5 {
		t.Fatal("photo not centred on the canvas")
	}
}
