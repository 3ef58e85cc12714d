// Package study holds what the follow-up studies share: the outcome of one
// study (settings, time, memory, figures, its Markdown section) and the
// beyond.md report that puts them together. The studies themselves live in
// the subpackages (redgreen, grid).
package study

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Outcome is one study's run.
type Outcome struct {
	Name       string            `json:"name"`
	Title      string            `json:"title"`
	Settings   map[string]string `json:"settings"`
	Seconds    float64           `json:"seconds"`
	PeakHeapMB float64           `json:"peak_heap_mb"`   // Go heap in use, sampled every 50 ms during the study
	Load       string            `json:"load,omitempty"` // 1-minute load average when the study ended (how shared the CPUs were)
	Figures    []string          `json:"figures"`        // relative to the report's folder
	Markdown   string            `json:"-"`              // the study's section body (tables, reading)
	Results    any               `json:"results"`
}

// Measure runs fn and returns its wall time in seconds and the peak Go heap
// in use (MB, 10^6 bytes) seen while it ran.
func Measure(fn func() error) (float64, float64, error) {
	var peak uint64
	var mu sync.Mutex
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		peak = max(peak, m.HeapInuse)
		mu.Unlock()
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	start := time.Now()
	sample()
	err := fn()
	sample()
	secs := time.Since(start).Seconds()
	close(done)
	wg.Wait()
	return secs, float64(peak) / 1e6, err
}

// Info describes the whole run for the report's header.
type Info struct {
	Command   string
	GoVersion string
	Threads   int
	Quick     bool
	Started   time.Time
}

// WriteMarkdown writes beyond.md: a summary table of the studies (time,
// memory) and one section per study with its settings and figures.
func WriteMarkdown(w io.Writer, info Info, outs []Outcome) error {
	var b strings.Builder
	b.WriteString("# Position beyond the paper: the follow-up studies\n\n")
	fmt.Fprintf(&b, "Regenerate with `make reproduce-beyond` (`%s`). Go %s, %d threads, started %s.\n\n",
		info.Command, info.GoVersion, info.Threads, info.Started.UTC().Format(time.RFC3339))
	if info.Quick {
		b.WriteString("**Quick run**: tiny sets and few epochs, to check that every study runs end to end; the numbers mean nothing.\n\n")
	}
	b.WriteString(TableHeader("study", "wall time", "peak Go heap", "load average"))
	for _, o := range outs {
		load := o.Load
		if load == "" {
			load = "not recorded"
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %.0f MB | %s |\n", o.Name, anchor(o.Title), dur(o.Seconds), o.PeakHeapMB, load)
	}
	b.WriteString("\nPeak Go heap is sampled every 50 ms while the study runs (the process's resident size is larger by the Go runtime " +
		"and the binary). Wall times are on the CPUs as shared at the time: the load average (1 minute, at the study's end) says how " +
		"many jobs competed for them. A study whose results/beyond/NAME.json had the same settings is reused with the time it was measured in.\n")
	for _, o := range outs {
		fmt.Fprintf(&b, "\n## %s\n\n", o.Title)
		if len(o.Settings) > 0 {
			keys := make([]string, 0, len(o.Settings))
			for k := range o.Settings {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.WriteString("Settings: ")
			for i, k := range keys {
				if i > 0 {
					b.WriteString("; ")
				}
				fmt.Fprintf(&b, "%s %s", k, o.Settings[k])
			}
			fmt.Fprintf(&b, ". Wall time %s, peak Go heap %.0f MB.\n\n", dur(o.Seconds), o.PeakHeapMB)
		}
		b.WriteString(strings.TrimSpace(o.Markdown))
		b.WriteString("\n")
		for _, f := range o.Figures {
			fmt.Fprintf(&b, "\n![%s](%s)\n", f, f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// TableHeader is the header of a Markdown table with these columns.
func TableHeader(cols ...string) string {
	return "| " + strings.Join(cols, " | ") + " |\n|" + strings.Repeat("---|", len(cols)) + "\n"
}

func anchor(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func dur(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
