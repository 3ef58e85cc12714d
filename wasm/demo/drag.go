package demo

import "math"

// DragMode says what a pointer press is doing to the crop.
type DragMode int

const (
	DragNone   DragMode = iota
	DragMove            // the press began inside the crop: it moves
	DragResize          // the press began on the corner handle: it resizes
	DragPinch           // two fingers: their spread resizes
)

// String names the mode for the state hook.
func (m DragMode) String() string {
	switch m {
	case DragMove:
		return "move"
	case DragResize:
		return "resize"
	case DragPinch:
		return "pinch"
	}
	return "none"
}

// Dragger turns pointer samples (in photo pixels) into crop changes. The app
// feeds it one sample per frame from the mouse or the first touch; it knows
// nothing of screens or devices.
type Dragger struct {
	Crop           Crop
	PhotoW, PhotoH int
	MinSize        float64 // smallest crop side in photo pixels
	Mode           DragMode
	grabX, grabY   float64 // pointer offset from the crop's top left at press
	pressed        bool
	pinch0, size0  float64 // finger distance and crop side when the pinch began
}

// OnHandle reports whether photo point (x, y) is on the resize handle: the
// crop's bottom-right corner, within radius photo pixels.
func (d *Dragger) OnHandle(x, y, radius float64) bool {
	hx, hy := d.Crop.X+d.Crop.Size, d.Crop.Y+d.Crop.Size
	return math.Abs(x-hx) <= radius && math.Abs(y-hy) <= radius
}

// Step takes one pointer sample: position in photo pixels and whether the
// button (or finger) is down. handle is the handle's radius in photo pixels.
// It returns true when the crop changed.
func (d *Dragger) Step(x, y float64, pressed bool, handle float64) bool {
	defer func() { d.pressed = pressed }()
	if !pressed {
		d.Mode = DragNone
		return false
	}
	if !d.pressed { // press begins
		switch {
		case d.OnHandle(x, y, handle):
			d.Mode = DragResize
		case d.Crop.Contains(x, y):
			d.Mode = DragMove
			d.grabX, d.grabY = x-d.Crop.X, y-d.Crop.Y
		default:
			d.Mode = DragNone
		}
		return false
	}
	old := d.Crop
	switch d.Mode {
	case DragMove:
		d.Crop = Crop{X: x - d.grabX, Y: y - d.grabY, Size: d.Crop.Size}.Clamp(d.PhotoW, d.PhotoH, d.MinSize)
	case DragResize:
		s := math.Max(x-d.Crop.X, y-d.Crop.Y)
		s = math.Max(d.MinSize, math.Min(s, math.Min(float64(d.PhotoW)-d.Crop.X, float64(d.PhotoH)-d.Crop.Y)))
		d.Crop.Size = s
		d.Crop = d.Crop.Clamp(d.PhotoW, d.PhotoH, d.MinSize)
	default:
		return false
	}
	return d.Crop != old
}

// Zoom scales the crop side by factor around its centre (mouse wheel),
// clamped to the photo. It returns true when the crop changed.
func (d *Dragger) Zoom(factor float64) bool {
	old := d.Crop
	d.Crop = d.Crop.Resize(d.Crop.Size*factor, d.PhotoW, d.PhotoH, d.MinSize)
	return d.Crop != old
}

// SetPhoto resets the dragger to a new w×h photo with the default crop.
func (d *Dragger) SetPhoto(w, h int) {
	d.PhotoW, d.PhotoH = w, h
	d.Crop = DefaultCrop(w, h)
	d.Mode = DragNone
}

// Pinch takes the distance between two fingers (any unit, the same each
// call): the crop's side follows its ratio to the distance when the pinch
// began, around the crop's centre. active false ends the pinch; a finger
// left on the screen then starts a new press. It returns true when the
// crop changed.
func (d *Dragger) Pinch(dist float64, active bool) bool {
	if !active || dist <= 0 {
		if d.Mode == DragPinch {
			d.Mode = DragNone
		}
		d.pinch0 = 0
		return false
	}
	if d.pinch0 == 0 {
		d.pinch0, d.size0 = dist, d.Crop.Size
		d.Mode, d.pressed = DragPinch, false
		return false
	}
	old := d.Crop
	d.Crop = d.Crop.Resize(d.size0*dist/d.pinch0, d.PhotoW, d.PhotoH, d.MinSize)
	return d.Crop != old
}
