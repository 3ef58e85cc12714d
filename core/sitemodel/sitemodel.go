// Package sitemodel is the site.json entry for an ONNX model a demo site was
// built with (posprobe site --model). It lives in core so that the CLI, which
// writes it, and the demo, which reads it, share one definition without the
// CLI importing anything from wasm/.
package sitemodel

import "github.com/posprobe/posprobe/core/netspec"

// Model is an ONNX model a site was built with: the file in the site, the
// encoder name its readouts were trained under, the padding they were
// trained with, and the --taps spec.
type Model struct {
	Key     string          `json:"key"`
	Label   string          `json:"label"`
	Name    string          `json:"name"`
	Padding netspec.PadMode `json:"padding"`
	File    string          `json:"file"`
	Taps    string          `json:"taps,omitempty"`
}
