//go:build !js

package main

import "time"

// The desktop window runs ebiten's usual vsync loop (a GPU draws its frames).
func initFrames() {}

func wake() {}

func holdFrames(time.Duration) {}

func wakeAt(time.Time) {}

func progressWake() {}

func hidden() bool { return false }
