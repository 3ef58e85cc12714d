//go:build !js && !wasip1

package main

import "syscall"

// cpuSeconds is the process's user+system CPU time: on a shared machine
// FLOPs per CPU-second show efficiency where wall time shows the load.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
