// Package imageio loads photos (decoded by core/photo, within its pixel
// budget) and turns them into the [1,3,S,S] float tensors in [0,1] the
// encoders take, reproducing the reference pipeline
// PIL open().convert("RGB").resize((S,S), BILINEAR) / 255.
package imageio

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/photo"
	"golang.org/x/sync/semaphore"
	"gorgonia.org/tensor"
)

// RGB returns the image as 8-bit interleaved RGB (w*h*3 bytes), like PIL's
// convert("RGB"): alpha is dropped without compositing, gray is replicated.
func RGB(img image.Image) (pix []uint8, w, h int) {
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	pix = make([]uint8, w*h*3)
	switch src := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+w]
			for x, v := range row {
				o := (y*w + x) * 3
				pix[o], pix[o+1], pix[o+2] = v, v, v
			}
		}
	case *image.NRGBA:
		copyRGB(pix, src.Pix, src.Stride, w, h)
	case *image.RGBA:
		// Opaque RGBA (e.g. from draw) is also non-premultiplied; the
		// semi-transparent case goes through the generic path below.
		if src.Opaque() {
			copyRGB(pix, src.Pix, src.Stride, w, h)
			break
		}
		unpremultiplyRGB(pix, src.Pix, src.Stride, w, h)
	default:
		if ycc, ok := img.(*image.YCbCr); ok {
			// draw converts YCbCr with the same integer formula as
			// color.YCbCrToRGB, row by row and much faster than At.
			rgba := image.NewRGBA(image.Rect(0, 0, w, h))
			draw.Draw(rgba, rgba.Bounds(), ycc, b.Min, draw.Src)
			copyRGB(pix, rgba.Pix, rgba.Stride, w, h)
			break
		}
		generic(pix, img, w, h)
	}
	return pix, w, h
}

func copyRGB(dst, src []uint8, stride, w, h int) {
	for y := 0; y < h; y++ {
		row := src[y*stride : y*stride+4*w]
		for x := 0; x < w; x++ {
			o := (y*w + x) * 3
			dst[o], dst[o+1], dst[o+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
}

// unpremultiplyRGB is generic for *image.RGBA pixels without the At and
// colour-model calls: color.NRGBAModel's integer formula on 16-bit values,
// truncation included (also for invalid R > A pixels).
func unpremultiplyRGB(dst, src []uint8, stride, w, h int) {
	for y := 0; y < h; y++ {
		row := src[y*stride : y*stride+4*w]
		out := dst[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			px := row[4*x : 4*x+4 : 4*x+4]
			o := out[3*x : 3*x+3 : 3*x+3]
			switch a := uint32(px[3]) * 0x101; a {
			case 0xffff:
				o[0], o[1], o[2] = px[0], px[1], px[2]
			case 0:
				o[0], o[1], o[2] = 0, 0, 0
			default:
				o[0] = uint8(uint32(px[0]) * 0x101 * 0xffff / a >> 8)
				o[1] = uint8(uint32(px[1]) * 0x101 * 0xffff / a >> 8)
				o[2] = uint8(uint32(px[2]) * 0x101 * 0xffff / a >> 8)
			}
		}
	}
}

// generic converts through non-premultiplied colour, as PIL drops alpha.
func generic(pix []uint8, img image.Image, w, h int) {
	b := img.Bounds()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			o := (y*w + x) * 3
			pix[o], pix[o+1], pix[o+2] = c.R, c.G, c.B
		}
	}
}

// ToTensor converts img to RGB, resizes it to size x size ignoring the
// aspect ratio (Pillow-exact bilinear) and returns [1,3,size,size] in [0,1].
// size must be positive.
func ToTensor(img image.Image, size int) *tensor.Dense {
	pix, w, h := RGB(img)
	if w != size || h != size {
		pix = nn.ResizePIL(pix, w, h, 3, size, size)
	}
	return PixelsToTensor(pix, size, size)
}

// CropToTensor is ToTensor of rectangle r (inside [0,w)x[0,h)) of an image
// already converted by RGB to pix (w pixels a row): a caller resampling many
// crops of one photo converts it once.
func CropToTensor(pix []uint8, w int, r image.Rectangle, size int) *tensor.Dense {
	cw, ch := r.Dx(), r.Dy()
	crop := make([]uint8, cw*ch*3)
	for y := 0; y < ch; y++ {
		o := ((r.Min.Y+y)*w + r.Min.X) * 3
		copy(crop[y*cw*3:(y+1)*cw*3], pix[o:o+cw*3])
	}
	if cw != size || ch != size {
		crop = nn.ResizePIL(crop, cw, ch, 3, size, size)
	}
	return PixelsToTensor(crop, size, size)
}

// PixelsToTensor turns interleaved 8-bit RGB (w*h*3) into [1,3,h,w] / 255.
func PixelsToTensor(pix []uint8, w, h int) *tensor.Dense {
	t := nn.New(1, 3, h, w)
	d := nn.Data(t)
	hw := w * h
	for i := 0; i < hw; i++ {
		d[i] = float32(pix[3*i]) / 255
		d[hw+i] = float32(pix[3*i+1]) / 255
		d[2*hw+i] = float32(pix[3*i+2]) / 255
	}
	return t
}

// decodeMemory bounds the memory of the decodes in flight at once (folder
// commands decode on every core): each holds decodeCost bytes of it from
// its header until its tensor is made, so sixteen 50-megapixel photos take
// turns instead of 6 GB together.
const decodeMemory = 1 << 30

var decodeSem = semaphore.NewWeighted(decodeMemory)

// decodeCost is the memory of decoding and converting a w x h image: RGBA
// (or YCbCr and its RGBA conversion) plus the RGB copy, capped at the whole
// budget (a larger image, allowed by --max-pixels, then runs alone).
func decodeCost(cfg image.Config) int64 {
	return min(int64(cfg.Width)*int64(cfg.Height)*11, decodeMemory)
}

// LoadTensor decodes the image file at path and returns ToTensor(img, size).
func LoadTensor(path string, size int) (*tensor.Dense, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, r, err := photo.ReadHeader(bufio.NewReader(f), path)
	if err != nil {
		return nil, err
	}
	cost := decodeCost(cfg)
	decodeSem.Acquire(context.Background(), cost) // never fails without a deadline
	defer decodeSem.Release(cost)
	img, err := photo.DecodeBody(r, path)
	if err != nil {
		return nil, err
	}
	return ToTensor(img, size), nil
}

// Load decodes the image file at path. Only regular files are read (a FIFO
// would block the open for ever).
func Load(path string) (image.Image, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return photo.Decode(bufio.NewReader(f), path)
}

// OpenRegular opens path for reading if it is a regular file (or a link to
// one), with an error naming it otherwise.
func OpenRegular(path string) (*os.File, error) {
	if path == "" {
		return nil, errors.New("empty file name")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not a file", path)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, FileKind(fi.Mode()))
	}
	return os.Open(path)
}

// FileKind names a non-regular file's type for errors.
func FileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.Type().String()
}

// IsImageName reports whether name has an image extension ListImages takes
// (.jpg, .jpeg, .png, any case).
func IsImageName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// ListImages returns the sorted paths of the .jpg/.jpeg/.png files in dir
// (and its subfolders when recursive). An empty result is an error.
func ListImages(dir string, recursive bool) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	var out []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if IsImageName(d.Name()) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing images in %s: %w", dir, err)
	}
	if len(out) == 0 {
		what := "no .jpg/.jpeg/.png images in " + dir
		if !recursive {
			what += " (subfolders not searched)"
		}
		return nil, errors.New(what)
	}
	sort.Strings(out)
	return out, nil
}
