package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/internal/atomicfile"
	"gorgonia.org/tensor"
)

var featuresFlags struct {
	enc        probeEncoderFlags
	image, out string
	size       int
}

var featuresCmd = &cobra.Command{
	Use:   "features --encoder NAME --image FILE --out DIR",
	Short: "Run a frozen encoder on one image and save every tap as .npy",
	Long: `features resizes an image to --size x --size (Pillow-exact bilinear, values in
[0,1]), runs the encoder and writes each tap to DIR/<tap>.npy as float32
[1,C,H,W] (numpy.load reads it), then prints the taps with their channels,
size and stride.

Encoders: ` + strings.Join(encoder.Names(), ", ") + `.
--init imagenet (default) loads pretrained weights (see 'posprobe weights');
--init random draws weights with torchvision's initialisation scheme (its
distributions, not PyTorch's random numbers) from --seed, the same numbers
on every platform. --padding replaces every zero padding of the
encoder's convolutions: none removes it (the paper's "w/o padding" variant;
taps shrink, and ResNets then need inputs larger than 224), reflect,
replicate and circular follow PyTorch's padding_mode, and full is F-Conv
(k-1 zeros per side; taps grow and skip paths are zero-padded to match).
--normalize applies the
ImageNet mean/std to the input first, as torchvision's pretrained models
expect.`,
	Example: `  posprobe features --encoder vgg16 --init random --image photo.jpg --out feats/
  posprobe features --encoder vgg16 --weights vgg16-397923af.pth --normalize --padding none \
      --image photo.jpg --out feats-nopad/
  posprobe features --encoder squeezenet1.1 --data ../shared/data --image photo.jpg --out sq/
  python3 -c "import numpy; print(numpy.load('feats/relu5_3.npy').shape)"   # (1, 512, 14, 14)`,
	RunE: runFeatures,
}

func init() {
	f := featuresCmd.Flags()
	featuresFlags.enc.add(f)
	f.StringVar(&featuresFlags.image, "image", "", "input image (JPEG, PNG or GIF)")
	f.StringVar(&featuresFlags.out, "out", "", "output folder for <tap>.npy (created if missing)")
	f.IntVar(&featuresFlags.size, "size", 224, "input height and width after resizing")
	limitFlag(f, "size", 1, maxInputSize, false)
	addEncoderCommand(featuresCmd, "image", "out")
}

func runFeatures(cmd *cobra.Command, _ []string) error {
	ff := featuresFlags
	if ff.size < 1 {
		return fmt.Errorf("--size %d: must be positive", ff.size)
	}
	pe, err := ff.enc.build()
	if err != nil {
		return err
	}
	enc := pe.enc
	x, err := imageio.LoadTensor(ff.image, ff.size)
	if err != nil {
		return err // imageio's errors name the file
	}
	taps, err := enc.Forward(x)
	var se *encoder.SizeError
	if errors.As(err, &se) {
		return fmt.Errorf("%w; rerun with --size %d or more", err, se.Min)
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(ff.out, 0o755); err != nil {
		return err
	}
	tw := newTable(cmd.OutOrStdout(), true)
	fmt.Fprintf(tw, "tap\tchannels\tH x W\tstride\t\n")
	for i, tp := range enc.Taps() {
		t := taps[i]
		_, c, h, w := nn.Dims4(t)
		p := filepath.Join(ff.out, tp.Name+".npy")
		if err := writeNpyFile(p, t); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%d x %d\t%d\t\n", tp.Name, c, h, w, tp.Stride)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%d taps of %s written to %s\n", len(taps), enc.Name(), ff.out)
	return nil
}

// writeNpyFile writes t to p atomically (internal/atomicfile).
func writeNpyFile(p string, t *tensor.Dense) error {
	return atomicfile.Write(p, 0o644, func(w io.Writer) error { return weights.WriteNpy(w, t) })
}
