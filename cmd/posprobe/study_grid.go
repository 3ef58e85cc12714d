package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/imageio"
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
	RunE: oneStudy(runGrid),
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
	parts := strings.Split(s, ",")
	var c [3]float32
	if len(parts) != 3 {
		return c, fmt.Errorf("--canvas: %q is not black, white, gray, mean or R,G,B", s)
	}
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 0 || v > 255 {
			return c, fmt.Errorf("--canvas: %q is not a 0..255 component", p)
		}
		c[i] = float32(v) / 255
	}
	return c, nil
}

func gridConfig() (grid.Config, error) {
	sf := studyFlags
	c := grid.Default()
	if sf.quick {
		c = grid.Quick()
	}
	split := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ",") {
			out = append(out, strings.TrimSpace(p))
		}
		return out
	}
	if sf.encoders != "" {
		c.Encoders = split(sf.encoders)
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
	dir := sf.photos
	if dir == "" {
		if c.DataDir == "" {
			return c, fmt.Errorf("--photos: no photo folder (set --photos, --data or POSPROBE_DATA)")
		}
		dir = filepath.Join(c.DataDir, "images", "bsds500")
	}
	if c.Photos, err = imageio.ListImages(dir, true); err != nil {
		return c, fmt.Errorf("--photos: %w", err)
	}
	if len(c.Photos) < c.Train+c.Test {
		return c, fmt.Errorf("--photos: %s has %d photos, the study needs %d training + %d test", dir, len(c.Photos), c.Train, c.Test)
	}
	return c, nil
}

func runGrid(cmd *cobra.Command) (study.Outcome, error) {
	c, err := gridConfig()
	if err != nil {
		return study.Outcome{}, err
	}
	settings := map[string]string{
		"encoders": fmt.Sprintf("%s (%s)", strings.Join(c.Encoders, ","), c.Init), "paddings": joinNames(c.Paddings),
		"photos (train/test)": fmt.Sprintf("%d/%d from %s", c.Train, c.Test, dataRel(filepath.Dir(c.Photos[0]))),
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
