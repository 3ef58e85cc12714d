package main

import (
	"fmt"
	"strings"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/netspec"
	"github.com/posprobe/posprobe/core/nn"
)

// studyInit sets *init from the studies' --init, when given.
func studyInit(init *encoder.Init) error {
	if studyFlags.init == "" {
		return nil
	}
	v, err := netspec.ParseInit(studyFlags.init)
	if err != nil {
		return fmt.Errorf("--init: %q is not imagenet or random", studyFlags.init)
	}
	*init = v
	return nil
}

// studyPaddings sets *modes from the studies' comma-separated --paddings,
// when given.
func studyPaddings(modes *[]nn.PadMode) error {
	if studyFlags.paddings == "" {
		return nil
	}
	var out []nn.PadMode
	for _, p := range strings.Split(studyFlags.paddings, ",") {
		m, err := nn.ParsePadMode(p)
		if err != nil {
			return fmt.Errorf("--paddings: %w", err)
		}
		out = append(out, m)
	}
	*modes = out
	return nil
}

// joinNames joins the names of xs with commas.
func joinNames[T fmt.Stringer](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}
