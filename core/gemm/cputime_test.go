//go:build !js

package gemm

import "syscall"

// cpuSeconds is the process's user+system CPU time: on a shared, loaded
// machine FLOPs per CPU-second show kernel efficiency where wall time cannot.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
