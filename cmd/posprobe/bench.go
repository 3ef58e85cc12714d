package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/gemm"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/internal/atomicfile"
	"github.com/posprobe/posprobe/internal/proc"
	"github.com/spf13/cobra"
)

// benchResult is one encoder's timing; GFLOP counts the multiply-adds of the
// convolutions done through core/gemm (every conv except depthwise ones), two
// FLOPs each, as the direct path does them: Winograd layers multiply less,
// and GFLOP/s stay comparable with other engines' (effective GFLOP/s).
type benchResult struct {
	Encoder  string  `json:"encoder"`
	Threads  int     `json:"threads"`
	Path     string  `json:"path"`
	Size     int     `json:"size"`
	Reps     int     `json:"reps"`
	MinMS    float64 `json:"min_ms"`
	MedianMS float64 `json:"median_ms"`
	GFLOP    float64 `json:"gflop"`
	GFLOPS   float64 `json:"gflops_at_median"`
	// GFLOP per CPU-second over the timed passes (all threads summed; 0
	// where there is no process CPU clock): efficiency, less load-dependent.
	GFLOPCPU float64 `json:"gflop_per_cpu_s"`
	GOOS     string  `json:"goos"`
	GOARCH   string  `json:"goarch"`
	Warmup   int     `json:"warmup"`
	Recycled bool    `json:"recycled_taps"`
	Winograd string  `json:"winograd"` // nn.WinogradMode during the timed passes
	// PeakRSSMB is the process's peak resident set size (MB) after this
	// encoder's passes: a high-water mark of the whole process so far, so
	// with several encoders it never goes down; null where unknown (n/a).
	PeakRSSMB *float64 `json:"peak_rss_mb"`
}

// fmtRSS prints a peak RSS in MB, or n/a.
func fmtRSS(mb *float64) string {
	if mb == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", *mb)
}

func init() {
	var (
		name, path    string
		threads, reps int
		warmup, size  int
		asJSON        bool
		recycle       bool
		profile       string
		wino          string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time encoder forward passes (batch 1, random weights) in ms and GFLOP/s",
		Long: `bench times Forward of each encoder on one random 3x224x224 image with random
weights (no data needed): --warmup passes (default 1), then --reps timed
passes; it prints the minimum and median milliseconds and GFLOP/s at the
median, counting the FLOPs of the convolutions done by core/gemm (all but
depthwise ones) as direct convolutions (Winograd layers multiply less, so
with --winograd on GFLOP/s are effective rates), and the process's peak resident set size (RSS) after each
encoder (Linux; n/a elsewhere). The peak is the whole process's so far, so
for the memory of one encoder run one encoder per process:

  posprobe bench --encoder vgg16 --warmup 0 --reps 1    # peak RSS of one VGG16 forward
  posprobe bench --encoder vgg16 --warmup 0 --reps 10   # ... of 10 forwards

With --recycle each pass hands its taps back to the encoder (encoder.Recycle),
so steady passes allocate almost nothing; without it every pass allocates its
taps fresh, as for callers that keep them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if reps < 1 {
				return fmt.Errorf("--reps must be at least 1, got %d", reps)
			}
			if warmup < 0 {
				return fmt.Errorf("--warmup must be at least 0, got %d", warmup)
			}
			if threads > 0 {
				runtime.GOMAXPROCS(threads)
				gemm.SetThreads(threads)
			}
			if err := gemm.SetPath(path); err != nil {
				return err
			}
			if wino != "" {
				if err := nn.SetWinogradMode(wino); err != nil {
					return err
				}
			}
			if profile != "" {
				f, err := atomicfile.Create(profile, 0o644)
				if err != nil {
					return err
				}
				defer f.Abort()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("%s: %w", profile, err)
				}
				defer func() {
					pprof.StopCPUProfile()
					if cerr := f.Commit(); err == nil {
						err = cerr
					}
				}()
			}
			names := []string{name}
			if name == "all" {
				names = nil
				for _, n := range encoder.Names() {
					if n != "none" {
						names = append(names, n)
					}
				}
			}
			for _, n := range names {
				if _, ok := encoder.Lookup(n); !ok {
					return fmt.Errorf("unknown encoder %q (known: all, %s)", n, strings.Join(encoder.Names(), ", "))
				}
			}
			var results []benchResult
			out := cmd.OutOrStdout()
			if !asJSON {
				fmt.Fprintf(out, "%-14s %10s %10s %8s %8s %12s %13s\n", "encoder", "min ms", "median ms", "GFLOP", "GFLOP/s", "GFLOP/cpu-s", "peak RSS MB")
			}
			for _, n := range names {
				r, err := benchEncoder(n, size, warmup, reps, recycle)
				if err != nil {
					return err
				}
				results = append(results, r)
				if !asJSON {
					fmt.Fprintf(out, "%-14s %10.2f %10.2f %8.3f %8.1f %12.1f %13s\n", r.Encoder, r.MinMS, r.MedianMS, r.GFLOP, r.GFLOPS, r.GFLOPCPU, fmtRSS(r.PeakRSSMB))
				}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(results)
			}
			rec := ""
			if recycle {
				rec = ", taps recycled"
			}
			fmt.Fprintf(out, "(%s/%s, kernel path %s, Winograd %s, %d threads, batch 1, %dx%d, %d warm-up + %d timed passes%s; GFLOP as direct convolutions; peak RSS: the process's so far)\n",
				runtime.GOOS, runtime.GOARCH, gemm.Path(), nn.WinogradMode(), gemm.Threads(), size, size, warmup, reps, rec)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "encoder", "all", "encoder name or all ("+strings.Join(encoder.Names(), ", ")+")")
	cmd.Flags().IntVar(&threads, "threads", 0, "threads (0 = GOMAXPROCS)")
	cmd.Flags().IntVar(&reps, "reps", 10, "timed passes per encoder")
	cmd.Flags().IntVar(&warmup, "warmup", 1, "untimed passes per encoder before the timed ones")
	cmd.Flags().BoolVar(&recycle, "recycle", false, "hand each pass's taps back to the encoder (encoder.Recycle)")
	cmd.Flags().IntVar(&size, "size", 224, "input height and width")
	cmd.Flags().StringVar(&path, "kernel", "auto", "GEMM kernel path (auto, "+strings.Join(gemm.Paths(), ", ")+")")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile (go tool pprof) to this file")
	cmd.Flags().StringVar(&wino, "winograd", "", "Winograd F(2x2|4x4,3x3) for dense 3x3 stride-1 convs: auto (on in wasm, off natively), on, off, f23, f43 (default: POSPROBE_WINOGRAD or auto)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	limitFlag(cmd.Flags(), "threads", 0, 1024, false)
	limitFlag(cmd.Flags(), "reps", 1, 1e6, false)
	limitFlag(cmd.Flags(), "warmup", 0, 1e6, false)
	limitFlag(cmd.Flags(), "size", 1, maxInputSize, false)
	rootCmd.AddCommand(cmd)
}

func benchEncoder(name string, size, warmup, reps int, recycle bool) (benchResult, error) {
	enc, err := encoder.New(name, encoder.Options{Init: encoder.InitRandom})
	if err != nil {
		return benchResult{}, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	x := nn.New(1, 3, size, size)
	for i, d := 0, nn.Data(x); i < len(d); i++ {
		d[i] = r.Float32()
	}
	pass := func() error {
		taps, err := enc.Forward(x)
		if err != nil && !strings.HasPrefix(err.Error(), name+":") {
			err = fmt.Errorf("%s: %w", name, err)
		}
		if err != nil {
			return err
		}
		if recycle {
			encoder.Recycle(enc, taps)
		}
		return nil
	}
	// FLOPs of one pass as the direct path does it: counted in a pass of its
	// own when Winograd (fewer multiplies) is on.
	var flop float64
	mode := nn.WinogradMode()
	if mode != "off" {
		nn.SetWinograd(false)
		f0 := gemm.Flops()
		err := pass()
		flop = float64(gemm.Flops() - f0)
		if err2 := nn.SetWinogradMode(mode); err == nil {
			err = err2
		}
		if err != nil {
			return benchResult{}, err
		}
	}
	f0 := gemm.Flops()
	for range warmup { // buffers, page faults
		if err := pass(); err != nil {
			return benchResult{}, err
		}
	}
	ms := make([]float64, reps)
	cpu0 := proc.CPUSeconds()
	for i := range ms {
		t0 := time.Now()
		if err := pass(); err != nil {
			return benchResult{}, err
		}
		ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	if mode == "off" {
		flop = float64(gemm.Flops()-f0) / float64(warmup+reps)
	}
	var perCPU float64
	if cpu := proc.CPUSeconds() - cpu0; cpu > 0 {
		perCPU = flop * float64(reps) / cpu / 1e9
	}
	var rss *float64
	if mb, ok := peakRSSMB(); ok {
		rss = &mb
	}
	slices.Sort(ms)
	med := ms[reps/2]
	if reps%2 == 0 {
		med = (ms[reps/2-1] + ms[reps/2]) / 2
	}
	return benchResult{
		Encoder: name, Threads: gemm.Threads(), Path: gemm.Path(), Size: size, Reps: reps,
		MinMS: ms[0], MedianMS: med, GFLOP: flop / 1e9, GFLOPS: flop / 1e6 / med, GFLOPCPU: perCPU,
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Warmup: warmup, Recycled: recycle, PeakRSSMB: rss, Winograd: mode,
	}, nil
}
