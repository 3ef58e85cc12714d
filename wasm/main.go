// Command wasm is the posprobe demo: drag a square crop over a photo and watch
// a frozen CNN encoder plus a trained readout say where in the crop each
// pixel is, beside the ground truth. It builds for js/wasm (the site) and
// natively (the desktop window). Its window-free logic lives in wasm/demo.
package main

import (
	"flag"
	"fmt"
	"image"
	"io/fs"
	"log"
	"math"
	"sync/atomic"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	"github.com/posprobe/posprobe/core/netspec"
	"github.com/posprobe/posprobe/wasm/demo"
)

// Game is the ebiten app.
type Game struct {
	src demo.Source
	man demo.Manifest
	be  backend

	loader *demo.Loader               // models, the next photo, the status message
	snap   atomic.Pointer[demo.State] // what the page's hook reports (publish)

	// UI loop only.
	photo     image.Image
	photoImg  *ebiten.Image
	photoDim  *ebiten.Image // photoImg darkened: the photo outside the crop
	photoName string
	photoID   int
	drag      demo.Dragger
	view      demo.View
	sched     runner
	model     int
	target    string
	seq       uint64
	floor     uint64 // requests up to here were for another model or photo
	submitted struct {
		crop     demo.Crop
		model    int
		photoID  int
		full     bool // every target ranked
		channels int
	}
	last        *demo.Result
	lastModel   int
	lastPhoto   int
	meter       demo.Meter
	mapImgs     mapImages // the last result's maps, painted
	truth       map[string]*ebiten.Image
	truthErr    error
	lay         demo.Layout    // the logical screen's layout, picked by Layout from the outside size
	ui          *ui            // fonts of lay
	uis         map[string]*ui // by layout name
	share       demo.Share     // what the page's URL asked for
	builtin     bool           // the photo is one of the site's (a link can name it)
	dragging    bool
	cropMoved   time.Time // last crop change by the pointer
	predictions int
	drawn       drawKeys // of the frame on screen and of layer
	layer       *ebiten.Image
	outside     [2]int           // window size, part of fullKey
	drawnCrop   image.Rectangle  // screen area of the crop's drawing on screen now
	channelsOn  bool             // the small maps show the top position channels (key C)
	chImgs      []*ebiten.Image  // the channels of the last result, painted
	toggled     time.Time        // when channelsOn last changed
	panel       [2]*ebiten.Image // the photo panel drawn, shaded and bright (ensurePanel)
	panelKey    panelKey
}

func newGame() *Game {
	g := &Game{
		target: "G",
		meter:  demo.Meter{Window: 2 * time.Second},
		truth:  map[string]*ebiten.Image{},
		lay:    demo.LandscapeLayout(),
		uis:    map[string]*ui{},
	}
	g.ui = newUI(g.lay)
	g.uis[g.lay.Name] = g.ui
	g.share = urlShare()
	if i := demo.ModelIndex(g.share.Model); i >= 0 {
		g.model = i
	}
	if g.share.Target != "" {
		g.target = g.share.Target
	}
	g.be = newBackend()
	g.sched = g.be.Runner()
	g.loader = demo.NewLoader(func(i int, progress func(float64, string)) (demo.Predictor, []string, error) {
		return g.be.Load(i, g.src, g.man, progress)
	}, demo.LoaderHooks{
		Changed: wake,
		Progress: func(frac float64, msg string) {
			if frac < 0 {
				setProgress(-1, "")
				return
			}
			setProgress(0.15+0.85*frac, msg)
			progressWake()
		},
		Log: logf,
	})
	g.snap.Store(&demo.State{})
	g.drag.MinSize = 32
	return g
}

// open finds the site and reads its manifest (a small file, read before the
// game loop starts). A site built without pretrained weights opens on the
// random-init encoder unless the URL asks for another.
func (g *Game) open() error {
	src, err := newSource()
	if err != nil {
		return err
	}
	g.src = withPageManifest(src)
	setProgress(0.05, "Reading the site manifest")
	if g.man, err = demo.ReadManifest(g.src); err != nil {
		logf("STATUS %v", err)
	}
	m := demo.Models[g.model]
	if g.share.Model == "" && g.man.Readouts != nil && m.Init != netspec.InitRandom && m.Encoder != "none" && g.man.Encoders[m.Encoder] == "" && dataDir() == "" {
		g.model = demo.ModelIndex("sq-random")
		logf("STATUS no pretrained weights in this site: starting with %s", demo.Models[g.model].Key)
	}
	return nil
}

// start loads the photo, then the first model, off the UI loop.
func (g *Game) start() {
	src := g.src
	name := g.share.Photo
	if name == "" {
		name = g.man.Photo
	}
	setProgress(0.1, "Loading the photo")
	b, err := src.Read(name, nil)
	if err != nil {
		g.setMessage("Cannot load the photo: " + err.Error())
		return
	}
	g.loader.SetPhoto(demo.PhotoFile{Data: b, Name: name, Builtin: demo.BuiltinPhoto(name)})
	g.ensureModel(g.model)
}

// openPhoto replaces the photo (page file picker, dropped file).
func (g *Game) openPhoto(b []byte, name string) {
	g.loader.SetPhoto(demo.PhotoFile{Data: b, Name: name})
}

func (g *Game) setMessage(m string) { g.loader.SetMessage(m) }

// ensureModel starts loading model i unless it is loaded, loading or
// failed, or the site could not be opened.
func (g *Game) ensureModel(i int) {
	if g.src != nil {
		g.loader.Ensure(i)
	}
}

// predictor is the shown model's state.
func (g *Game) predictor() demo.ModelStatus { return g.loader.Status(g.model) }

func (g *Game) Update() error {
	g.applyLayout()
	g.takePhoto()
	g.takeResult()
	g.handleInput()
	g.submit()
	g.publish()
	return nil
}

// Draw keys sum up what each screen region shows; Draw skips a frame whose
// keys did not change (an idle page costs nothing) and redraws only the
// regions whose key did. Comparable structs: building them costs no
// allocation per frame.
type drawKeys struct {
	full  fullKey
	right rightKey
	pred  predKey
	crop  cropKey
}

// fullKey: the controls and everything else.
type fullKey struct {
	outside    [2]int
	layout     string
	model      int
	target     string
	models     uint64 // demo.Loader.Version: loading and failed models
	photoID    int
	truth      int
	channelsOn bool
}

// rightKey: what decides the right side's layout, the maps, scores and
// message: everything but the values of the current prediction.
type rightKey struct {
	target     string
	message    string
	failed     bool
	loading    bool
	current    bool
	currentErr bool
	have       uint32 // bit i: the current result has a map of demo.Targets[i]
	model      int
	photoID    int
	channelsOn bool
}

// predKey: the values of the current prediction, and the rate shown (in
// tenths, as drawn), which decays (see wakeAt).
type predKey struct {
	predictions int
	rate        int
}

// cropKey: the photo panel and the crop preview.
type cropKey struct {
	crop    demo.Crop
	photoID int
}

func (g *Game) drawKeys() drawKeys {
	st := g.predictor()
	cur := g.current()
	var have uint32
	if cur {
		for i, t := range demo.Targets {
			if g.last.Maps[t] != nil {
				have |= 1 << i
			}
		}
	}
	return drawKeys{
		full: fullKey{outside: g.outside, layout: g.lay.Name, model: g.model, target: g.target, models: g.loader.Version(),
			photoID: g.photoID, truth: len(g.truth), channelsOn: g.channelsOn},
		right: rightKey{target: g.target, message: g.snapshot().Message, failed: st.State == demo.Failed, loading: st.State == demo.Loading,
			current: cur, currentErr: cur && g.last.Err != nil, have: have, model: g.model, photoID: g.photoID, channelsOn: g.channelsOn},
		pred: predKey{g.predictions, int(math.Round(10 * g.meter.Rate(time.Now())))},
		crop: cropKey{g.drag.Crop, g.photoID},
	}
}

// takePhoto installs a photo handed over by the loader, the page or a drop.
func (g *Game) takePhoto() {
	if files := ebiten.DroppedFiles(); files != nil {
		if b, name, err := firstFile(files); err == nil {
			g.openPhoto(b, name)
		} else {
			g.setMessage("Dropped file: " + err.Error())
		}
	}
	pf, ok := g.loader.TakePhoto()
	if !ok {
		return
	}
	img, err := demo.DecodePhoto(pf.Data, pf.Name)
	if err != nil {
		g.setMessage(err.Error())
		return
	}
	b := img.Bounds()
	g.photo, g.photoName, g.builtin = img, pf.Name, pf.Builtin
	g.photoImg = ebiten.NewImageFromImage(img)
	g.photoDim = ebiten.NewImage(b.Dx(), b.Dy())
	dim := &ebiten.DrawImageOptions{}
	dim.ColorScale.Scale(shadeKeep, shadeKeep, shadeKeep, 1)
	g.photoDim.DrawImage(g.photoImg, dim)
	g.photoID++
	g.be.SetPhoto(g.photoID, pf.Data, pf.Name)
	g.floor = g.seq
	g.drag.SetPhoto(b.Dx(), b.Dy())
	if c := g.share.Crop; c != nil && g.photoID == 1 && pf.Builtin {
		g.drag.Crop = c.Clamp(b.Dx(), b.Dy(), g.drag.MinSize) // the link's crop, once
	}
	g.view = demo.FitView(g.lay.Photo, b.Dx(), b.Dy())
	g.last = nil
	g.setMessage("")
	logf("PHOTO %s %dx%d", pf.Name, b.Dx(), b.Dy())
	g.logView()
	g.logCrop("init")
}

func firstFile(fsys fs.FS) ([]byte, string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, "", err
	}
	for _, e := range entries {
		if !e.IsDir() {
			b, err := fs.ReadFile(fsys, e.Name())
			return b, e.Name(), err
		}
	}
	return nil, "", fmt.Errorf("no file dropped")
}

// takeResult takes the scheduler's newest result if it is for what is shown.
func (g *Game) takeResult() {
	r, ok := g.sched.Poll()
	if !ok {
		return
	}
	if r.Model != g.predictor().Pred || r.Seq <= g.floor {
		return // a model or photo switched since it was asked for
	}
	now := time.Now()
	g.meter.Add(now)
	g.predictions++
	g.last = &r
	g.lastModel, g.lastPhoto = g.model, g.photoID
	g.paintMaps()
	g.paintChannels(r.Channels)
	g.logPred(r, now)
}

func (g *Game) handleInput() {
	if g.photo == nil {
		return
	}
	l := g.lay
	// Buttons: a click or a tap that ends on them.
	if x, y, ok := released(); ok && !g.dragging {
		at := image.Rect(x, y, x+1, y+1)
		for i := range demo.Models {
			if l.Models[i].Overlaps(at) && g.drag.Mode == demo.DragNone {
				g.selectModel(i)
			}
		}
		for i, t := range demo.Targets {
			if l.Targets[i].Overlaps(at) {
				g.target = t
				logf("TARGET %s", t)
			}
		}
		if l.Channels.Overlaps(at) {
			g.toggleChannels()
		}
	}
	for i := range demo.Models {
		if inpututil.IsKeyJustPressed(ebiten.Key1 + ebiten.Key(i)) {
			g.selectModel(i)
		}
	}
	if inpututil.IsKeyJustPressed(ebiten.KeyC) {
		g.toggleChannels()
	}
	for i, k := range []ebiten.Key{ebiten.KeyH, ebiten.KeyV, ebiten.KeyG, ebiten.KeyS, ebiten.KeyT} {
		if inpututil.IsKeyJustPressed(k) {
			g.target = demo.Targets[i]
		}
	}

	// The crop: mouse or the first touch moves it, the handle resizes it,
	// and so does a second finger (pinch) that lands with the first on the
	// photo panel.
	sx, sy, pressed, spread := pointer()
	px, py := g.view.ToPhoto(float64(sx), float64(sy))
	wasMode := g.drag.Mode
	var changed bool
	if spread > 0 && (wasMode == demo.DragPinch || image.Pt(sx, sy).In(l.Photo)) {
		changed = g.drag.Pinch(spread, true)
	} else {
		g.drag.Pinch(0, false)
		changed = g.drag.Step(px, py, pressed, float64(l.Handle)/g.view.Scale)
	}
	if g.drag.Mode != demo.DragNone && wasMode == demo.DragNone {
		g.dragging = true
		logDragStart(px, py)
	}
	if !pressed && g.dragging {
		g.dragging = false
		holdFrames(0)
		g.logCrop("dragend")
	}
	if _, wy := ebiten.Wheel(); wy != 0 && image.Pt(sx, sy).In(l.Photo) {
		changed = g.drag.Zoom(math.Pow(1.1, -wy/wheelNotch)) || changed
		g.logCrop("zoom")
	}
	if changed {
		g.cropMoved = time.Now()
		if g.dragging {
			holdFrames(resultHold)
		}
	}
}

// toggleChannels switches the small maps between the five targets and the
// top position channels (asked for from the next prediction on).
//
// A tap outside the photo keeps its default on the page (it scrolls), so
// the browser follows it with an emulated mouse click: the second release
// within half a second is that click, not a second toggle.
func (g *Game) toggleChannels() {
	if time.Since(g.toggled) < 500*time.Millisecond {
		return
	}
	g.toggled = time.Now()
	g.channelsOn = !g.channelsOn
	logf("CHANNELS %v", g.channelsOn)
}

// paintChannels paints the channel maps of a result into chImgs.
func (g *Game) paintChannels(chs []demo.ChannelMap) {
	for i, c := range chs {
		if i == len(g.chImgs) {
			g.chImgs = append(g.chImgs, nil)
		}
		if img := g.chImgs[i]; img == nil || img.Bounds().Dx() != c.Size {
			if img != nil {
				img.Deallocate()
			}
			g.chImgs[i] = ebiten.NewImage(c.Size, c.Size)
		}
		pix := make([]byte, 4*c.Size*c.Size)
		demo.Paint(c.Map, c.Size, pix)
		g.chImgs[i].WritePixels(pix)
	}
}

func (g *Game) selectModel(i int) {
	if i == g.model {
		return
	}
	g.model = i
	g.last = nil
	g.floor = g.seq
	logf("MODEL select %s", demo.Models[i].Key)
	g.ensureModel(i)
}

// pointer returns the mouse, or the first touch, in screen pixels, and the
// distance from the first touch to a second one (0 without one).
func pointer() (x, y int, pressed bool, spread float64) {
	if ids := ebiten.AppendTouchIDs(nil); len(ids) > 0 {
		x, y = ebiten.TouchPosition(ids[0])
		if len(ids) > 1 {
			x2, y2 := ebiten.TouchPosition(ids[1])
			spread = math.Max(1, math.Hypot(float64(x2-x), float64(y2-y)))
		}
		return x, y, true, spread
	}
	x, y = ebiten.CursorPosition()
	return x, y, ebiten.IsMouseButtonPressed(ebiten.MouseButtonLeft), 0
}

// released returns where a click or tap ended this tick.
func released() (x, y int, ok bool) {
	if inpututil.IsMouseButtonJustReleased(ebiten.MouseButtonLeft) {
		x, y = ebiten.CursorPosition()
		return x, y, true
	}
	if ids := inpututil.AppendJustReleasedTouchIDs(nil); len(ids) > 0 {
		x, y = inpututil.TouchPositionInPreviousTick(ids[0])
		return x, y, true
	}
	return 0, 0, false
}

// submit asks for a prediction when the crop, model or photo changed,
// ranking only the selected target (the rest get SPC once the crop rests).
func (g *Game) submit() {
	p := g.predictor().Pred
	if p == nil || g.photo == nil {
		return
	}
	s := &g.submitted
	full, k := false, 0
	if g.channelsOn {
		k = demo.ChannelsShown
	}
	if s.crop == g.drag.Crop && s.model == g.model && s.photoID == g.photoID && s.channels == k && g.seq > 0 {
		if s.full || g.dragging || g.sched.Busy() || !g.current() || g.last.Crop != g.drag.Crop {
			return
		}
		full = true
	}
	g.seq++
	s.crop, s.model, s.photoID, s.full, s.channels = g.drag.Crop, g.model, g.photoID, full, k
	req := demo.Request{Seq: g.seq, Photo: g.photo, PhotoID: g.photoID, Crop: g.drag.Crop, Model: p, Rank: []string{g.target},
		Channels: k, Submitted: time.Now()}
	if full {
		req.Rank = nil
	}
	g.sched.Submit(req)
}

// current reports whether the last result belongs to the shown model and photo.
func (g *Game) current() bool {
	return g.last != nil && g.lastModel == g.model && g.lastPhoto == g.photoID
}

// publish refreshes the state the hook reports.
func (g *Game) publish() {
	m := demo.Models[g.model]
	s := demo.State{
		Encoder: m.Encoder, Padding: m.Padding, Init: m.Init, Target: g.target,
		Crop: g.drag.Crop, SPC: math.NaN(), MAE: math.NaN(), LatencyMs: math.NaN(),
		Rate: g.meter.Rate(time.Now()), Predictions: g.predictions, Drag: g.drag.Mode,
		View: g.view, ScreenW: g.lay.W, ScreenH: g.lay.H, Layout: g.lay.Name, Panel: g.lay.Photo,
		Share: g.shareNow().Encode(), ChannelsView: g.channelsOn,
	}
	lerr := g.predictor().Err
	if g.current() && g.last.Err == nil {
		s.Ready = true
		s.Salient = g.last.Salient
		rc := g.last.Crop
		s.ResultCrop = &rc
		s.LatencyMs = float64(g.last.Latency.Microseconds()) / 1000
		if sc, ok := g.last.Scores[g.target]; ok {
			s.SPC, s.MAE = sc.SPC, sc.MAE
		}
		if g.channelsOn {
			s.Channels = g.last.Channels
		}
	}
	s.Message = g.loader.Message()
	if lerr != nil {
		s.Message = lerr.Error()
	}
	g.snap.Store(&s)
	next, _ := g.meter.NextChange(time.Now())
	wakeAt(next)
	if s.Ready {
		setProgress(-1, "")
	}
}

// snapshot is the state publish stored last (safe from any goroutine).
func (g *Game) snapshot() demo.State { return *g.snap.Load() }

// Layout picks the landscape or the portrait layout from the outside size
// (the window, or the page's frame in CSS pixels); applyLayout follows it.
func (g *Game) Layout(w, h int) (int, int) {
	g.outside = [2]int{w, h}
	l := demo.ChooseLayout(w, h)
	g.lay = l
	return l.W, l.H
}

// applyLayout installs the fonts of the current layout and fits the photo
// into its panel.
func (g *Game) applyLayout() {
	if u := g.uis[g.lay.Name]; u != nil {
		g.ui = u
	} else {
		g.ui = newUI(g.lay)
		g.uis[g.lay.Name] = g.ui
	}
	if g.photo != nil && g.view.Panel != g.lay.Photo {
		b := g.photo.Bounds()
		g.view = demo.FitView(g.lay.Photo, b.Dx(), b.Dy())
		logf("LAYOUT %s %dx%d", g.lay.Name, g.lay.W, g.lay.H)
		g.logView()
	}
}

// shareNow is the view as a link restores it: model, target, crop and
// the built-in photo (a photo opened from disk is not in the link).
func (g *Game) shareNow() demo.Share {
	s := demo.Share{Model: demo.Models[g.model].Key, Target: g.target}
	if g.photo != nil && g.builtin {
		c := g.drag.Crop
		s.Crop, s.Photo = &c, g.photoName
	}
	return s
}

func main() {
	flag.Parse()
	ebiten.SetWindowSize(1280, 720)
	ebiten.SetWindowTitle("posprobe: where is this crop?")
	ebiten.SetWindowResizingMode(ebiten.WindowResizingModeEnabled)
	ebiten.SetScreenClearedEveryFrame(false) // Draw keeps the last frame when nothing changed
	initFrames()
	g := newGame()
	installHook(g)
	if err := g.open(); err != nil {
		g.setMessage("Cannot read the site: " + err.Error())
	} else {
		go g.start()
	}
	if err := ebiten.RunGame(g); err != nil {
		log.Fatal(err)
	}
}
