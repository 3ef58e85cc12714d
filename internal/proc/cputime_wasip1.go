//go:build wasip1

// Package proc reads the process's own resource use for benchmarks.
package proc

// CPUSeconds is unknown under WASI: 0.
func CPUSeconds() float64 { return 0 }
