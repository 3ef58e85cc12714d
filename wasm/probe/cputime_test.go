//go:build !js

package probe

import "syscall"

// cpuSeconds is the process's user+system CPU time: on a shared, loaded
// machine it shows the work of one prediction where wall time cannot.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
