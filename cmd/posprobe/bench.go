package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/gemm"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/spf13/cobra"
)

// benchResult is one encoder's timing; GFLOP counts the multiply-adds that went
// through core/gemm (every conv except depthwise ones), two FLOPs each.
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
}

func init() {
	var (
		name, path    string
		threads, reps int
		size          int
		asJSON        bool
		profile       string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time encoder forward passes (batch 1, random weights) in ms and GFLOP/s",
		Long: `bench times Forward of each encoder on one random 3x224x224 image with random
weights (no data needed): a warm-up pass, then --reps timed passes; it prints
the minimum and median milliseconds and GFLOP/s at the median, counting the
FLOPs of the convolutions done by core/gemm (all but depthwise ones).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reps < 1 {
				return fmt.Errorf("--reps must be at least 1, got %d", reps)
			}
			if threads > 0 {
				runtime.GOMAXPROCS(threads)
				gemm.SetThreads(threads)
			}
			if err := gemm.SetPath(path); err != nil {
				return err
			}
			if profile != "" {
				f, err := os.Create(profile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("%s: %w", profile, err)
				}
				defer pprof.StopCPUProfile()
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
				fmt.Fprintf(out, "%-14s %10s %10s %8s %8s %12s\n", "encoder", "min ms", "median ms", "GFLOP", "GFLOP/s", "GFLOP/cpu-s")
			}
			for _, n := range names {
				r, err := benchEncoder(n, size, reps)
				if err != nil {
					return err
				}
				results = append(results, r)
				if !asJSON {
					fmt.Fprintf(out, "%-14s %10.2f %10.2f %8.3f %8.1f %12.1f\n", r.Encoder, r.MinMS, r.MedianMS, r.GFLOP, r.GFLOPS, r.GFLOPCPU)
				}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(results)
			}
			fmt.Fprintf(out, "(%s/%s, kernel path %s, %d threads, batch 1, %dx%d)\n",
				runtime.GOOS, runtime.GOARCH, gemm.Path(), gemm.Threads(), size, size)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "encoder", "all", "encoder name or all ("+strings.Join(encoder.Names(), ", ")+")")
	cmd.Flags().IntVar(&threads, "threads", 0, "threads (0 = GOMAXPROCS)")
	cmd.Flags().IntVar(&reps, "reps", 10, "timed passes per encoder")
	cmd.Flags().IntVar(&size, "size", 224, "input height and width")
	cmd.Flags().StringVar(&path, "kernel", "auto", "GEMM kernel path (auto, "+strings.Join(gemm.Paths(), ", ")+")")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile (go tool pprof) to this file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	rootCmd.AddCommand(cmd)
}

func benchEncoder(name string, size, reps int) (benchResult, error) {
	enc, err := encoder.New(name, encoder.Options{Init: encoder.InitRandom})
	if err != nil {
		return benchResult{}, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	x := nn.New(1, 3, size, size)
	for i, d := 0, nn.Data(x); i < len(d); i++ {
		d[i] = r.Float32()
	}
	f0 := gemm.Flops()
	if _, err := enc.Forward(x); err != nil { // warm-up: buffers, page faults
		return benchResult{}, fmt.Errorf("%s: %w", name, err)
	}
	flop := float64(gemm.Flops() - f0)
	ms := make([]float64, reps)
	cpu0 := cpuSeconds()
	for i := range ms {
		t0 := time.Now()
		if _, err := enc.Forward(x); err != nil {
			return benchResult{}, fmt.Errorf("%s: %w", name, err)
		}
		ms[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	var perCPU float64
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		perCPU = flop * float64(reps) / cpu / 1e9
	}
	slices.Sort(ms)
	med := ms[reps/2]
	if reps%2 == 0 {
		med = (ms[reps/2-1] + ms[reps/2]) / 2
	}
	return benchResult{
		Encoder: name, Threads: gemm.Threads(), Path: gemm.Path(), Size: size, Reps: reps,
		MinMS: ms[0], MedianMS: med, GFLOP: flop / 1e9, GFLOPS: flop / 1e6 / med, GFLOPCPU: perCPU,
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
	}, nil
}
