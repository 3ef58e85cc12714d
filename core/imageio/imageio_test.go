package imageio

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/photo"
)

const fixtures = "../../testdata/probe/"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeErrorsNameTheSource(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("not an image"), readFixture(t, "imageio_rgb.png")[:100]} {
		_, err := photo.Decode(bytes.NewReader(data), "photos/x.png")
		if err == nil || !strings.Contains(err.Error(), "photos/x.png") {
			t.Errorf("Decode(%d bytes) error %v, want one naming the file", len(data), err)
		}
	}
}

// PIL's convert("RGB") drops alpha without compositing; so must we.
func TestRGBAlphaDroppedLikePIL(t *testing.T) {
	img, err := photo.Decode(bytes.NewReader(readFixture(t, "imageio_rgba.png")), "rgba")
	if err != nil {
		t.Fatal(err)
	}
	pix, w, h := RGB(img)
	want := readFixture(t, "imageio_rgba.rgb")
	if w != 10 || h != 12 || !bytes.Equal(pix, want) {
		t.Fatalf("RGB of RGBA png differs from PIL (w=%d h=%d)", w, h)
	}
}

func TestGrayReplicated(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 2, 1))
	g.Pix[0], g.Pix[1] = 7, 200
	pix, _, _ := RGB(g)
	if !bytes.Equal(pix, []byte{7, 7, 7, 200, 200, 200}) {
		t.Fatalf("got %v", pix)
	}
}

// Same size: no resize, exact /255 in planar order.
func TestToTensorExact(t *testing.T) {
	sq := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	sq.Set(1, 0, color.NRGBA{255, 51, 3, 255})
	d := nn.Data(ToTensor(sq, 2))
	want := []float32{0, 1, 0, 0, 0, 51.0 / 255, 0, 0, 0, 3.0 / 255, 0, 0}
	for i := range want {
		if d[i] != want[i] {
			t.Fatalf("tensor %v, want %v", d, want)
		}
	}
}

// The full pipeline against PIL convert("RGB").resize(BILINEAR) of a PNG:
// exact to the 8-bit level.
func TestToTensorMatchesPIL(t *testing.T) {
	img, err := photo.Decode(bytes.NewReader(readFixture(t, "imageio_rgb.png")), "rgb.png")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []int{16, 64} {
		want := readFixture(t, "imageio_rgb_"+map[int]string{16: "16", 64: "64"}[s]+".rgb")
		d := nn.Data(ToTensor(img, s))
		worst := 0
		for i := 0; i < s*s; i++ {
			for c := 0; c < 3; c++ {
				got := int(d[c*s*s+i]*255 + 0.5)
				if diff := abs(got - int(want[3*i+c])); diff > worst {
					worst = diff
				}
			}
		}
		if worst > 0 {
			t.Errorf("size %d: max difference to PIL %d levels, want 0", s, worst)
		}
	}
}

// JPEG: Go's decoder upsamples chroma without libjpeg's "fancy" filter and
// rounds its IDCT differently; measured max 5, mean 0.81 levels here.
func TestJPEGCloseToPIL(t *testing.T) {
	img, err := photo.Decode(bytes.NewReader(readFixture(t, "imageio_rgb.jpg")), "rgb.jpg")
	if err != nil {
		t.Fatal(err)
	}
	want := readFixture(t, "imageio_jpg_16.rgb")
	d := nn.Data(ToTensor(img, 16))
	worst, sum := 0, 0
	for i := 0; i < 256; i++ {
		for c := 0; c < 3; c++ {
			diff := abs(int(d[c*256+i]*255+0.5) - int(want[3*i+c]))
			sum += diff
			worst = max(worst, diff)
		}
	}
	if mean := float64(sum) / 768; worst > 6 || mean > 1 {
		t.Errorf("JPEG vs PIL: max %d levels, mean %.2f (want <= 6, <= 1)", worst, mean)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestListImages(t *testing.T) {
	dir := t.TempDir()
	if _, err := ListImages(dir, true); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("empty dir: error %v, want one naming %s", err, dir)
	}
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	for _, p := range []string{"b.PNG", "a.jpg", "notes.txt", "sub/c.jpeg", "sub/deeper/d.JPEG"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), buf.Bytes(), 0o644)
	}
	got, err := ListImages(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.jpg", "b.PNG"}; !samePaths(dir, got, want) {
		t.Errorf("flat: %v, want %v", got, want)
	}
	got, _ = ListImages(dir, true)
	if want := []string{"a.jpg", "b.PNG", "sub/c.jpeg", "sub/deeper/d.JPEG"}; !samePaths(dir, got, want) {
		t.Errorf("recursive: %v, want %v", got, want)
	}
	if _, err := ListImages(filepath.Join(dir, "missing"), false); err == nil {
		t.Error("missing dir: no error")
	}
}

func samePaths(dir string, got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != filepath.Join(dir, want[i]) {
			return false
		}
	}
	return true
}

func TestUnpremultiplyMatchesColorModel(t *testing.T) {
	img := image.NewRGBA(image.Rect(3, 5, 3+61, 5+37))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*7 + i/5) // any bytes, R > A included
	}
	for i := 3; i < 40; i += 4 {
		img.Pix[i] = []uint8{0, 255, 1, 128}[i/4%4]
	}
	for _, sub := range []image.Image{img, img.SubImage(image.Rect(10, 9, 50, 30))} {
		got, w, h := RGB(sub)
		want := make([]uint8, w*h*3)
		generic(want, sub, w, h)
		if !bytes.Equal(got, want) {
			t.Fatalf("%v: unpremultiplied RGB differs from color.NRGBAModel", sub.Bounds())
		}
	}
}
