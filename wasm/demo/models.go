package demo

import "slices"

// SiteModel is an ONNX model a site was built with (posprobe site --model):
// the file in the site, the encoder name its readouts were trained under,
// the padding they were trained with, and the --taps spec.
type SiteModel struct {
	Key     string `json:"key"`
	Label   string `json:"label"`
	Name    string `json:"name"`
	Padding string `json:"padding"`
	File    string `json:"file"`
	Taps    string `json:"taps,omitempty"`
}

// addSiteModels puts the site's ONNX models before the built-in ones (the
// first becomes the default); models already listed are skipped, so reading
// the manifest twice changes nothing.
func addSiteModels(ms []SiteModel) {
	var add []Model
	for _, s := range ms {
		if s.Key == "" || s.File == "" || ModelIndex(s.Key) >= 0 || slices.ContainsFunc(add, func(m Model) bool { return m.Key == s.Key }) {
			continue
		}
		add = append(add, Model{Key: s.Key, Label: s.Label, Encoder: s.Name, Padding: s.Padding, Init: "imagenet", ONNX: s.File, Taps: s.Taps})
	}
	Models = append(add, Models...)
}
