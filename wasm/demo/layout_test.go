package demo

import (
	"image"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestLayouts(t *testing.T) {
	for _, l := range []Layout{LandscapeLayout(), PortraitLayout()} {
		screen := image.Rect(0, 0, l.W, l.H)
		in := func(what string, r image.Rectangle) {
			if !r.In(screen) || r.Empty() {
				t.Errorf("%s: %s %v is off the %dx%d screen", l.Name, what, r, l.W, l.H)
			}
		}
		in("photo", l.Photo)
		in("left", l.Left)
		in("right", l.Right)
		if !l.Photo.In(l.Left) {
			t.Errorf("%s: the photo panel %v is not inside its redraw area %v", l.Name, l.Photo, l.Left)
		}
		if l.Left.Overlaps(l.Right) && l.Name == "portrait" {
			t.Errorf("%s: left %v and right %v overlap", l.Name, l.Left, l.Right)
		}
		var controls []image.Rectangle
		controls = append(controls, l.Models[:]...)
		controls = append(controls, l.Targets[:]...)
		controls = append(controls, l.Channels)
		for i, r := range controls {
			in("button", r)
			if r.Overlaps(l.Photo) || r.Overlaps(l.Right) {
				t.Errorf("%s: button %d %v overlaps the photo or the maps", l.Name, i, r)
			}
			for _, o := range controls[i+1:] {
				if r.Overlaps(o) {
					t.Errorf("%s: buttons %v and %v overlap", l.Name, r, o)
				}
			}
			// Tap targets: at least 44 CSS px tall and 40 wide on the phone.
			if l.Name == "portrait" && (float64(r.Dy())/l.PerCSS < 44 || float64(r.Dx())/l.PerCSS < 40) {
				t.Errorf("%s: button %v is %.0fx%.0f CSS px, too small to tap", l.Name, r, float64(r.Dx())/l.PerCSS, float64(r.Dy())/l.PerCSS)
			}
		}
		for i := range Targets {
			for row := 0; row < 2; row++ {
				r := l.SmallMap(i, row)
				in("small map", r)
				if !r.In(l.Right) {
					t.Errorf("%s: small map %v outside the right area %v", l.Name, r, l.Right)
				}
			}
		}
		in("preview", l.Preview())
		in("score", l.ScoreRect())
		in("labels", l.LabelRect())
		if l.Status.Y+int(l.Small) > l.H {
			t.Errorf("%s: status line at %d runs off the screen (%d)", l.Name, l.Status.Y, l.H)
		}
		// Text: at least 12 CSS px.
		for _, f := range []float64{l.Small, l.Normal, l.Title} {
			if f/l.PerCSS < 12 {
				t.Errorf("%s: font %.0f px is %.1f CSS px", l.Name, f, f/l.PerCSS)
			}
		}
	}
	if ChooseLayout(390, 800).Name != "portrait" || ChooseLayout(1280, 720).Name != "landscape" || ChooseLayout(0, 0).Name != "landscape" {
		t.Error("ChooseLayout picks the wrong layout")
	}
	// The landscape layout is the one the desktop window always had.
	l := LandscapeLayout()
	if l.Photo != image.Rect(16, 48, 640, 464) || l.Models[3] != image.Rect(490, 500, 640, 532) || l.Targets[4] != image.Rect(272, 568, 328, 600) ||
		l.ScoreRect() != image.Rect(664, 310, 1280, 340) || l.LabelRect() != image.Rect(662, 611, 1280, 630) {
		t.Errorf("landscape layout moved: photo %v models[3] %v targets[4] %v score %v labels %v", l.Photo, l.Models[3], l.Targets[4], l.ScoreRect(), l.LabelRect())
	}
}

func TestShareRoundTrip(t *testing.T) {
	s := Share{Model: "sq-none", Target: "HS", Crop: &Crop{X: 150.25, Y: 99.96, Size: 200}, Photo: "photo/coffee.jpg"}
	enc := s.Encode()
	if enc != "model=sq-none&target=HS&crop=150.3,100,200,200&photo=photo/coffee.jpg" {
		t.Errorf("Encode = %q", enc)
	}
	got, errs := ParseShare("#" + enc)
	if len(errs) > 0 {
		t.Fatalf("ParseShare(%q): %v", enc, errs)
	}
	if got.Model != s.Model || got.Target != s.Target || got.Photo != s.Photo || *got.Crop != (Crop{150.3, 100, 200}) {
		t.Errorf("round trip: %+v crop %v", got, *got.Crop)
	}
	if (Share{}).Encode() != "" {
		t.Error("an empty share is not empty")
	}
}

func TestShareRejects(t *testing.T) {
	for _, frag := range []string{
		"model=vgg99", "target=Q", "crop=1,2,3", "crop=1,2,x,4", "crop=1,2,0,0", "crop=1,2,100,50", "crop=NaN,1,2,2",
		"photo=../secret.png", "photo=photo/a/b.png", "photo=https://example.com/x.png", "photo=photo/.hidden.png", "photo=photo/notes.txt",
	} {
		s, errs := ParseShare(frag)
		if len(errs) != 1 || s != (Share{}) {
			t.Errorf("ParseShare(%q) = %+v, %v; want it skipped with one error", frag, s, errs)
		}
	}
	// Good entries survive a bad one beside them.
	s, errs := ParseShare("model=pixels&target=nope&crop=10,20,64,64")
	if len(errs) != 1 || s.Model != "pixels" || s.Target != "" || s.Crop == nil || *s.Crop != (Crop{10, 20, 64}) {
		t.Errorf("mixed: %+v %v", s, errs)
	}
}

func TestPinch(t *testing.T) {
	var d Dragger
	d.MinSize = 32
	d.SetPhoto(600, 400)
	c0 := d.Crop // 200 at (200, 100)
	if d.Pinch(100, true) || d.Mode != DragPinch {
		t.Fatalf("pinch start changed the crop or mode %v", d.Mode)
	}
	if !d.Pinch(150, true) || !near(d.Crop.Size, 300, 1e-9) {
		t.Errorf("spread 1.5x: side %v, want 300", d.Crop.Size)
	}
	cx, cy := d.Crop.Center()
	if x0, y0 := c0.Center(); !near(cx, x0, 1e-9) || !near(cy, y0, 1e-9) {
		t.Errorf("pinch moved the centre to %v,%v", cx, cy)
	}
	d.Pinch(1000, true) // clamped to the photo
	if d.Crop.Size != 400 || d.Crop.Y != 0 {
		t.Errorf("clamp: %v", d.Crop)
	}
	d.Pinch(1, true)
	if d.Crop.Size != 32 {
		t.Errorf("minimum: %v", d.Crop)
	}
	d.Pinch(0, false)
	if d.Mode != DragNone {
		t.Errorf("mode after the pinch: %v", d.Mode)
	}
	// The finger left on the screen starts a new press: no jump.
	before := d.Crop
	cx, cy = before.Center()
	d.Step(cx, cy, true, 5)
	d.Step(cx+10, cy, true, 5)
	if d.Crop.X != before.X+10 || d.Crop.Y != before.Y {
		t.Errorf("after the pinch a one-finger drag of 10 moved the crop from %v to %v", before, d.Crop)
	}
}

// The page's loader starts the default model's download before app.wasm
// runs; its list of model keys must match Models (the worker takes an index).
func TestLoaderModelKeys(t *testing.T) {
	b, err := os.ReadFile("../../site/app.html")
	if err != nil {
		t.Skip("no site/app.html:", err)
	}
	m := regexp.MustCompile(`const MODELS = \[([^\]]*)\]`).FindSubmatch(b)
	if m == nil {
		t.Fatal("site/app.html has no `const MODELS = [...]`")
	}
	var keys []string
	for _, mm := range Models {
		keys = append(keys, `"`+mm.Key+`"`)
	}
	if got := strings.Join(strings.Fields(strings.ReplaceAll(string(m[1]), ",", " ")), ","); got != strings.Join(keys, ",") {
		t.Errorf("app.html MODELS = %s, Models = %s", got, strings.Join(keys, ","))
	}
}
