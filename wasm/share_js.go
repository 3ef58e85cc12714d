//go:build js

package main

import "syscall/js"

// urlFragment is the page's URL fragment (the page passes its own on to
// the frame the app runs in).
func urlFragment() string { return js.Global().Get("location").Get("hash").String() }
