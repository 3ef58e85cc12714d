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
	"github.com/posprobe/posprobe/wasm/demo"
)

// Layout of the logical 1280×720 screen.
var (
	photoPanel = image.Rect(16, 48, 640, 464)
	bigSize    = 192
	bigY       = 72
	bigX       = [3]int{664, 868, 1072} // crop, predicted, ground truth
	smallSize  = 104
	smallX0    = 664
	smallGap   = 20
	smallY     = 392 // predicted row; truth row below it
)

func modelButton(i int) image.Rectangle {
	n := max(4, len(demo.Models)) // site --model adds ONNX models
	w := (photoPanel.Dx() - (n-1)*8) / n
	x := photoPanel.Min.X + i*(w+8)
	return image.Rect(x, 500, x+w, 532)
}

func targetButton(i int) image.Rectangle {
	x := photoPanel.Min.X + i*(56+8)
	return image.Rect(x, 568, x+56, 600)
}

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

type ui struct {
	small, normal, bold, title font.Face
	legend                     *ebiten.Image
}

func newUI() *ui {
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
		small:  face(goregular.TTF, 12),
		normal: face(goregular.TTF, 15),
		bold:   face(gobold.TTF, 15),
		title:  face(gobold.TTF, 20),
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

// Screen regions redrawn on their own. Software WebGL (SwiftShader, and the
// compositor reading the canvas back each frame) makes every pixel drawn
// count, so a drag frame touches only the photo panel and the crop preview,
// and a new prediction only the right-hand side.
var (
	leftRect    = image.Rect(0, 32, 656, 482) // the photo panel, with room for the crop label and marker
	rightRect   = image.Rect(656, 36, screenW, screenH)
	previewRect = image.Rect(bigX[0], bigY, bigX[0]+bigSize, bigY+bigSize)
)

// resultHold is how long a new result waits for the next drag frame.
const resultHold = 250 * time.Millisecond

func (g *Game) Draw(screen *ebiten.Image) {
	keys := [4]string{g.fullKey(), g.rightKey(), g.predKey(), g.cropKey()}
	if keys == g.drawn {
		return
	}
	// While the crop is being dragged a frame comes with each move anyway:
	// a new prediction waits for it instead of costing a frame of its own
	// (software WebGL makes frames the scarce resource).
	if keys[0] == g.drawn[0] && keys[1] == g.drawn[1] && keys[3] == g.drawn[3] &&
		g.dragging && time.Since(g.cropMoved) < resultHold {
		wake() // after the hold, in case no move comes
		return
	}
	if g.layer == nil {
		g.layer = ebiten.NewImage(screenW, screenH)
	}
	area := leftRect // what of the photo panel to redraw
	switch {
	case keys[0] != g.drawn[0]:
		g.drawLayer(g.layer)
		screen.DrawImage(g.layer, nil)
	case keys[1] != g.drawn[1]:
		sub := g.layer.SubImage(rightRect).(*ebiten.Image)
		sub.Fill(colBG)
		g.drawRight(sub)
		copyRect(screen, g.layer, rightRect)
		g.restoreAroundPhoto(screen, area)
	default:
		if keys[2] != g.drawn[2] {
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
		g.drawCropPreview(screen.SubImage(previewRect).(*ebiten.Image))
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
	const m = 16 // the marker's arms and the handle reach this far out
	lw := text.BoundString(g.ui.small, g.cropLabel()).Dx()
	r := image.Rect(int(x0)-m, int(y0)-m-12, int(math.Max(x1, x0+4+float64(lw)))+m, int(y1)+m)
	return r.Intersect(leftRect)
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
	p := image.Rect(int(math.Ceil(px0)), int(math.Ceil(py0)), int(px1), int(py1)).Intersect(leftRect)
	for _, r := range []image.Rectangle{
		image.Rect(leftRect.Min.X, leftRect.Min.Y, leftRect.Max.X, p.Min.Y),
		image.Rect(leftRect.Min.X, p.Max.Y, leftRect.Max.X, leftRect.Max.Y),
		image.Rect(leftRect.Min.X, p.Min.Y, p.Min.X, p.Max.Y),
		image.Rect(p.Max.X, p.Min.Y, leftRect.Max.X, p.Max.Y),
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
	u := g.ui
	dst.Fill(colBG)
	const lead = "Drag the square: the maps on the right are predicted from the crop's pixels alone, by a frozen CNN and a small trained readout."
	if inBrowser {
		text.Draw(dst, lead, u.normal, 16, 30, colDim)
	} else {
		text.Draw(dst, "posprobe", u.title, 16, 30, colAccent)
		text.Draw(dst, lead, u.normal, 116, 30, colDim)
	}
	vector.DrawFilledRect(dst, float32(photoPanel.Min.X), float32(photoPanel.Min.Y), float32(photoPanel.Dx()), float32(photoPanel.Dy()), colPanel, false)
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
	// The photo shaded outside the crop: the pre-darkened copy, then the
	// crop's part of the bright one (two opaque draws, no blending).
	op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
	op.GeoM.Scale(v.Scale, v.Scale)
	op.GeoM.Translate(v.OffX, v.OffY)
	screen.DrawImage(g.photoDim, op)
	c := g.drag.Crop
	if r := c.Rect().Intersect(g.photoImg.Bounds()); !r.Empty() {
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
		op.GeoM.Translate(float64(r.Min.X), float64(r.Min.Y))
		op.GeoM.Scale(v.Scale, v.Scale)
		op.GeoM.Translate(v.OffX, v.OffY)
		screen.DrawImage(g.photoImg.SubImage(r).(*ebiten.Image), op)
	}
	x0, y0 := v.ToScreen(c.X, c.Y)
	x1, y1 := v.ToScreen(c.X+c.Size, c.Y+c.Size)
	vector.StrokeRect(screen, float32(x0), float32(y0), float32(x1-x0), float32(y1-y0), 2, colAccent, false)
	vector.DrawFilledRect(screen, float32(x1-handleScreen/2-2), float32(y1-handleScreen/2-2), handleScreen+4, handleScreen+4, colAccent, false)
	text.Draw(screen, g.cropLabel(), g.ui.small, int(x0)+4, int(y0)-6, colAccent)

	if g.current() && g.last.Salient != nil {
		// The salient point of the crop on screen right now, from the last
		// result's offset inside its crop (it follows the crop while the
		// next prediction runs).
		sp := g.last.Salient
		ox, oy := sp.X-g.last.Crop.X, sp.Y-g.last.Crop.Y
		k := c.Size / g.last.Crop.Size
		sx, sy := v.ToScreen(c.X+ox*k, c.Y+oy*k)
		marker(screen, float32(sx), float32(sy), 9)
	}
}

// marker draws the predicted salient position: a ring with a cross.
func marker(dst *ebiten.Image, x, y, r float32) {
	vector.StrokeCircle(dst, x, y, r+1.5, 4, color.RGBA{0, 0, 0, 160}, false)
	vector.StrokeCircle(dst, x, y, r, 2.5, colMarker, false)
	vector.StrokeLine(dst, x-r-5, y, x-r+4, y, 2, colMarker, false)
	vector.StrokeLine(dst, x+r-4, y, x+r+5, y, 2, colMarker, false)
	vector.StrokeLine(dst, x, y-r-5, x, y-r+4, 2, colMarker, false)
	vector.StrokeLine(dst, x, y+r-4, x, y+r+5, 2, colMarker, false)
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
	vector.DrawFilledRect(dst, float32(r.Min.X), float32(r.Min.Y), float32(r.Dx()), float32(r.Dy()), bg, false)
	b := text.BoundString(face, label)
	text.Draw(dst, label, face, r.Min.X+(r.Dx()-b.Dx())/2, r.Min.Y+r.Dy()/2+5, fg)
}

var modelShort = map[string]string{"sq-zero": "Zero padding", "sq-none": "No padding", "pixels": "No encoder", "sq-random": "Random init"}

func (g *Game) drawControls(screen *ebiten.Image) {
	ui := g.ui
	text.Draw(screen, "Encoder: SqueezeNet 1.1 (ImageNet), its padding removed, none at all, or untrained   [keys 1-4]", ui.small, photoPanel.Min.X, 492, colDim)
	for i := range demo.Models {
		m := demo.Models[i]
		label, ok := modelShort[m.Key]
		if !ok {
			label = "ONNX " + m.Padding
		}
		g.mu.Lock()
		missing := g.loadErr[i] != nil ||
			(m.ONNX == "" && m.Init != "random" && m.Encoder != "none" && g.man.Readouts != nil && g.man.Encoders[m.Encoder] == "" && dataDir() == "")
		if g.loading[i] {
			label += " …"
		}
		g.mu.Unlock()
		button(screen, modelButton(i), label, i == g.model, missing, ui.normal)
	}
	text.Draw(screen, "Target position map   [keys H V G S T]", ui.small, photoPanel.Min.X, 560, colDim)
	for i, t := range demo.Targets {
		button(screen, targetButton(i), t, t == g.target, false, ui.bold)
	}
	text.Draw(screen, demo.TargetNames[g.target], ui.normal, targetButton(4).Max.X+14, 590, colText)

	help := []string{
		"Drag the square with the mouse or a finger; resize it with the wheel or its corner handle.",
		"Drop a photo on the window (or use “Open photo” on the page) to try your own.",
		"The marker is the centre of the predicted G bump: where the model thinks the crop's centre is.",
	}
	for i, h := range help {
		text.Draw(screen, h, ui.small, photoPanel.Min.X, 632+18*i, colDim)
	}
}

func (g *Game) drawMaps(screen *ebiten.Image) {
	ui := g.ui
	labels := [3]string{"Crop (encoder input)", "Predicted " + g.target, "Ground truth " + g.target}
	for i, l := range labels {
		text.Draw(screen, l, ui.bold, bigX[i], bigY-8, colText)
		vector.DrawFilledRect(screen, float32(bigX[i]), float32(bigY), float32(bigSize), float32(bigSize), colPanel, false)
	}
	cur := g.current()
	g.ensureTruth()
	drawMap := func(img *ebiten.Image, x, y, size int) {
		if img == nil {
			return
		}
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
		op.GeoM.Scale(float64(size)/demo.MapSize, float64(size)/demo.MapSize)
		op.GeoM.Translate(float64(x), float64(y))
		screen.DrawImage(img, op)
	}
	_, lerr, loading := g.predictor()
	switch {
	case cur && g.maps[g.target] != nil && g.last.Maps[g.target] != nil:
		// drawn by drawPrediction
	case lerr != nil:
		wrap(screen, "Not available: "+lerr.Error(), ui.small, bigX[1]+8, bigY+20, bigSize-16, colWarn)
	case cur && g.last.Err != nil:
		wrap(screen, "Prediction failed: "+g.last.Err.Error(), ui.small, bigX[1]+8, bigY+20, bigSize-16, colWarn)
	case cur:
		wrap(screen, "No readout for "+g.target+" with this encoder.", ui.small, bigX[1]+8, bigY+20, bigSize-16, colWarn)
	case loading:
		wrap(screen, "Loading…", ui.normal, bigX[1]+8, bigY+24, bigSize-16, colDim)
	}
	drawMap(g.truth[g.target], bigX[2], bigY, bigSize)
	if g.truthErr != nil {
		wrap(screen, g.truthErr.Error(), ui.small, bigX[2]+8, bigY+20, bigSize-16, colWarn)
	}

	// Legend under the big maps.
	ly := bigY + bigSize + 14
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Scale(float64(2*bigSize+12)/256, 10)
	op.GeoM.Translate(float64(bigX[1]), float64(ly))
	screen.DrawImage(ui.legend, op)
	text.Draw(screen, "0", ui.small, bigX[1], ly+24, colDim)
	text.Draw(screen, "0.5", ui.small, bigX[1]+bigSize-2, ly+24, colDim)
	text.Draw(screen, "1", ui.small, bigX[2]+bigSize-8, ly+24, colDim)

	sy := ly + 54
	text.Draw(screen, "SPC: Spearman correlation of predicted and true map (1 = same ordering). MAE: mean absolute error.", ui.small, bigX[0], sy+22, colDim)

	// All five targets, predicted over ground truth.
	text.Draw(screen, "All five targets: predicted (top) and ground truth (bottom)", ui.bold, smallX0, smallY-10, colText)
	for i, t := range demo.Targets {
		x := smallX0 + i*(smallSize+smallGap)
		for row := 0; row < 2; row++ {
			y := smallY + row*(smallSize+6)
			vector.DrawFilledRect(screen, float32(x), float32(y), float32(smallSize), float32(smallSize), colPanel, false)
		}
		if !(cur && g.last.Maps[t] != nil) && (cur || lerr != nil) {
			text.Draw(screen, "no readout", ui.small, x+18, smallY+smallSize/2, colDim)
		}
		drawMap(g.truth[t], x, smallY+smallSize+6, smallSize)
		if t == g.target {
			vector.StrokeRect(screen, float32(x-2), float32(smallY-2), float32(smallSize+4), float32(2*smallSize+10), 2, colAccent, false)
		}
	}
	g.drawPrediction(screen)
}

// Where drawPrediction writes text: it clears these first.
var (
	scoreRect = image.Rect(bigX[0], bigY+bigSize+14+54-22, screenW, bigY+bigSize+14+54+8)
	labelRect = image.Rect(smallX0-2, smallY+2*smallSize+11, screenW, smallY+2*smallSize+30)
)

// drawPrediction draws what each new prediction changes: the predicted
// maps (opaque, over their panels), the score line and the SPC labels. A
// prediction that changes nothing else is drawn with it alone, straight on
// the screen (rightKey is unchanged, predKey changed).
func (g *Game) drawPrediction(dst *ebiten.Image) {
	ui := g.ui
	cur := g.current()
	drawMap := func(img *ebiten.Image, x, y, size int) {
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
		op.GeoM.Scale(float64(size)/demo.MapSize, float64(size)/demo.MapSize)
		op.GeoM.Translate(float64(x), float64(y))
		dst.DrawImage(img, op)
	}
	if cur && g.maps[g.target] != nil && g.last.Maps[g.target] != nil {
		drawMap(g.maps[g.target], bigX[1], bigY, bigSize)
	}
	fill := func(r image.Rectangle) {
		vector.DrawFilledRect(dst, float32(r.Min.X), float32(r.Min.Y), float32(r.Dx()), float32(r.Dy()), colBG, false)
	}
	fill(scoreRect)
	sy := scoreRect.Max.Y - 8
	if cur && g.last.Err == nil {
		if sc, ok := g.last.Scores[g.target]; ok {
			spc := "SPC …"
			if !math.IsNaN(sc.SPC) {
				spc = fmt.Sprintf("SPC %.3f", sc.SPC)
			}
			text.Draw(dst, spc, ui.title, bigX[0], sy, colAccent)
			text.Draw(dst, fmt.Sprintf("MAE %.3f", sc.MAE), ui.title, bigX[0]+150, sy, colAccent)
		}
		text.Draw(dst, fmt.Sprintf("%d ms per prediction · %.1f predictions/s",
			g.last.Latency.Milliseconds(), g.meter.Rate(time.Now())), ui.normal, bigX[0]+300, sy, colText)
	}
	fill(labelRect)
	for i, t := range demo.Targets {
		x := smallX0 + i*(smallSize+smallGap)
		if cur && g.last.Maps[t] != nil && g.maps[t] != nil {
			drawMap(g.maps[t], x, smallY, smallSize)
		}
		label := t
		if cur {
			if sc, ok := g.last.Scores[t]; ok && !math.IsNaN(sc.SPC) {
				label = fmt.Sprintf("%s  SPC %.2f", t, sc.SPC)
			}
		}
		col := colDim
		if t == g.target {
			col = colAccent
		}
		text.Draw(dst, label, ui.small, x, smallY+2*smallSize+24, col)
	}
}

// drawCropPreview shows the crop as the encoder sees it, with the salient
// point of the last prediction (at its offset in the crop, so it follows a
// drag until the next prediction lands).
func (g *Game) drawCropPreview(screen *ebiten.Image) {
	r := g.drag.Crop.Rect().Intersect(g.photoImg.Bounds())
	if !r.Empty() {
		op := &ebiten.DrawImageOptions{Filter: ebiten.FilterLinear}
		op.GeoM.Scale(float64(bigSize)/float64(r.Dx()), float64(bigSize)/float64(r.Dy()))
		op.GeoM.Translate(float64(bigX[0]), float64(bigY))
		screen.DrawImage(g.photoImg.SubImage(r).(*ebiten.Image), op)
	}
	if g.current() && g.last.Salient != nil {
		u, v := demo.PhotoToMap(g.last.Crop, bigSize, g.last.Salient.X, g.last.Salient.Y)
		marker(screen, float32(bigX[0])+float32(u), float32(bigY)+float32(v), 8)
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
	wrap(screen, s.Message, g.ui.small, 664, 690, 600, col)
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
