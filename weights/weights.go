// Package weights embeds the project's own files under weights/: the
// manifest of the encoder weights posprobe knows (encoders.json), so that the
// CLI, the tables and the WebAssembly app all see the same list, and (outside
// js/wasm) the one encoder weight file committed here, SqueezeNet 1.1.
package weights

import _ "embed"

// EncodersJSON is weights/encoders.json; core/weights parses it.
//
//go:embed encoders.json
var EncodersJSON []byte

// Builtin is an encoder weight file committed in this folder: the default
// source of its encoder when no other copy is found, and what `posprobe
// site` ships.
type Builtin struct {
	Encoder string // encoder name, as core/encoder knows it
	Path    string // slash-separated, relative to weights/
	SHA256  string // hex digest of the file, also in its folder's SHA256SUMS
}

// Builtins lists the committed weight files.
var Builtins = []Builtin{{
	Encoder: "squeezenet1.1",
	Path:    "squeezenet1.1/squeezenet1.1.f16.safetensors",
	SHA256:  "53a0254f2624879ca1e9e88fcc4e9d78f3de1bdb1aa36194baf0b3bdeb591800",
}}

// BuiltinData returns the bytes of a committed weight file, or nil where
// they are not linked in (js/wasm: the browser fetches them from the site).
func BuiltinData(b Builtin) []byte { return builtinData(b.Path) }
