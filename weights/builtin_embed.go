//go:build !js

package weights

import _ "embed"

//go:embed squeezenet1.1/squeezenet1.1.f16.safetensors
var squeezenet11 []byte

func builtinData(path string) []byte {
	if path == Builtins[0].Path {
		return squeezenet11
	}
	return nil
}
