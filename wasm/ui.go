//lint:file-ignore SA1019 text v1 draws x/image font.Faces with no extra module; text/v2 would grow app.wasm by megabytes

package main

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text" // v1: draws x/image font.Faces, no extra module
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"

	"github.com/posprobe/posprobe/core/colormap"
	"github.com/posprobe/posprobe/core/netspec"
	"github.com/posprobe/posprobe/wasm/demo"
)

var (
	colBG      = color.RGBA{18, 20, 26, 255}
	colPanel   = color.RGBA{30, 33, 42, 255}
	colText    = color.RGBA{230, 232, 238, 255}
	colDim     = color.RGBA{150, 156, 170, 255}
	colAccent  = color.RGBA{255, 196, 0, 255}
	colWarn    = color.RGBA{255, 140, 90, 255}
	colMarker  = color.RGBA{255, 64, 96, 255}
	shadeKeep  = float32(0.45) // brightness kept outside the crop
	colButton  = color.RGBA{44, 48, 60, 255}
	colButtonH = color.RGBA{255, 196, 0, 255}
)

// ui holds the fonts of one layout (their sizes differ) and the legend.
type ui struct {
	small, normal, bold, title font.Face
	legend                     *ebiten.Image
}

func newUI(l demo.Layout) *ui {
	face := func(ttf []byte, size float64) font.Face {
		f, err := opentype.Parse(ttf)
		if err != nil {
			panic(err) // the embedded Go fonts always parse
		}
		fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			panic(err)
		}
		return fc
	}
	u := &ui{
		small:  face(goregular.TTF, l.Small),
		normal: face(goregular.TTF, l.Normal),
		bold:   face(gobold.TTF, l.Normal),
		title:  face(gobold.TTF, l.Title),
	}
	const lw = 256
	u.legend = ebiten.NewImage(lw, 1)
	pix := make([]byte, 4*lw)
	for i := 0; i < lw; i++ {
		c := colormap.Viridis(float64(i) / (lw - 1))
		pix[4*i], pix[4*i+1], pix[4*i+2], pix[4*i+3] = c.R, c.G, c.B, 255
	}
	u.legend.WritePixels(pix)
	return u
}

// Screen regions are redrawn on their own (Layout.Left, Right, Preview).
// Software WebGL (SwiftShader, and the compositor reading the canvas back
// each frame) makes every pixel drawn count, so a drag frame touches only
// the photo panel and the crop preview, and a new prediction only the maps.

// resultHold is how long a new result waits for the next drag frame.
const resultHold = 250 * time.Millisecond

func (g *Game) Draw(screen *ebiten.Image) {
	if hidden() {
		return // under the page's loading overlay
	}
	keys := g.drawKeys()
	if keys == g.drawn {
		return
	}
	// While the crop is being dragged a frame comes with each move anyway:
	// a new prediction waits for it instead of costing a frame of its own
	// (software WebGL makes frames the scarce resource).
	if keys.full == g.drawn.full && keys.right == g.drawn.right && keys.crop == g.drawn.crop &&
		g.dragging && time.Since(g.cropMoved) < resultHold {
		wake() // after the hold, in case no move comes
		return
	}
	l := g.lay
	if g.layer == nil || g.layer.Bounds().Dx() != l.W || g.layer.Bounds().Dy() != l.H {
		if g.layer != nil {
			g.layer.Deallocate()
		}
		g.layer = ebiten.NewImage(l.W, l.H)
	}
	area := l.Left // what of the photo panel to redraw
	switch {
	case keys.full != g.drawn.full:
		g.drawLayer(g.layer)
		screen.DrawImage(g.layer, nil)
	case keys.right != g.drawn.right:
		sub := g.layer.SubImage(l.Right).(*ebiten.Image)
		sub.Fill(colBG)
		g.drawRight(sub)
		copyRect(screen, g.layer, l.Right)
		g.restoreAroundPhoto(screen, area)
	default:
		if keys.pred != g.drawn.pred {
			g.drawPrediction(screen)
		}
		// Only the crop's drawing changed (the marker lies inside it): where
		// it was and where it is now. Software WebGL pays for every pixel.
		if !g.drawnCrop.Empty() {
			area = g.drawnCrop.Union(g.cropArea())
		}
		g.restoreAroundPhoto(screen, area)
	}
	g.drawn = keys
	if g.photoImg != nil {
		g.drawPhoto(screen.SubImage(area).(*ebiten.Image))
		g.drawCropPreview(screen.SubImage(l.Preview()).(*ebiten.Image))
		g.drawnCrop = g.cropArea()
	}
}

// cropArea is the part of the photo panel the crop's outline, handle,
// label and marker cover.
func (g *Game) cropArea() image.Rectangle {
	v := g.view
	c := g.drag.Crop
	x0, y0 := v.ToScreen(c.X, c.Y)
	x1, y1 := v.ToScreen(c.X+c.Size, c.Y+c.Size)
	m := int(16 * g.lay.PerCSS) // the marker's arms and the handle reach this far out
	if h := g.lay.HandleDrawn + 2; h > m {
		m = h
	}
	lw := text.BoundString(g.ui.small, g.cropLabel()).Dx()
	r := image.Rect(int(x0)-m, int(y0)-m-int(g.lay.Small), int(math.Max(x1, x0+4+float64(lw)))+m, int(y1)+m)
	return r.Intersect(g.lay.Left)
}

func (g *Game) cropLabel() string {
	c := g.drag.Crop
	return fmt.Sprintf("%.0f×%.0f px at (%.0f, %.0f)", c.Size, c.Size, c.X, c.Y)
}

// restoreAroundPhoto copies back from the layer the parts of the photo
// panel the photo does not cover (where the crop label and marker may have
// been drawn).
func (g *Game) restoreAroundPhoto(screen *ebiten.Image, clip image.Rectangle) {
	v := g.view
	px0, py0 := v.ToScreen(0, 0)
	px1, py1 := v.ToScreen(float64(v.PhotoW), float64(v.PhotoH))
	left := g.lay.Left
	p := image.Rect(int(math.Ceil(px0)), int(math.Ceil(py0)), int(px1), int(py1)).Intersect(left)
	for _, r := range []image.Rectangle{
		image.Rect(left.Min.X, left.Min.Y, left.Max.X, p.Min.Y),
		image.Rect(left.Min.X, p.Max.Y, left.Max.X, left.Max.Y),
		image.Rect(left.Min.X, p.Min.Y, p.Min.X, p.Max.Y),
		image.Rect(p.Max.X, p.Min.Y, left.Max.X, p.Max.Y),
	} {
		if r = r.Intersect(clip); !r.Empty() {
			copyRect(screen, g.layer, r)
		}
	}
}

// copyRect copies region r of src to the same place on dst.
func copyRect(dst, src *ebiten.Image, r image.Rectangle) {
	op := &ebiten.DrawImageOptions{Blend: ebiten.BlendCopy}
	op.GeoM.Translate(float64(r.Min.X), float64(r.Min.Y))
	dst.DrawImage(src.SubImage(r).(*ebiten.Image), op)
}

func (g *Game) drawLayer(dst *ebiten.Image) {
	u, l := g.ui, g.lay
	dst.Fill(colBG)
	const lead = "Drag the square: the maps on the right are predicted from the crop's pixels alone, by a frozen CNN and a small trained readout."
	switch {
	case l.Lead == image.Point{}:
	case inBrowser:
		text.Draw(dst, lead, u.normal, l.Lead.X, l.Lead.Y, colDim)
	default:
		text.Draw(dst, "posprobe", u.title, l.Lead.X, l.Lead.Y, colAccent)
		text.Draw(dst, lead, u.normal, l.Lead.X+100, l.Lead.Y, colDim)
	}
	fillRect(dst, l.Photo, colPanel)
	g.drawControls(dst)
	g.drawRight(dst)
}

// drawRight draws the maps, scores and status message (rightRect).
func (g *Game) drawRight(dst *ebiten.Image) {
	g.drawMaps(dst)
	g.drawStatus(dst)
}

func (g *Game) drawPhoto(screen *ebiten.Image) {
	v := g.view
	// The photo shaded outside the crop, then the crop's part of the
	// bright photo: unscaled copies of the panel as drawn once (a linear
	// filter on every pixel of a drag frame's area costs software WebGL
	// several times a nearest copy).
	g.ensurePanel()
	p := g.lay.Photo
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(float64(p.Min.X), float64(p.Min.Y))
	screen.DrawImage(g.panel[0], op)
	c := g.drag.Crop
	x0, y0 := v.ToScreen(c.X, c.Y)
	x1, y1 := v.ToScreen(c.X+c.Size, c.Y+c.Size)
	if r := image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x1)), int(math.Round(y1))).Intersect(p); !r.Empty() {
		op := &ebiten.DrawImageOptions{}
		op.GeoM.Translate(float64(r.Min.X), float64(r.Min.Y))
		screen.DrawImage(g.panel[1].SubImage(r.Sub(p.Min)).(*ebiten.Image), op)
	}
	lw := float32(g.lay.PerCSS) * 2
	vector.StrokeRect(screen, float32(x0), float32(y0), float32(x1-x0), float32(y1-y0), lw, colAccent, false)
	h := float32(g.lay.HandleDrawn)
	vector.DrawFilledRect(screen, float32(x1)-h, float32(y1)-h, 2*h, 2*h, colAccent, false)
	text.Draw(screen, g.cropLabel(), g.ui.small, int(x0)+4, int(y0)-int(g.lay.Small/2), colAccent)

	if g.current() && g.last.Salient != nil {
		// The salient point of the crop on screen right now, from the last
		// result's offset inside its crop (it follows the crop while the
		// next prediction runs).
		sp := g.last.Salient
		ox, oy := sp.X-g.last.Crop.X, sp.Y-g.last.Crop.Y
		k := c.Size / g.last.Crop.Size
		sx, sy := v.ToScreen(c.X+ox*k, c.Y+oy*k)
		marker(screen, float32(sx), float32(sy), float32(g.lay.PerCSS))
	}
}

// ensurePanel draws the photo panel, shaded (panel[0]) and bright
// (panel[1]), as drawPhoto shows it, once per photo and view.
func (g *Game) ensurePanel() {
	p := g.lay.Photo
	key := panelKey{g.photoID, g.view}
	if g.panel[0] != nil && g.panelKey == key && g.panel[0].Bounds().Size() == p.Size() {
		return
	}
	for i, src := range []*ebiten.Image{g.photoDim, g.photoImg} {
		if g.panel[i] == nil || g.panel[i].Bounds().Size() != p.Size() {
			if g.panel[i] != nil {
				g.panel[i].Deallocate()
			}
			g.panel[i] = ebiten.NewImage(p.Dx(), p.Dy())
		}
		g.panel[i].Clear()
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
		op.GeoM.Scale(g.view.Scale, g.view.Scale)
		op.GeoM.Translate(g.view.OffX-float64(p.Min.X), g.view.OffY-float64(p.Min.Y))
		g.panel[i].DrawImage(src, op)
	}
	g.panelKey = key
}

type panelKey struct {
	photoID int
	view    demo.View
}

// marker draws the predicted salient position: a ring with a cross, k
// logical pixels to a CSS pixel.
func marker(dst *ebiten.Image, x, y, k float32) {
	r := 9 * k
	vector.StrokeCircle(dst, x, y, r+1.5*k, 4*k, color.RGBA{0, 0, 0, 160}, false)
	vector.StrokeCircle(dst, x, y, r, 2.5*k, colMarker, false)
	vector.StrokeLine(dst, x-r-5*k, y, x-r+4*k, y, 2*k, colMarker, false)
	vector.StrokeLine(dst, x+r-4*k, y, x+r+5*k, y, 2*k, colMarker, false)
	vector.StrokeLine(dst, x, y-r-5*k, x, y-r+4*k, 2*k, colMarker, false)
	vector.StrokeLine(dst, x, y+r-4*k, x, y+r+5*k, 2*k, colMarker, false)
}

func fillRect(dst *ebiten.Image, r image.Rectangle, c color.Color) {
	vector.DrawFilledRect(dst, float32(r.Min.X), float32(r.Min.Y), float32(r.Dx()), float32(r.Dy()), c, false)
}

func button(dst *ebiten.Image, r image.Rectangle, label string, on, missing bool, face font.Face) {
	bg, fg := colButton, colText
	if on {
		bg, fg = colButtonH, color.RGBA{20, 20, 20, 255}
	}
	if missing {
		fg = colWarn
		if on {
			fg = color.RGBA{150, 40, 0, 255}
		}
	}
	fillRect(dst, r, bg)
	b := text.BoundString(face, label)
	// Centred on the cap height: the baseline sits half an x-height-ish
	// below the middle.
	text.Draw(dst, label, face, r.Min.X+(r.Dx()-b.Dx())/2, r.Min.Y+(r.Dy()+face.Metrics().CapHeight.Round())/2, fg)
}

var (
	modelShort = map[string]string{"sq-zero": "Zero padding", "sq-none": "No padding", "pixels": "No encoder", "sq-random": "Random init"}
	modelTiny  = map[string]string{"sq-zero": "Zero pad", "sq-none": "No pad", "pixels": "Pixels", "sq-random": "Random"} // where the short ones do not fit
)

func (g *Game) drawControls(screen *ebiten.Image) {
	ui, l := g.ui, g.lay
	caption := "Encoder: SqueezeNet 1.1 (ImageNet), its padding removed, none at all, or untrained   [keys 1-4]"
	if l.Name == "portrait" {
		caption = "Encoder: SqueezeNet 1.1, pretrained on ImageNet"
	}
	text.Draw(screen, caption, ui.small, l.ModelsText.X, l.ModelsText.Y, colDim)
	face := ui.normal
	if l.Name == "portrait" {
		face = ui.small
	}
	for i := range demo.Models {
		m := demo.Models[i]
		label, tiny := modelShort[m.Key], modelTiny[m.Key]
		if label == "" { // site --model adds ONNX models
			label, tiny = "ONNX "+m.Padding.String(), m.Padding.String()
		}
		if text.BoundString(face, label+" …").Dx() > l.Models[i].Dx()-8 {
			label = tiny
		}
		st := g.loader.Status(i)
		missing := st.State == demo.Failed ||
			(m.ONNX == "" && m.Init != netspec.InitRandom && m.Encoder != "none" && g.man.Readouts != nil && g.man.Encoders[m.Encoder] == "" && dataDir() == "")
		if st.State == demo.Loading {
			label += " …"
		}
		button(screen, l.Models[i], label, i == g.model, missing, face)
	}
	if l.TargetName == (image.Point{}) {
		text.Draw(screen, "Target map: "+g.target+", "+demo.TargetNames[g.target], ui.small, l.TargetText.X, l.TargetText.Y, colDim)
	} else {
		text.Draw(screen, "Target position map   [keys H V G S T; C: channels]", ui.small, l.TargetText.X, l.TargetText.Y, colDim)
		text.Draw(screen, demo.TargetNames[g.target], ui.normal, l.TargetName.X, l.TargetName.Y, colText)
	}
	for i, t := range demo.Targets {
		button(screen, l.Targets[i], t, t == g.target, false, ui.bold)
	}
	chLabel := "Channels"
	if font.MeasureString(face, chLabel).Ceil() > l.Channels.Dx()-8 {
		chLabel = "Chan."
	}
	button(screen, l.Channels, chLabel, g.channelsOn, false, face)
	if l.Help == (image.Point{}) {
		return
	}
	help := []string{
		"Drag the square with the mouse or a finger; resize it with the wheel, its corner handle or a pinch.",
		"Drop a photo on the window (or use “Open photo” on the page) to try your own.",
		"The marker is the centre of the predicted G bump: where the model thinks the crop's centre is.",
	}
	for i, h := range help {
		text.Draw(screen, h, ui.small, l.Help.X, l.Help.Y+l.HelpStep*i, colDim)
	}
}

// drawMapImage draws a square map image scaled into a size×size square at x, y.
func drawMapImage(dst, img *ebiten.Image, x, y, size int) {
	if img == nil {
		return
	}
	op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
	k := float64(size) / float64(img.Bounds().Dx())
	op.GeoM.Scale(k, k)
	op.GeoM.Translate(float64(x), float64(y))
	dst.DrawImage(img, op)
}

func (g *Game) drawMaps(screen *ebiten.Image) {
	ui, l := g.ui, g.lay
	labels := [3]string{"Crop (encoder input)", "Predicted " + g.target, "Ground truth " + g.target}
	face := ui.bold
	if l.Name == "portrait" {
		labels = [3]string{"Crop", "Predicted " + g.target, "Truth " + g.target}
		face = ui.small
	}
	pad := int(8 * l.PerCSS)
	for i, lb := range labels {
		text.Draw(screen, lb, face, l.BigX[i], l.BigY-pad, colText)
		fillRect(screen, image.Rect(l.BigX[i], l.BigY, l.BigX[i]+l.BigSize, l.BigY+l.BigSize), colPanel)
	}
	cur := g.current()
	g.ensureTruth()
	st := g.predictor()
	lerr, loading := st.Err, st.State == demo.Loading
	note := func(msg string, face font.Face, col color.Color) {
		wrap(screen, msg, face, l.BigX[1]+pad, l.BigY+int(2*l.Small), l.BigSize-2*pad, col)
	}
	switch {
	case cur && g.last.Maps[g.target] != nil:
		// drawn by drawPrediction
	case lerr != nil:
		note("Not available: "+lerr.Error(), ui.small, colWarn)
	case cur && g.last.Err != nil:
		note("Prediction failed: "+g.last.Err.Error(), ui.small, colWarn)
	case cur:
		note("No readout for "+g.target+" with this encoder.", ui.small, colWarn)
	case loading:
		note("Loading…", ui.normal, colDim)
	}
	drawMapImage(screen, g.truth[g.target], l.BigX[2], l.BigY, l.BigSize)
	if g.truthErr != nil {
		wrap(screen, g.truthErr.Error(), ui.small, l.BigX[2]+pad, l.BigY+int(2*l.Small), l.BigSize-2*pad, colWarn)
	}

	// Legend under the predicted and true maps.
	ly := l.LegendY()
	lx0, lx1 := l.BigX[1], l.BigX[2]+l.BigSize
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Scale(float64(lx1-lx0)/256, float64(l.LegendH))
	op.GeoM.Translate(float64(lx0), float64(ly))
	screen.DrawImage(ui.legend, op)
	ny := ly + l.LegendH + int(1.15*l.Small)
	text.Draw(screen, "0", ui.small, lx0, ny, colDim)
	half := text.BoundString(ui.small, "0.5").Dx()
	text.Draw(screen, "0.5", ui.small, (lx0+lx1-half)/2, ny, colDim)
	text.Draw(screen, "1", ui.small, lx1-text.BoundString(ui.small, "1").Dx(), ny, colDim)
	if l.Explain != (image.Point{}) {
		text.Draw(screen, "SPC: Spearman correlation of predicted and true map (1 = same ordering). MAE: mean absolute error.", ui.small, l.Explain.X, l.Explain.Y, colDim)
	}

	if g.channelsOn {
		g.drawChannelPanels(screen)
		g.drawPrediction(screen)
		return
	}
	// All five targets, predicted over ground truth.
	head, hface := "All five targets: predicted (top) and ground truth (bottom)", ui.bold
	if l.Name == "portrait" {
		head, hface = "All five targets: predicted (top), truth (bottom)", ui.small
	}
	text.Draw(screen, head, hface, l.SmallX0, l.SmallY-int(10*l.PerCSS), colText)
	for i, t := range demo.Targets {
		for row := 0; row < 2; row++ {
			fillRect(screen, l.SmallMap(i, row), colPanel)
		}
		r := l.SmallMap(i, 0)
		if !(cur && g.last.Maps[t] != nil) && (cur || lerr != nil) {
			text.Draw(screen, "no readout", ui.small, r.Min.X+(r.Dx()-text.BoundString(ui.small, "no readout").Dx())/2, r.Min.Y+r.Dy()/2, colDim)
		}
		drawMapImage(screen, g.truth[t], r.Min.X, l.SmallMap(i, 1).Min.Y, l.SmallSize)
		if t == g.target {
			b := float32(l.PerCSS)
			vector.StrokeRect(screen, float32(r.Min.X)-2*b, float32(r.Min.Y)-2*b, float32(l.SmallSize)+4*b,
				float32(2*l.SmallSize+l.SmallRowGap)+4*b, 2*b, colAccent, false)
		}
	}
	g.drawPrediction(screen)
}

// drawPrediction draws what each new prediction changes: the predicted
// maps (opaque, over their panels), the score line and the SPC labels. A
// prediction that changes nothing else is drawn with it alone, straight on
// the screen (rightKey is unchanged, predKey changed).
func (g *Game) drawPrediction(dst *ebiten.Image) {
	ui, l := g.ui, g.lay
	cur := g.current()
	if cur && g.last.Maps[g.target] != nil {
		drawMapImage(dst, g.mapImage(g.target, false), l.BigX[1], l.BigY, l.BigSize)
	}
	fillRect(dst, l.ScoreRect(), colBG)
	if cur && g.last.Err == nil {
		if sc, ok := g.last.Scores[g.target]; ok {
			spc := "SPC …"
			if !math.IsNaN(sc.SPC) {
				spc = fmt.Sprintf("SPC %.3f", sc.SPC)
			}
			text.Draw(dst, spc, ui.title, l.BigX[0], l.ScoreY, colAccent)
			text.Draw(dst, fmt.Sprintf("MAE %.3f", sc.MAE), ui.title, l.BigX[0]+int(150*l.PerCSS), l.ScoreY, colAccent)
		}
		rate := fmt.Sprintf("%d ms per prediction · %.1f predictions/s", g.last.Latency.Milliseconds(), g.meter.Rate(time.Now()))
		if l.RateBelow {
			text.Draw(dst, rate, ui.small, l.BigX[0], l.ScoreY+int(1.6*l.Normal), colText)
		} else {
			text.Draw(dst, rate, ui.normal, l.BigX[0]+300, l.ScoreY, colText)
		}
	}
	fillRect(dst, l.LabelRect(), colBG)
	if g.channelsOn {
		g.drawChannelMaps(dst, cur)
		return
	}
	for i, t := range demo.Targets {
		r := l.SmallMap(i, 0)
		if cur && g.last.Maps[t] != nil {
			drawMapImage(dst, g.mapImage(t, true), r.Min.X, r.Min.Y, l.SmallSize)
		}
		label := t
		if cur {
			if sc, ok := g.last.Scores[t]; ok && !math.IsNaN(sc.SPC) {
				label = fmt.Sprintf("%s  SPC %.2f", t, sc.SPC)
				if l.Name == "portrait" {
					label = fmt.Sprintf("%s %.2f", t, sc.SPC)
				}
			}
		}
		col := colDim
		if t == g.target {
			col = colAccent
		}
		text.Draw(dst, label, ui.small, r.Min.X, l.SmallLabelY(), col)
	}
}

// drawCropPreview shows the crop as the encoder sees it, with the salient
// point of the last prediction (at its offset in the crop, so it follows a
// drag until the next prediction lands).
func (g *Game) drawCropPreview(screen *ebiten.Image) {
	l := g.lay
	r := g.drag.Crop.Rect().Intersect(g.photoImg.Bounds())
	if !r.Empty() {
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
		op.GeoM.Scale(float64(l.BigSize)/float64(r.Dx()), float64(l.BigSize)/float64(r.Dy()))
		op.GeoM.Translate(float64(l.BigX[0]), float64(l.BigY))
		screen.DrawImage(g.photoImg.SubImage(r).(*ebiten.Image), op)
	}
	if g.current() && g.last.Salient != nil {
		u, v := demo.PhotoToMap(g.last.Crop, l.BigSize, g.last.Salient.X, g.last.Salient.Y)
		marker(screen, float32(l.BigX[0])+float32(u), float32(l.BigY)+float32(v), float32(l.PerCSS))
	}
}

// ensureTruth computes the ground-truth maps once.
func (g *Game) ensureTruth() {
	if len(g.truth) > 0 || g.truthErr != nil {
		return
	}
	for _, t := range demo.Targets {
		m, err := g.be.Truth(t, demo.MapSize)
		if err != nil {
			g.truthErr = err
			return
		}
		img := ebiten.NewImage(demo.MapSize, demo.MapSize)
		pix := make([]byte, 4*demo.MapSize*demo.MapSize)
		demo.Paint(m, demo.MapSize, pix)
		img.WritePixels(pix)
		g.truth[t] = img
	}
}

func (g *Game) drawStatus(screen *ebiten.Image) {
	s := g.snapshot()
	if s.Message == "" {
		return
	}
	col := colDim
	if strings.Contains(s.Message, "missing") || strings.Contains(s.Message, "not") || strings.Contains(s.Message, "annot") {
		col = colWarn
	}
	wrap(screen, s.Message, g.ui.small, g.lay.Status.X, g.lay.Status.Y, g.lay.StatusW, col)
}

// wrap draws s word-wrapped to width pixels.
func wrap(dst *ebiten.Image, s string, face font.Face, x, y, width int, clr color.Color) {
	line := ""
	lh := int(math.Ceil(float64(face.Metrics().Height.Round()) * 1.2))
	for _, w := range strings.Fields(s) {
		try := strings.TrimSpace(line + " " + w)
		if text.BoundString(face, try).Dx() > width && line != "" {
			text.Draw(dst, line, face, x, y, clr)
			y += lh
			line = w
			continue
		}
		line = try
	}
	text.Draw(dst, line, face, x, y, clr)
}

// DrawFinalScreen puts the logical screen on the window. The screen is
// opaque, so it is copied rather than blended: where WebGL runs in software
// that is one less read of every pixel per frame.
func (g *Game) DrawFinalScreen(screen ebiten.FinalScreen, offscreen *ebiten.Image, geoM ebiten.GeoM) {
	op := &ebiten.DrawImageOptions{GeoM: geoM, Blend: ebiten.BlendCopy}
	if s := geoM.Element(0, 0); s != math.Floor(s) {
		op.Filter = ebiten.FilterLinear
	}
	screen.DrawImage(offscreen, op)
}

// drawChannelPanels draws the channels view's heading and empty panels in
// the small maps' slots (five by two).
func (g *Game) drawChannelPanels(screen *ebiten.Image) {
	ui, l := g.ui, g.lay
	head, hface := fmt.Sprintf("Top %d position channels of the encoder on this crop   [C: back to the targets]", demo.ChannelsShown), ui.bold
	if l.Name == "portrait" {
		head, hface = fmt.Sprintf("Top %d position channels on this crop", demo.ChannelsShown), ui.small
	}
	text.Draw(screen, head, hface, l.SmallX0, l.SmallY-int(10*l.PerCSS), colText)
	for i := 0; i < demo.ChannelsShown; i++ {
		fillRect(screen, l.SmallMap(i%5, i/5), colPanel)
	}
}

// drawChannelMaps draws the last result's channel maps (each at its tap's
// resolution, nearest-neighbour, through the maps' colour map) with their
// tap, index and score, and the caption saying how they were ranked.
func (g *Game) drawChannelMaps(dst *ebiten.Image, cur bool) {
	ui, l := g.ui, g.lay
	caption := "Ranked once per model: |SPC| of each channel's mean map over 4 crops vs H, V, G; each map scaled to 0-1"
	if l.Name == "portrait" {
		caption = "Ranked by |SPC| of mean map (4 crops) vs H, V, G"
	}
	text.Draw(dst, caption, ui.small, l.SmallX0, l.SmallLabelY(), colDim)
	if !cur {
		return
	}
	strip := color.RGBA{18, 20, 26, 200}
	lh := int(1.3 * l.Small)
	for i, c := range g.last.Channels {
		if i >= demo.ChannelsShown || i >= len(g.chImgs) {
			break
		}
		r := l.SmallMap(i%5, i/5)
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterNearest}
		op.GeoM.Scale(float64(r.Dx())/float64(c.Size), float64(r.Dy())/float64(c.Size))
		op.GeoM.Translate(float64(r.Min.X), float64(r.Min.Y))
		dst.DrawImage(g.chImgs[i], op)
		pad := int(3 * l.PerCSS)
		fillRect(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+lh), strip)
		text.Draw(dst, fmt.Sprintf("%s #%d", c.Tap, c.Index), ui.small, r.Min.X+pad, r.Min.Y+lh-pad, colText)
		fillRect(dst, image.Rect(r.Min.X, r.Max.Y-lh, r.Max.X, r.Max.Y), strip)
		text.Draw(dst, fmt.Sprintf("%s %+.2f", c.Target, c.Score), ui.small, r.Min.X+pad, r.Max.Y-pad, colAccent)
	}
	if len(g.last.Channels) == 0 && g.last.Err == nil {
		r := l.SmallMap(0, 0)
		text.Draw(dst, "ranking…", ui.small, r.Min.X+int(4*l.PerCSS), r.Min.Y+r.Dy()/2, colDim)
	}
}
