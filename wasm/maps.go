package main

import (
	"github.com/hajimehoshi/ebiten/v2"

	"github.com/posprobe/posprobe/wasm/demo"
)

// mapImages holds the last result's maps painted for drawing, only at the
// sizes drawn: full size for the big predicted map, half size for small
// maps drawn at under half size. Drawing a 224-px map that small would make ebiten build a mipmap
// level of it on another framebuffer after every result (five framebuffer
// switches a result, each a wait in software WebGL).
type mapImages struct {
	imgs    map[mapKey]*ebiten.Image
	painted map[mapKey]int // the result (Game.predictions) each was painted for
	half    []float32
	pix     []byte
}

type mapKey struct {
	target string
	half   bool
}

// image returns target t of result r (the n-th shown), painted, or nil if
// r has no such map.
func (m *mapImages) image(r *demo.Result, n int, t string, half bool) *ebiten.Image {
	src := r.Maps[t]
	if src == nil {
		return nil
	}
	k := mapKey{t, half}
	img := m.imgs[k]
	if img != nil && m.painted[k] == n {
		return img
	}
	size := demo.MapSize
	if half {
		m.half = demo.Halve(m.half, src, size)
		src, size = m.half, size/2
	}
	if m.imgs == nil {
		m.imgs, m.painted = map[mapKey]*ebiten.Image{}, map[mapKey]int{}
	}
	if img == nil {
		img = ebiten.NewImage(size, size)
		m.imgs[k] = img
	}
	if m.pix == nil {
		m.pix = make([]byte, 4*demo.MapSize*demo.MapSize)
	}
	demo.Paint(src, size, m.pix)
	img.WritePixels(m.pix[:4*size*size])
	m.painted[k] = n
	return img
}

// paintMaps paints the current result's maps that the next frame draws,
// before it draws anything: an image written between draws costs ebiten a
// flush of the draws before it.
func (g *Game) paintMaps() {
	g.mapImage(g.target, false)
	if g.channelsOn {
		return
	}
	for _, t := range demo.Targets {
		g.mapImage(t, true)
	}
}

// mapImage is the current result's map of target t for the big map, or
// for a small one.
func (g *Game) mapImage(t string, small bool) *ebiten.Image {
	return g.mapImgs.image(g.last, g.predictions, t, small && 2*g.lay.SmallSize <= demo.MapSize)
}
