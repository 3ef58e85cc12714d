package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/netspec"
	"github.com/posprobe/posprobe/core/nn"
)

// The flags and flag parsing that several studies share.

// addInitFlag adds a study's --init (into studyFlags.init); quick says what
// --quick does to it.
func addInitFlag(f *pflag.FlagSet, quick string) {
	help := "encoder weights: imagenet (default) or random"
	if quick != "" {
		help += " (--quick: " + quick + ")"
	}
	f.StringVar(&studyFlags.init, "init", "", help)
}

// addPaddingsFlag adds a study's --paddings (into studyFlags.paddings).
func addPaddingsFlag(f *pflag.FlagSet, defaults []nn.PadMode) {
	f.StringVar(&studyFlags.paddings, "paddings", "", "comma-separated padding modes (default "+joinNames(defaults)+")")
}

// addPhotosFlag adds a study's --photos (into studyFlags.photos), whose
// default is $POSPROBE_DATA/images/bsds500.
func addPhotosFlag(f *pflag.FlagSet, what string) {
	addDataPhotosFlag(f, &studyFlags.photos, "photos", what, "bsds500")
}

// addDataPhotosFlag adds a photo folder flag whose default is the data
// folder's images/def.
func addDataPhotosFlag(f *pflag.FlagSet, p *string, name, what, def string) {
	f.StringVar(p, name, "", what+" (default $POSPROBE_DATA/images/"+def+")")
}

// photoFolder is dir, or $POSPROBE_DATA/images/def when dir is empty, with
// its photos (subfolders included); flag names the option in errors.
func photoFolder(flag, dir, def string) (string, []string, error) {
	if dir == "" {
		if dataDir() == "" {
			return "", nil, fmt.Errorf("%s: no photo folder (set %s, --data or POSPROBE_DATA)", flag, flag)
		}
		dir = filepath.Join(dataDir(), "images", def)
	}
	ps, err := imageio.ListImages(dir, true)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", flag, err)
	}
	return dir, ps, nil
}

// photoList lists n photos of dir (or of $POSPROBE_DATA/images/def).
func photoList(flag, dir, def string, n int) ([]string, error) {
	dir, ps, err := photoFolder(flag, dir, def)
	if err != nil {
		return nil, err
	}
	if len(ps) < n {
		return nil, fmt.Errorf("%s: %s has %d photos, the study needs %d", flag, dir, len(ps), n)
	}
	return ps[:n], nil
}

// photoSource names the folder of a study's photos for its settings.
func photoSource(photos []string) string { return dataRel(filepath.Dir(photos[0])) }

// splitList splits a comma list, trimming spaces around each item.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// parseInts reads a comma list of integers; bad is the error's format, given
// the item that is not an integer or that ok refuses.
func parseInts(s string, ok func(int) bool, bad string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || !ok(v) {
			return nil, fmt.Errorf(bad, p)
		}
		out = append(out, v)
	}
	return out, nil
}

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
	for _, p := range splitList(studyFlags.paddings) {
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
