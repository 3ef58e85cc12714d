// Package posmap makes the content-independent ground-truth position maps the
// readout learns (H, V, G, HS, VS) and the synthetic test inputs (black,
// white, noise). The maps follow the official ground-truth PNGs, generated
// procedurally at any size (reference-results.md, "GT maps").
package posmap

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Target is one ground-truth position map.
type Target int

const (
	H  Target = iota // horizontal gradient: 0 at the left column, 1 at the right
	V                // vertical gradient: 0 at the top row, 1 at the bottom
	G                // isotropic Gaussian centred in the image, min-max normalised
	HS               // horizontal stripes: 2.5 cosine periods along y (rows constant)
	VS               // vertical stripes: the same profile along x (columns constant)
)

var names = [...]string{"H", "V", "G", "HS", "VS"}

var descriptions = [len(names)]string{"horizontal gradient", "vertical gradient", "Gaussian at the centre", "horizontal stripes", "vertical stripes"}

func (t Target) String() string {
	if t < 0 || int(t) >= len(names) {
		return fmt.Sprintf("Target(%d)", int(t))
	}
	return names[t]
}

// Description says what the map is, in words ("horizontal gradient").
func (t Target) Description() string {
	if t < 0 || int(t) >= len(descriptions) {
		return t.String()
	}
	return descriptions[t]
}

// IsStripes reports whether t is HS or VS (the targets StripeRange affects).
func (t Target) IsStripes() bool { return t == HS || t == VS }

// AllTargets returns H, V, G, HS, VS in that order: the one list of targets.
func AllTargets() []Target { return []Target{H, V, G, HS, VS} }

// Names returns the names of ts, e.g. Names(AllTargets()) is H, V, G, HS, VS.
func Names(ts []Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

// ParseTarget accepts H, V, G, HS, VS in any case.
func ParseTarget(s string) (Target, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return Target(i), nil
		}
	}
	return 0, fmt.Errorf("unknown target %q (want one of %s)", s, strings.Join(names[:], ", "))
}

// MarshalText writes the target's name; a value outside the list is an error.
func (t Target) MarshalText() ([]byte, error) {
	if t < 0 || int(t) >= len(names) {
		return nil, fmt.Errorf("invalid target %d (want one of %s)", int(t), strings.Join(names[:], ", "))
	}
	return []byte(names[t]), nil
}

// UnmarshalText reads a name ParseTarget takes.
func (t *Target) UnmarshalText(b []byte) error {
	v, err := ParseTarget(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// StripeRange is the value range of the stripe targets.
type StripeRange int

const (
	Stripes01  StripeRange = iota // [0,1], as the released PNGs (default)
	StripesPM1                    // [-1,1], the paper's apparent HS/VS MAE scale
)

func (r StripeRange) String() string {
	if r == StripesPM1 {
		return "pm1"
	}
	return "01"
}

// ParseStripeRange accepts "01" (or "") and "pm1".
func ParseStripeRange(s string) (StripeRange, error) {
	switch strings.ToLower(s) {
	case "", "01":
		return Stripes01, nil
	case "pm1":
		return StripesPM1, nil
	}
	return 0, fmt.Errorf("unknown stripe range %q (want 01 or pm1)", s)
}

// Options tune the maps.
type Options struct {
	Stripes StripeRange
}

// Map returns target t as size*size values, row-major (index y*size+x).
// size must be at least 2.
func Map(t Target, size int, opts Options) []float32 {
	if size < 2 {
		panic(fmt.Sprintf("posmap.Map: size %d < 2", size))
	}
	out := make([]float32, size*size)
	n := float64(size)
	switch t {
	case H, V:
		along(out, size, t == H, func(i int) float32 { return float32(float64(i) / (n - 1)) })
	case G:
		// Sample the 256-pixel Gaussian (centre 128, sigma 128) at the
		// centres of the output pixels mapped onto the 256 grid.
		g := make([]float64, size*size)
		lo, hi := math.Inf(1), math.Inf(-1)
		for y := 0; y < size; y++ {
			uy := (float64(y)+0.5)*256/n - 0.5 - 128
			for x := 0; x < size; x++ {
				ux := (float64(x)+0.5)*256/n - 0.5 - 128
				v := math.Exp(-(ux*ux + uy*uy) / (2 * 128 * 128))
				g[y*size+x] = v
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		for i, v := range g {
			out[i] = float32((v - lo) / (hi - lo))
		}
	case HS, VS:
		along(out, size, t == VS, func(i int) float32 {
			c := math.Cos(5 * math.Pi * (float64(i) + 0.5) / n)
			if opts.Stripes == StripesPM1 {
				return float32(c)
			}
			return float32(0.5 * (1 + c))
		})
	default:
		panic(fmt.Sprintf("posmap.Map: unknown target %d", int(t)))
	}
	return out
}

// along fills the size*size map out with a profile of one coordinate: p(x)
// along every row when byX, else p(y) down every column.
func along(out []float32, size int, byX bool, p func(i int) float32) {
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			i := y
			if byX {
				i = x
			}
			out[y*size+x] = p(i)
		}
	}
}

// Synthetic input names.
const (
	Black = "black"
	White = "white"
	Noise = "noise"
)

// SyntheticNames lists the synthetic inputs.
func SyntheticNames() []string { return []string{Black, White, Noise} }

// IsSynthetic reports whether name is a synthetic input.
func IsSynthetic(name string) bool { return name == Black || name == White || name == Noise }

// NoiseFile is the reference noise image, relative to the data folder.
const NoiseFile = "synthetic/noise_224_seed0.png"

// Synthetic returns a size x size RGB synthetic input and where it came
// from. black and white are constant. noise is the reference PNG
// (N(0.5,0.2) per channel, clipped; NoiseFile in data) when data holds it
// and is 224 wide; otherwise a seeded procedural image of the same law
// (different pixels: the Noise column then differs a little from the
// reference run). data may be nil.
func Synthetic(name string, size int, data fs.FS) (img *image.NRGBA, source string, err error) {
	img = image.NewNRGBA(image.Rect(0, 0, size, size))
	switch name {
	case Black, White:
		v := uint8(0)
		if name == White {
			v = 255
		}
		for i := range img.Pix {
			img.Pix[i] = v
			if i%4 == 3 {
				img.Pix[i] = 255
			}
		}
		return img, name, nil
	case Noise:
		if data != nil {
			b, err := fs.ReadFile(data, NoiseFile)
			if err == nil {
				im, err := png.Decode(bytes.NewReader(b))
				if err != nil {
					return nil, "", fmt.Errorf("%s: %w", NoiseFile, err)
				}
				if im.Bounds().Dx() == size && im.Bounds().Dy() == size {
					out := image.NewNRGBA(image.Rect(0, 0, size, size))
					for y := 0; y < size; y++ {
						for x := 0; x < size; x++ {
							out.Set(x, y, im.At(im.Bounds().Min.X+x, im.Bounds().Min.Y+y))
						}
					}
					return out, NoiseFile, nil
				}
			}
		}
		rng := rand.New(rand.NewPCG(0, 0x6e6f697365))
		for i := range img.Pix {
			if i%4 == 3 {
				img.Pix[i] = 255
				continue
			}
			v := min(max(0.5+0.2*rng.NormFloat64(), 0), 1)
			img.Pix[i] = uint8(math.Round(v * 255))
		}
		return img, "procedural noise N(0.5,0.2) seed 0", nil
	}
	return nil, "", fmt.Errorf("unknown synthetic input %q (want black, white or noise)", name)
}

// DataFS returns os.DirFS(dir), or nil for "".
func DataFS(dir string) fs.FS {
	if dir == "" {
		return nil
	}
	return os.DirFS(filepath.Clean(dir))
}
