//go:build js

// Package proc reads the process's own resource use for benchmarks.
package proc

import "syscall/js"

// CPUSeconds is node's process CPU time; 0 in a browser (no such clock).
func CPUSeconds() float64 {
	p := js.Global().Get("process")
	if p.IsUndefined() || p.Get("cpuUsage").IsUndefined() {
		return 0
	}
	u := p.Call("cpuUsage")
	return (u.Get("user").Float() + u.Get("system").Float()) / 1e6
}
