package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"

	"github.com/posprobe/posprobe/core/photo"
)

// Manifest is site.json, written by `posprobe site`: what the built site holds.
type Manifest struct {
	Photo    string            `json:"photo"`    // default photo path
	Encoders map[string]string `json:"encoders"` // encoder name -> safetensors path
	Readouts []string          `json:"readouts"` // readout paths
	Note     string            `json:"note"`     // what the site lacks, in words
	// ONNX models (site --model), shown first.
	Models []SiteModel `json:"models,omitempty"`
}

// Source reads the site's files (weights, readouts, photo) by path.
type Source interface {
	Read(path string, progress func(done, total int64)) ([]byte, error)
}

// DefaultPhoto is the photo the demo opens with.
const DefaultPhoto = "photo/coffee.jpg"

// ReadManifest reads site.json. Without one (the desktop app run from the
// sources) the manifest is empty: Readouts nil means "try every file".
func ReadManifest(src Source) (Manifest, error) {
	m := Manifest{Photo: DefaultPhoto}
	b, err := src.Read("site.json", nil)
	if err != nil {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{Photo: DefaultPhoto}, fmt.Errorf("site.json: %w", err)
	}
	if m.Photo == "" {
		m.Photo = DefaultPhoto
	}
	addSiteModels(m.Models)
	return m, nil
}

// MinPhoto is the smallest photo side the demo accepts.
const MinPhoto = 32

// DecodePhoto decodes a photo with core/photo (JPEG, PNG or GIF, within its
// 50-megapixel budget) and moves it to origin (0,0), the coordinates the
// crop works in. The UI and the inference worker decode the same bytes with
// it, so they agree on every pixel.
func DecodePhoto(data []byte, name string) (image.Image, error) {
	img, err := photo.Decode(bytes.NewReader(data), name)
	if be, ok := err.(*photo.BudgetError); ok { // photo returns it as is; not the CLI's --max-pixels hint
		return nil, fmt.Errorf("%s: %dx%d is over the demo's %d-megapixel limit", name, be.W, be.H, be.Max/1_000_000)
	}
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	if b.Dx() < MinPhoto || b.Dy() < MinPhoto {
		return nil, fmt.Errorf("%s: %dx%d is too small (%dx%d at least)", name, b.Dx(), b.Dy(), MinPhoto, MinPhoto)
	}
	if b.Min != (image.Point{}) {
		rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src)
		img = rgba
	}
	return img, nil
}
