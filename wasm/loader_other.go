//go:build !js

package main

import "github.com/posprobe/posprobe/wasm/demo"

// withPageManifest: the desktop window reads site.json from disk.
func withPageManifest(src demo.Source) demo.Source { return src }
