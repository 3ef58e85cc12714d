//go:build !js

package main

import "fmt"

// installHook has no page to publish to natively; events go to stdout
// through logf instead.
func installHook(*Game) {}

func logf(format string, args ...any) {
	if *logFlag {
		fmt.Printf(format+"\n", args...)
	}
}

func setProgress(float64, string) {}

const inBrowser = false

const wheelNotch = 1 // the desktop window reports the wheel in notches
