package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/onnx"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/sitemodel"
)

// site --model F.onnx --taps SPEC: the demo also offers the ONNX model, once
// per padding mode for which --readouts holds readouts trained with
// posprobe train --model F.onnx [--taps SPEC] [--padding P].
var siteModelFlags struct{ model, taps string }

func init() {
	siteCmd.Flags().StringVar(&siteModelFlags.model, "model", "", "ONNX model to offer first in the demo (its readouts, from train --model, must be in --readouts)")
	siteCmd.Flags().StringVar(&siteModelFlags.taps, "taps", "", "the --taps the model's readouts were trained with")
}

// addSiteModel copies --model into the site as models/<file> and lists it in
// the manifest for every padding with readouts.
func addSiteModel(log io.Writer, out, readouts string, man *siteManifest) error {
	path := siteModelFlags.model
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	m, err := onnx.ParseModel(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, t := range m.Graph.Initializers {
		if t.External != nil {
			return fmt.Errorf("%s: tensor %q is in an external data file; the site serves one file: save the model with its data inside (onnx.save_model(m, F, save_as_external_data=False))", path, t.Name)
		}
	}
	if _, err := onnx.New(m, onnx.Options{Taps: tapSpec(siteModelFlags.taps)}); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	base := filepath.Base(path)
	name := strings.TrimSuffix(base, filepath.Ext(base))
	for _, p := range []nn.PadMode{nn.PadZero, nn.PadNone, nn.PadReflect, nn.PadReplicate, nn.PadCircular} {
		n := 0
		for _, t := range posmap.AllTargets() {
			if _, err := os.Stat(filepath.Join(readouts, readout.FileName(name, encoder.InitImageNet, p, t))); err == nil {
				n++
			}
		}
		if n == 0 {
			continue
		}
		man.Models = append(man.Models, sitemodel.Model{Key: name + "-" + p.String(), Label: fmt.Sprintf("%s (ONNX), %s padding", name, p),
			Name: name, Padding: p, File: "models/" + base, Taps: siteModelFlags.taps})
		fmt.Fprintf(log, "%s: %d readouts with %s padding\n", name, n, p)
	}
	if len(man.Models) == 0 {
		return fmt.Errorf("--model %s: no readouts named %s in %s; train them with posprobe train --model %s --out %s/",
			path, readout.FileName(name, encoder.InitImageNet, nn.PadZero, posmap.H), readouts, path, readouts)
	}
	return writeFileAtomic(filepath.Join(out, "models", base), b)
}
