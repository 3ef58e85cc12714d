//go:build !js && !wasip1

// Package proc reads the process's own resource use for benchmarks.
package proc

import "syscall"

// CPUSeconds is the process's user+system CPU time: on a shared, loaded
// machine work per CPU-second shows efficiency where wall time shows the load.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
