// Package weights embeds the project's own files under weights/: the
// manifest of the encoder weights posprobe knows (encoders.json), so that the
// CLI, the tables and the WebAssembly app all see the same list.
package weights

import _ "embed"

// EncodersJSON is weights/encoders.json; core/weights parses it.
//
//go:embed encoders.json
var EncodersJSON []byte
