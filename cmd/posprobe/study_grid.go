package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/study"
	"github.com/posprobe/posprobe/core/study/grid"
)

var gridCmd = &cobra.Command{
	Use:   "grid",
	Short: "GAPNet grid location: is the cell of a pasted photo decodable after global pooling?",
	Long: `grid pastes each photo into each cell of a 3x3 canvas, runs the frozen encoder,
averages every tap over space, and trains a softmax classifier on the
concatenated channels to name the cell (Islam, Kowal et al., ICCV 2021).
The first --train-photos photos train it, the next --test-photos test it.
--json prints a list of {"encoder", "padding", "accuracy", "train_accuracy",
"per_cell", ...}.`,
	Example: `  posprobe study grid --json
  posprobe study grid --encoders squeezenet1.1,mobilenetv2 --paddings zero,none,full --canvas mean`,
	Args: cobra.NoArgs,
	RunE: oneStudy(gridStudy),
}

// parseCanvas reads a canvas colour name or R,G,B (0..255) into [0,1].
func parseCanvas(s string) ([3]float32, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "black":
		return [3]float32{}, nil
	case "white":
		return [3]float32{1, 1, 1}, nil
	case "gray", "grey":
		return [3]float32{0.5, 0.5, 0.5}, nil
	case "mean":
		return [3]float32{0.485, 0.456, 0.406}, nil
	}
	var c [3]float32
	if strings.Count(s, ",") != 2 {
		return c, fmt.Errorf("--canvas: %q is not black, white, gray, mean or R,G,B", s)
	}
	vs, err := parseInts(s, func(v int) bool { return v >= 0 && v <= 255 }, "--canvas: %q is not a 0..255 component")
	for i, v := range vs {
		c[i] = float32(v) / 255
	}
	return c, err
}

func gridConfig() (grid.Config, error) {
	sf := studyFlags
	c := grid.Default()
	if sf.quick {
		c = grid.Quick()
	}
	if sf.encoders != "" {
		c.Encoders = splitList(sf.encoders)
	}
	if err := studyPaddings(&c.Paddings); err != nil {
		return c, err
	}
	if err := studyInit(&c.Init); err != nil {
		return c, err
	}
	if sf.trainPhotos < 0 || sf.testPhotos < 0 || sf.cell < 0 {
		return c, fmt.Errorf("--train-photos, --test-photos and --cell must not be negative")
	}
	c.Train, c.Test, c.Cell = orDefault(sf.trainPhotos, c.Train), orDefault(sf.testPhotos, c.Test), orDefault(sf.cell, c.Cell)
	var err error
	if c.Canvas, err = parseCanvas(sf.canvas); err != nil {
		return c, err
	}
	c.Seed, c.DataDir = sf.seed, dataDir()
	dir, photos, err := photoFolder("--photos", sf.photos, "bsds500")
	if err != nil {
		return c, err
	}
	c.Photos = photos
	if len(c.Photos) < c.Train+c.Test {
		return c, fmt.Errorf("--photos: %s has %d photos, the study needs %d training + %d test", dir, len(c.Photos), c.Train, c.Test)
	}
	return c, nil
}

// gridStudy runs the study as the flags configure it.
var gridStudy = withConfig(gridConfig, runGrid)

func runGrid(cmd *cobra.Command, c grid.Config) (study.Outcome, error) {
	settings := map[string]string{
		"encoders": fmt.Sprintf("%s (%s)", strings.Join(c.Encoders, ","), c.Init), "paddings": joinNames(c.Paddings),
		"photos (train/test)": fmt.Sprintf("%d/%d from %s", c.Train, c.Test, photoSource(c.Photos)),
		"cell":                fmt.Sprintf("%d px, canvas colour %v", c.Cell, c.Canvas), "seed": fmt.Sprint(c.Seed),
	}
	return runStudy(cmd, studyJob[[]grid.Result]{name: "grid", title: "Grid: cell location after global average pooling",
		settings: settings, markdown: func(rs []grid.Result) string { return grid.Markdown(c, rs) },
		figure: func(rs []grid.Result, p string) error { return saveChart(p)(grid.Figure(rs)) },
	}, func(ctx context.Context) ([]grid.Result, error) {
		per := 9 * (c.Train + c.Test)
		bar := newBar(cmd.ErrOrStderr(), len(c.Encoders)*len(c.Paddings)*per, "grid", "passes")
		defer bar.Finish()
		runs, key := 0, ""
		return grid.Run(ctx, c, func(enc, pad string, done, total int) {
			if k := enc + "/" + pad; k != key {
				if key != "" {
					runs++
				}
				key = k
				bar.Describe("grid " + k)
			}
			bar.Set(runs*per + done)
		})
	})
}
