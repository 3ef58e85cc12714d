package redgreen

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestTimingProbe(t *testing.T) {
	if os.Getenv("RG_PROBE") == "" {
		t.Skip()
	}
	c := Default()
	c.Kinds = []string{os.Getenv("RG_PROBE")}
	c.Repeats = 1
	c.Epochs = 20
	c.Widths = []int{16, 16, 32, 32}
	if os.Getenv("RG_PROBE") == "all" {
		c.Kinds = Kinds
	}
	start := time.Now()
	res, err := Run(context.Background(), c, func(k string, r, ep int) { t.Logf("%s ep %d %.1fs", k, ep, time.Since(start).Seconds()) })
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("%+v", r)
	}
}
