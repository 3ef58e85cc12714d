// Package photo decodes JPEG, PNG and GIF photos within a pixel budget
// checked on the header, before any pixel memory is allocated. It is the
// one decoder of the CLI (through core/imageio) and of the demo, whose UI
// module links it without imageio's tensor code.
package photo

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif" // registered decoders: jpeg, png, gif
	_ "image/jpeg"
	_ "image/png"
	"io"
	"sync/atomic"
)

// DefaultMaxPixels is the largest image (width x height) decoded unless
// SetMaxPixels raises it: 50 megapixels, about 200 MB decoded as RGBA. A
// PNG of a few bytes can declare 100000x100000 pixels; the budget is checked
// on the header before any pixel memory is allocated.
const DefaultMaxPixels = 50_000_000

var maxPixels atomic.Int64

func init() { maxPixels.Store(DefaultMaxPixels) }

// SetMaxPixels sets the pixel budget of Decode (n >= 1).
func SetMaxPixels(n int64) {
	if n < 1 {
		panic("photo.SetMaxPixels: budget must be positive")
	}
	maxPixels.Store(n)
}

// MaxPixels returns the current pixel budget.
func MaxPixels() int64 { return maxPixels.Load() }

// BudgetError is an image whose header declares more pixels than the budget.
type BudgetError struct {
	Source    string
	W, H, Max int64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("%s: %dx%d image has %d pixels, over the limit of %d (raise it with --max-pixels)",
		e.Source, e.W, e.H, e.W*e.H, e.Max)
}

// CheckConfig checks an image header against the pixel budget.
func CheckConfig(cfg image.Config, source string) error {
	w, h, m := int64(cfg.Width), int64(cfg.Height), MaxPixels()
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%s: empty image (%dx%d)", source, w, h)
	}
	if w > m || h > m || w*h > m {
		return &BudgetError{Source: source, W: w, H: h, Max: m}
	}
	return nil
}

// Decode reads one JPEG, PNG or GIF image, checking its declared size
// against the pixel budget first. source names the data in errors.
func Decode(r io.Reader, source string) (image.Image, error) {
	_, r, err := ReadHeader(r, source)
	if err != nil {
		return nil, err
	}
	return DecodeBody(r, source)
}

// ReadHeader reads and checks the image header; the returned reader gives
// the whole data again, for DecodeBody.
func ReadHeader(r io.Reader, source string) (image.Config, io.Reader, error) {
	var head bytes.Buffer
	cfg, _, err := image.DecodeConfig(io.TeeReader(r, &head))
	if err != nil {
		return cfg, nil, decodeError(err, source)
	}
	if err := CheckConfig(cfg, source); err != nil {
		return cfg, nil, err
	}
	return cfg, io.MultiReader(&head, r), nil
}

// DecodeBody decodes the image of a reader ReadHeader returned.
func DecodeBody(r io.Reader, source string) (image.Image, error) {
	img, format, err := image.Decode(r)
	if err != nil {
		return nil, decodeError(err, source)
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("%s: empty %s image (%dx%d)", source, format, b.Dx(), b.Dy())
	}
	return img, nil
}

func decodeError(err error, source string) error {
	// image returns ErrFormat itself; == keeps errors.Is's reflection out
	// of the demo's modules.
	if err == image.ErrFormat {
		return fmt.Errorf("%s: not a JPEG, PNG or GIF image", source)
	}
	return fmt.Errorf("%s: decoding image: %w", source, err)
}
