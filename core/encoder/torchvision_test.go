package encoder

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/internal/testfiles"
	"gorgonia.org/tensor"
)

// Fixtures written by testdata/gen/torchvision_fixtures.py from real
// torchvision modules at reduced width.
const fixtureDir = "../../testdata/torchvision"

type fixtureManifest struct {
	Nets []struct {
		Encoder string
		Width   int
		Weights map[string]string
		Cases   []struct {
			Padding   string
			Size      int
			Normalize bool
			Taps      []struct {
				Name  string
				File  string
				Shape []int
				Step  int
			}
		}
		Logits string
	}
}

func readManifest(t *testing.T) fixtureManifest {
	t.Helper()
	var m fixtureManifest
	testfiles.ReadJSON(t, filepath.Join(fixtureDir, "manifest.json"), &m)
	if len(m.Nets) == 0 {
		t.Fatal("fixture manifest lists no nets")
	}
	return m
}

// fixedInput is the generator's input: x[n,c,h,w] = ((7c+13h+29w+3n) mod 97)/96.
func fixedInput(n, h, w int) *tensor.Dense {
	x := nn.New(n, 3, h, w)
	d := nn.Data(x)
	i := 0
	for b := 0; b < n; b++ {
		for c := 0; c < 3; c++ {
			for y := 0; y < h; y++ {
				for xx := 0; xx < w; xx++ {
					d[i] = float32(float64((7*c+13*y+29*xx+3*b)%97) / 96)
					i++
				}
			}
		}
	}
	return x
}

func readFixture(t *testing.T, name string) *tensor.Dense {
	t.Helper()
	return readNpyFile(t, filepath.Join(fixtureDir, name))
}

// relErr is max|a-b| / max|b|: the error relative to the largest reference
// value, so near-zero activations (after ReLU most are) don't inflate it.
func relErr(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// subsample returns t[:, :, ::step, ::step] of a [N,C,H,W] tensor.
func subsample(t *tensor.Dense, step int) []float32 {
	n, c, h, w := nn.Dims4(t)
	d := nn.Data(t)
	var out []float32
	for p := 0; p < n*c; p++ {
		for y := 0; y < h; y += step {
			for x := 0; x < w; x += step {
				out = append(out, d[p*h*w+y*w+x])
			}
		}
	}
	return out
}

const tapTol = 1e-4 // relErr of every tap and of the logits against PyTorch

// TestTorchvisionFixtures loads each reduced-width torchvision state_dict in
// both .pth formats through the real loader and matches every tap (and the
// logits of Classify) against PyTorch's.
func TestTorchvisionFixtures(t *testing.T) {
	m := readManifest(t)
	for _, net := range m.Nets {
		for format, file := range net.Weights {
			for _, c := range net.Cases {
				t.Run(fmt.Sprintf("%s/%s/%s", net.Encoder, format, c.Padding), func(t *testing.T) {
					pad, err := nn.ParsePadMode(c.Padding)
					if err != nil {
						t.Fatal(err)
					}
					enc, err := New(net.Encoder, Options{Weights: filepath.Join(fixtureDir, file),
						Width: net.Width, Padding: pad, Normalize: c.Normalize})
					if err != nil {
						t.Fatal(err)
					}
					taps, err := enc.Forward(fixedInput(1, c.Size, c.Size))
					if err != nil {
						t.Fatal(err)
					}
					if len(taps) != len(c.Taps) || len(enc.Taps()) != len(c.Taps) {
						t.Fatalf("%d taps (%d declared), want %d", len(taps), len(enc.Taps()), len(c.Taps))
					}
					for i, want := range c.Taps {
						got := taps[i]
						info := enc.Taps()[i]
						if info.Name != want.Name || info.Channels != want.Shape[1] {
							t.Errorf("tap %d declared %+v, want %s with %d channels", i, info, want.Name, want.Shape[1])
						}
						if !slices.Equal([]int(got.Shape()), want.Shape) {
							t.Errorf("%s: shape %v, want %v", want.Name, got.Shape(), want.Shape)
							continue
						}
						ref := readFixture(t, want.File)
						g := subsample(got, want.Step)
						if len(g) != ref.Len() {
							t.Fatalf("%s: %d values vs %d in %s", want.Name, len(g), ref.Len(), want.File)
						}
						if e := relErr(g, nn.Data(ref)); e > tapTol || math.IsNaN(e) {
							t.Errorf("%s: relative error %.3g > %g", want.Name, e, tapTol)
						} else {
							t.Logf("%s %v: relative error %.2g", want.Name, want.Shape, e)
						}
					}
				})
			}
			t.Run(fmt.Sprintf("%s/%s/classify", net.Encoder, format), func(t *testing.T) {
				enc, err := New(net.Encoder, Options{Weights: filepath.Join(fixtureDir, file), Width: net.Width})
				if err != nil {
					t.Fatal(err)
				}
				cl, ok := enc.(Classifier)
				if !ok {
					t.Fatal("weights with a classifier gave no Classifier")
				}
				got, err := cl.Classify(fixedInput(1, 224, 224))
				if err != nil {
					t.Fatal(err)
				}
				ref := readFixture(t, net.Logits)
				if !slices.Equal(got.Shape(), ref.Shape()) {
					t.Fatalf("logits shape %v, want %v", got.Shape(), ref.Shape())
				}
				if e := relErr(nn.Data(got), nn.Data(ref)); e > tapTol || math.IsNaN(e) {
					t.Errorf("logits: relative error %.3g > %g", e, tapTol)
				}
			})
		}
	}
}

// TestPadNoneMinimumSize checks the smallest input our size check accepts
// against the one the generator found by running PyTorch.
func TestPadNoneMinimumSize(t *testing.T) {
	for _, net := range readManifest(t).Nets {
		for _, c := range net.Cases {
			if c.Padding != "none" || net.Encoder == "vgg16" {
				continue
			}
			enc, err := New(net.Encoder, Options{Init: InitRandom, Width: net.Width, Padding: nn.PadNone})
			if err != nil {
				t.Fatal(err)
			}
			_, err = enc.Forward(fixedInput(1, c.Size-1, c.Size-1))
			want := fmt.Sprintf("at least %dx%d", c.Size, c.Size)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s at %d: error %v, want one saying %q", net.Encoder, c.Size-1, err, want)
			}
		}
	}
}
