//go:build !js

package main

// The desktop window runs ebiten's usual vsync loop (a GPU draws its frames).
func initFrames() {}

func wake() {}
