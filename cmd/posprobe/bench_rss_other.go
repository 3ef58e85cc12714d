//go:build !linux

package main

// peakRSSMB: no peak RSS outside Linux (js/wasm has no such counter; other
// systems' units differ), so reports say n/a.
func peakRSSMB() (float64, bool) { return 0, false }
