//go:build js

package probe

import "syscall/js"

// cpuSeconds is node's process CPU time (0 in a browser).
func cpuSeconds() float64 {
	p := js.Global().Get("process")
	if p.IsUndefined() || p.Get("cpuUsage").IsUndefined() {
		return 0
	}
	u := p.Call("cpuUsage")
	return (u.Get("user").Float() + u.Get("system").Float()) / 1e6
}
