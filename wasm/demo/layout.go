package demo

import "image"

// Layout places the app's panels, controls and text on its logical screen.
// Landscape is the desktop window and the laptop page (1280×720, as
// before); Portrait is for phones: photo above, controls, then the maps,
// drawn two logical pixels to a CSS pixel so the canvas is sharp at a
// devicePixelRatio of 2 and 13 CSS-px text is 26 logical px.
type Layout struct {
	Name string // "landscape" or "portrait"
	W, H int    // logical screen
	// PerCSS is logical pixels per CSS pixel when the canvas has the width
	// it was laid out for (the page gives it that width).
	PerCSS float64

	Lead       image.Point       // baseline of the one-line lead text; zero: none
	Photo      image.Rectangle   // photo panel
	Left       image.Rectangle   // the photo panel with room for the crop label and marker (redrawn per drag frame)
	Right      image.Rectangle   // maps, scores and status (redrawn per result)
	ModelsText image.Point       // baseline of the encoder caption
	Models     []image.Rectangle // one per model in Models (at least 4 slots)
	TargetText image.Point       // baseline of the target caption
	Targets    [5]image.Rectangle
	TargetName image.Point     // beside the target buttons; zero: in the caption
	Channels   image.Rectangle // the channels view's toggle, in the target row
	Help       image.Point     // first help line; zero: no help lines
	HelpStep   int

	BigX                [3]int // crop preview, predicted, ground truth
	BigY, BigSize       int
	LegendH             int
	ScoreY              int // score line baseline
	RateBelow           bool
	Explain             image.Point // SPC/MAE explanation line; zero: none
	SmallX0, SmallGap   int
	SmallY, SmallSize   int
	SmallRowGap         int
	Status              image.Point
	StatusW             int
	Handle, HandleDrawn int // resize handle: hit radius and drawn half side, logical px

	// Font sizes in logical pixels: captions and labels, body, bold, title.
	Small, Normal, Title float64
}

// Portrait reports whether an outside (window or frame) size of w×h CSS
// pixels gets the portrait layout.
func Portrait(w, h int) bool { return w > 0 && h > w }

// ChooseLayout returns the layout for an outside size of w×h.
func ChooseLayout(w, h int) Layout {
	if Portrait(w, h) {
		return PortraitLayout()
	}
	return LandscapeLayout()
}

// LandscapeLayout is the 1280×720 desktop and laptop layout.
func LandscapeLayout() Layout {
	l := Layout{Name: "landscape", W: 1280, H: 720, PerCSS: 1,
		Lead:  image.Pt(16, 30),
		Photo: image.Rect(16, 48, 640, 464), Left: image.Rect(0, 32, 656, 482), Right: image.Rect(656, 36, 1280, 720),
		ModelsText: image.Pt(16, 492), TargetText: image.Pt(16, 560),
		Help: image.Pt(16, 632), HelpStep: 18,
		BigX: [3]int{664, 868, 1072}, BigY: 72, BigSize: 192, LegendH: 10,
		SmallX0: 664, SmallGap: 20, SmallY: 392, SmallSize: 104, SmallRowGap: 6,
		Status: image.Pt(664, 690), StatusW: 600, Handle: 10, HandleDrawn: 7,
		Small: 12, Normal: 15, Title: 20,
	}
	l.Explain = image.Pt(l.BigX[0], l.BigY+l.BigSize+90)
	l.ScoreY = l.BigY + l.BigSize + 68
	l.Models = make([]image.Rectangle, max(4, len(Models))) // site --model adds ONNX models
	w := (l.Photo.Dx() - (len(l.Models)-1)*8) / len(l.Models)
	for i := range l.Models {
		x := l.Photo.Min.X + i*(w+8)
		l.Models[i] = image.Rect(x, 500, x+w, 532)
	}
	for i := range l.Targets {
		x := l.Photo.Min.X + i*(56+8)
		l.Targets[i] = image.Rect(x, 568, x+56, 600)
	}
	l.TargetName = image.Pt(l.Targets[4].Max.X+14, 590)
	l.Channels = image.Rect(l.Photo.Max.X-96, 568, l.Photo.Max.X, 600)
	return l
}

// PortraitLayout is the phone layout: 390 CSS px wide, every button at
// least 44 CSS px tall, no text under 13 CSS px.
func PortraitLayout() Layout {
	const m, gap = 16, 12 // margin and gap, logical px
	l := Layout{Name: "portrait", W: 780, H: 1750, PerCSS: 2,
		Photo: image.Rect(m, 32, 780-m, 532), Left: image.Rect(0, 0, 780, 548),
		ModelsText: image.Pt(m, 578), TargetText: image.Pt(m, 710),
		BigY: 868, LegendH: 16, RateBelow: true,
		SmallGap: 14, SmallRowGap: 10,
		Handle: 40, HandleDrawn: 14,
		Small: 26, Normal: 30, Title: 40,
	}
	inner := l.W - 2*m
	l.Models = make([]image.Rectangle, max(4, len(Models)))
	w := (inner - (len(l.Models)-1)*gap) / len(l.Models)
	for i := range l.Models {
		x := m + i*(w+gap)
		l.Models[i] = image.Rect(x, 592, x+w, 680)
	}
	w = (inner - 5*gap) / 6 // the five targets and the channels toggle
	for i := range l.Targets {
		x := m + i*(w+gap)
		l.Targets[i] = image.Rect(x, 724, x+w, 812)
	}
	l.Channels = image.Rect(l.W-m-w, 724, l.W-m, 812)
	l.BigSize = (inner - 2*gap) / 3
	for i := range l.BigX {
		l.BigX[i] = m + i*(l.BigSize+gap)
	}
	l.Right = image.Rect(0, 812+4, l.W, l.H)
	l.ScoreY = l.BigY + l.BigSize + 106
	l.SmallX0 = m
	l.SmallSize = (inner - 4*l.SmallGap) / 5
	l.SmallY = l.ScoreY + 124
	l.Status = image.Pt(m, l.SmallY+2*l.SmallSize+l.SmallRowGap+76)
	l.StatusW = inner
	return l
}

// LegendY is the top of the colour legend under the big maps.
func (l Layout) LegendY() int { return l.BigY + l.BigSize + 14 }

// Preview is the crop preview (the first big map).
func (l Layout) Preview() image.Rectangle {
	return image.Rect(l.BigX[0], l.BigY, l.BigX[0]+l.BigSize, l.BigY+l.BigSize)
}

// SmallMap is the panel of target i in row 0 (predicted) or 1 (truth).
func (l Layout) SmallMap(i, row int) image.Rectangle {
	x := l.SmallX0 + i*(l.SmallSize+l.SmallGap)
	y := l.SmallY + row*(l.SmallSize+l.SmallRowGap)
	return image.Rect(x, y, x+l.SmallSize, y+l.SmallSize)
}

// SmallLabelY is the baseline of the SPC labels under the small maps.
func (l Layout) SmallLabelY() int {
	return l.SmallY + 2*l.SmallSize + l.SmallRowGap + int(1.5*l.Small)
}

// ScoreRect is what the score line (and the rate line below it) covers.
func (l Layout) ScoreRect() image.Rectangle {
	bottom := l.ScoreY + int(0.4*l.Title)
	if l.RateBelow {
		bottom = l.ScoreY + int(0.4*l.Title) + int(1.6*l.Normal)
	}
	return image.Rect(l.BigX[0], l.ScoreY-int(1.1*l.Title), l.W, bottom)
}

// LabelRect is what the SPC labels under the small maps cover.
func (l Layout) LabelRect() image.Rectangle {
	y := l.SmallLabelY()
	return image.Rect(l.SmallX0-2, y-int(1.1*l.Small), l.W, y+int(0.5*l.Small))
}
