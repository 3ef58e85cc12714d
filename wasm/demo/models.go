package demo

import (
	"slices"

	"github.com/posprobe/posprobe/core/netspec"
	"github.com/posprobe/posprobe/core/sitemodel"
)

// SiteModel is the site.json entry of an ONNX model (see core/sitemodel).
type SiteModel = sitemodel.Model

// addSiteModels puts the site's ONNX models before the built-in ones (the
// first becomes the default); models already listed are skipped, so reading
// the manifest twice changes nothing.
func addSiteModels(ms []SiteModel) {
	var add []Model
	for _, s := range ms {
		if s.Key == "" || s.File == "" || ModelIndex(s.Key) >= 0 || slices.ContainsFunc(add, func(m Model) bool { return m.Key == s.Key }) {
			continue
		}
		add = append(add, Model{Key: s.Key, Label: s.Label, Encoder: s.Name, Padding: s.Padding, Init: netspec.InitImageNet, ONNX: s.File, Taps: s.Taps})
	}
	Models = append(add, Models...)
}
