package main

import (
	"fmt"
	"math"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/posprobe/posprobe/core/photo"
)

// Numeric flags carry their accepted range as a flag annotation; the root
// command checks every one that the running command has before it runs, so
// a value out of range is a one-line error naming the flag.
const rangeKey = "posprobe-range"

// maxInputSize bounds --size: ResNet-152 without padding needs 1447, and
// memory grows with the area (VGG16 at 1024: 2.0 GB peak, at 50000 it
// ran out of memory).
const maxInputSize = 2048

// limitFlag gives flag name of fs the range [lo, hi]; open makes lo itself
// out of range (a learning rate must be above 0).
func limitFlag(fs *pflag.FlagSet, name string, lo, hi float64, open bool) {
	o := "closed"
	if open {
		o = "open"
	}
	if err := fs.SetAnnotation(name, rangeKey, []string{fmtNum(lo), fmtNum(hi), o}); err != nil {
		panic(err)
	}
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// checkFlagRanges refuses any ranged flag of cmd whose value is outside
// its range (or not a finite number).
func checkFlagRanges(cmd *cobra.Command) error {
	var bad error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		r, ok := f.Annotations[rangeKey]
		if !ok || bad != nil {
			return
		}
		lo, _ := strconv.ParseFloat(r[0], 64)
		hi, _ := strconv.ParseFloat(r[1], 64)
		v, err := strconv.ParseFloat(f.Value.String(), 64)
		low := v < lo || (r[2] == "open" && v == lo)
		if err != nil || math.IsNaN(v) || low || v > hi {
			lb := "from"
			if r[2] == "open" {
				lb = "above"
			}
			bad = fmt.Errorf("--%s %s: must be a number %s %s to %s", f.Name, f.Value.String(), lb, r[0], r[1])
		}
	})
	return bad
}

var maxPixelsFlag int64

func init() {
	pf := rootCmd.PersistentFlags()
	pf.Int64Var(&maxPixelsFlag, "max-pixels", photo.DefaultMaxPixels, "largest image decoded, in pixels (width x height)")
	limitFlag(pf, "max-pixels", 1, 2e9, false)
	rootCmd.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := checkFlagRanges(cmd); err != nil {
			return err
		}
		photo.SetMaxPixels(maxPixelsFlag)
		return nil
	}
}
