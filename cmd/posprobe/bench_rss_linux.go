//go:build linux

package main

import "syscall"

// peakRSSMB is the process's peak resident set size so far in MB (10^6
// bytes): getrusage's ru_maxrss, which Linux gives in KiB (the VmHWM line of
// /proc/self/status).
func peakRSSMB() (float64, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil || ru.Maxrss <= 0 {
		return 0, false
	}
	return float64(ru.Maxrss) * 1024 / 1e6, true
}
