package main

import (
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/internal/testphotos"
	"gorgonia.org/tensor"
)

func runFeaturesCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	featuresFlags.enc = probeEncoderFlags{init: encoder.InitImageNet.String(), padding: "zero"}
	featuresFlags.image, featuresFlags.out, featuresFlags.size = "", "", 224
	return runCLI(t, append([]string{"features"}, args...)...)
}

func readNpyFile(t *testing.T, p string) *tensor.Dense {
	t.Helper()
	x, err := weights.LoadNpy(p)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestFeaturesCommand(t *testing.T) {
	dir := t.TempDir()
	imgPath := filepath.Join(dir, "in.png")
	testphotos.Write(t, imgPath, 16, 16, func(x, y int) color.NRGBA {
		return color.NRGBA{uint8(16 * x), uint8(16 * y), uint8(x * y), 255}
	})

	// none at the image's own size: the tap is the pixels / 255.
	out := filepath.Join(dir, "none")
	if msg, err := runFeaturesCLI(t, "--encoder", "none", "--size", "16", "--image", imgPath, "--out", out); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	rgb := readNpyFile(t, filepath.Join(out, "rgb.npy"))
	if !slices.Equal(rgb.Shape(), tensor.Shape{1, 3, 16, 16}) {
		t.Fatalf("rgb.npy shape %v", rgb.Shape())
	}
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			if got, want := nn.Data(rgb)[256+y*16+x], float32(16*y)/255; got != want {
				t.Fatalf("green at %d,%d: %v, want %v", x, y, got, want)
			}
		}
	}

	out = filepath.Join(dir, "vgg")
	msg, err := runFeaturesCLI(t, "--encoder", "vgg16", "--init", "random", "--seed", "3", "--padding", "reflect",
		"--size", "32", "--image", imgPath, "--out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	for i, name := range []string{"relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"} {
		tt := readNpyFile(t, filepath.Join(out, name+".npy"))
		c, s := []int{64, 128, 256, 512, 512}[i], 32>>i
		if !slices.Equal(tt.Shape(), tensor.Shape{1, c, s, s}) {
			t.Errorf("%s.npy shape %v", name, tt.Shape())
		}
		if !strings.Contains(msg, name) {
			t.Errorf("table lacks %s:\n%s", name, msg)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 5 {
		t.Errorf("%d files in %s, want the 5 taps only", len(entries), out)
	}

	for _, args := range [][]string{
		{"--encoder", "vgg17", "--image", imgPath, "--out", out},
		{"--encoder", "none", "--image", filepath.Join(dir, "missing.png"), "--out", out},
		{"--encoder", "none", "--padding", "zeroes", "--image", imgPath, "--out", out},
		{"--encoder", "resnet50", "--init", "random", "--padding", "none", "--size", "64", "--image", imgPath, "--out", out},
	} {
		if msg, err := runFeaturesCLI(t, args...); err == nil {
			t.Errorf("%v: no error\n%s", args, msg)
		}
	}
}
