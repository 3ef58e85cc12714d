package probe

import (
	"image"
	"slices"
	"testing"

	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/wasm/demo"
)

// TestResampleCached checks that the pipeline's resampling from the
// photo's cached RGB equals imageio.ToTensor of each crop, bit for bit,
// for a JPEG (YCbCr, subsampled chroma) and an RGBA photo not at (0,0).
func TestResampleCached(t *testing.T) {
	jpg := sitePhoto(t)
	off := image.NewRGBA(image.Rect(-7, 3, 293, 203))
	for i := range off.Pix {
		off.Pix[i] = uint8(i*7 + i/13)
	}
	pipe := Pipeline()
	for _, img := range []image.Image{jpg, off, jpg} {
		b := img.Bounds()
		for _, r := range []image.Rectangle{
			image.Rect(b.Min.X+13, b.Min.Y+5, b.Min.X+213, b.Min.Y+205), // upscaled
			image.Rect(b.Min.X+1, b.Min.Y, b.Min.X+301, b.Min.Y+180),    // downscaled, clipped
			image.Rect(b.Max.X-224, b.Max.Y-224, b.Max.X, b.Max.Y),      // same size
		} {
			got, err := pipe.Resample(img, r, demo.MapSize)
			if err != nil {
				t.Fatal(err)
			}
			want := nn.Data(imageio.ToTensor(img.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(r.Intersect(b)), demo.MapSize))
			if !slices.Equal(got, want) {
				t.Fatalf("%T crop %v differs from imageio.ToTensor's", img, r)
			}
		}
	}
}
