package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"
)

// interruptible is parent cancelled on Ctrl-C, so a long command stops
// cleanly (finishing or discarding its current file) instead of dying.
func interruptible(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt)
}

// newTable aligns the columns of the commands' plain-text tables (cells
// ended by tabs, two spaces apart); alignRight right-aligns them, for
// numbers.
func newTable(w io.Writer, alignRight bool) *tabwriter.Writer {
	var flags uint
	if alignRight {
		flags = tabwriter.AlignRight
	}
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', flags)
}
