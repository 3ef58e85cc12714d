package main

import (
	"fmt"
	"time"

	"github.com/posprobe/posprobe/wasm/demo"
)

// The app logs one line per event (stdout: the browser console, or the
// desktop window's stdout with -log). Scripts parse some of them, so their
// formats are a contract; the page's state hook (window.posprobe.state())
// is the way to read the current state, these lines the way to see every
// event. Each line starts with its kind:
//
//	CROP init|dragend|zoom x=X y=Y w=W h=H   the crop in photo pixels (logCrop)
//	CROP dragstart X Y                       where a drag grabbed the photo (logDragStart)
//	VIEW offx=F offy=F scale=F screen=WxH    photo -> logical screen mapping (logView)
//	PRED model=KEY crop=X,Y,SIDE salient=X,Y|none spc=F mae=F latency=Nms wait=Nms shown=Nms
//	PRED error: MESSAGE                      one result shown (logPred)
//	PHOTO, MODEL, TARGET, CHANNELS, LAYOUT, STATUS   free text, for people
//
// Readers: scripts/desktop_smoke.sh (VIEW, CROP init, dragstart and
// dragend, to drive the native window with xdotool) and e2e/measure.js
// (PRED latency, wait and shown, per prediction). Change a format only
// with its readers.

// logCrop logs the crop after event ev (init, dragend, zoom).
func (g *Game) logCrop(ev string) {
	c := g.drag.Crop
	logf("CROP %s x=%.0f y=%.0f w=%.0f h=%.0f", ev, c.X, c.Y, c.Size, c.Size)
}

// logDragStart logs where a drag began, in photo pixels.
func logDragStart(px, py float64) { logf("CROP dragstart %.0f %.0f", px, py) }

// logView logs the photo's placement on the logical screen.
func (g *Game) logView() {
	logf("VIEW offx=%.2f offy=%.2f scale=%.4f screen=%dx%d", g.view.OffX, g.view.OffY, g.view.Scale, g.lay.W, g.lay.H)
}

// logPred logs result r, shown at now: the model, the crop it was made on,
// the salient point (photo pixels), the selected target's SPC (NaN while
// not ranked) and MAE, the pipeline's latency, the wait before it (queue
// and transfer) and the time from the request to the screen.
func (g *Game) logPred(r demo.Result, now time.Time) {
	if r.Err != nil {
		logf("PRED error: %v", r.Err)
		return
	}
	sal := "none"
	if r.Salient != nil {
		sal = fmt.Sprintf("%.1f,%.1f", r.Salient.X, r.Salient.Y)
	}
	s := r.Scores[g.target]
	logf("PRED model=%s crop=%.0f,%.0f,%.0f salient=%s spc=%.3f mae=%.3f latency=%dms wait=%dms shown=%dms",
		demo.Models[g.model].Key, r.Crop.X, r.Crop.Y, r.Crop.Size, sal, s.SPC, s.MAE, r.Latency.Milliseconds(),
		r.Wait.Milliseconds(), now.Sub(r.Submitted).Milliseconds())
}
