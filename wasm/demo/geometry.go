// Package demo holds the window-free logic of the posprobe demo app: the crop
// window and its dragging, the photo <-> screen <-> map coordinate mappings,
// the inference scheduler (latest crop wins), the salient point of a
// predicted map, and the app state the page's test hook reports. Nothing here
// imports ebiten, so it is tested natively and in node.
package demo

import (
	"image"
	"math"
)

// MapSize is the side of the encoder input and of every position map.
const MapSize = 224

// Crop is a square window on the photo, in photo pixels (X, Y top left).
type Crop struct{ X, Y, Size float64 }

// Rect returns the crop as an integer rectangle (rounded to the nearest pixel).
func (c Crop) Rect() image.Rectangle {
	x0, y0 := int(math.Round(c.X)), int(math.Round(c.Y))
	s := int(math.Round(c.Size))
	return image.Rect(x0, y0, x0+s, y0+s)
}

// Center returns the crop centre in photo pixels.
func (c Crop) Center() (x, y float64) { return c.X + c.Size/2, c.Y + c.Size/2 }

// Contains reports whether photo point (x, y) lies inside the crop.
func (c Crop) Contains(x, y float64) bool {
	return x >= c.X && x < c.X+c.Size && y >= c.Y && y < c.Y+c.Size
}

// Clamp returns c moved (and shrunk if needed) to lie inside a w×h photo,
// with a side of at least min (unless the photo itself is smaller).
func (c Crop) Clamp(w, h int, min float64) Crop {
	limit := math.Min(float64(w), float64(h))
	if min > limit {
		min = limit
	}
	c.Size = math.Max(min, math.Min(c.Size, limit))
	c.X = math.Max(0, math.Min(c.X, float64(w)-c.Size))
	c.Y = math.Max(0, math.Min(c.Y, float64(h)-c.Size))
	return c
}

// Resize returns c with side size, keeping its centre, clamped to a w×h photo.
func (c Crop) Resize(size float64, w, h int, min float64) Crop {
	cx, cy := c.Center()
	size = Crop{Size: size}.Clamp(w, h, min).Size // the side first, so the centre holds
	return Crop{X: cx - size/2, Y: cy - size/2, Size: size}.Clamp(w, h, min)
}

// DefaultCrop is the centred square with half the photo's shorter side.
func DefaultCrop(w, h int) Crop {
	s := math.Floor(math.Min(float64(w), float64(h)) / 2)
	return Crop{X: math.Floor((float64(w) - s) / 2), Y: math.Floor((float64(h) - s) / 2), Size: s}
}

// MapToPhoto maps a point of a size×size map computed on crop c (pixel
// centres at integer coordinates, as the resampling uses) to photo pixels.
func MapToPhoto(c Crop, size int, u, v float64) (x, y float64) {
	k := c.Size / float64(size)
	return c.X + (u+0.5)*k, c.Y + (v+0.5)*k
}

// PhotoToMap is the inverse of MapToPhoto.
func PhotoToMap(c Crop, size int, x, y float64) (u, v float64) {
	k := float64(size) / c.Size
	return (x-c.X)*k - 0.5, (y-c.Y)*k - 0.5
}

// View fits a photo into a screen panel, keeping its aspect ratio and
// centring it. Screen coordinates are the app's logical pixels.
type View struct {
	Panel          image.Rectangle
	PhotoW, PhotoH int
	Scale          float64 // screen pixels per photo pixel
	OffX, OffY     float64 // screen position of photo pixel (0, 0)
}

// FitView returns the view of a w×h photo in panel.
func FitView(panel image.Rectangle, w, h int) View {
	v := View{Panel: panel, PhotoW: w, PhotoH: h}
	if w <= 0 || h <= 0 || panel.Empty() {
		v.Scale = 1
		return v
	}
	v.Scale = math.Min(float64(panel.Dx())/float64(w), float64(panel.Dy())/float64(h))
	v.OffX = float64(panel.Min.X) + (float64(panel.Dx())-v.Scale*float64(w))/2
	v.OffY = float64(panel.Min.Y) + (float64(panel.Dy())-v.Scale*float64(h))/2
	return v
}

// ToScreen maps photo pixels to screen pixels.
func (v View) ToScreen(x, y float64) (sx, sy float64) {
	return v.OffX + x*v.Scale, v.OffY + y*v.Scale
}

// ToPhoto maps screen pixels to photo pixels.
func (v View) ToPhoto(sx, sy float64) (x, y float64) {
	return (sx - v.OffX) / v.Scale, (sy - v.OffY) / v.Scale
}
