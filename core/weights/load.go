package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Load reads a weight file or folder, telling the format from its content:
// a folder of .npy files (directly or in its weights/ subfolder), a TF.js
// model.json (or the folder holding one), a torch checkpoint (zip or legacy),
// a safetensors file or a single .npy file; or a committed weight file by its
// BuiltinPrefix path.
func Load(path string) (*Set, error) {
	if data, ok := builtinData(path); ok { // Resolve's WhereBuiltin
		return ParseSafetensors(data, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "model.json")); err == nil {
			return LoadTFJS(filepath.Join(path, "model.json"))
		}
		for _, dir := range []string{path, filepath.Join(path, "weights")} {
			if m, _ := filepath.Glob(filepath.Join(dir, "*.npy")); len(m) > 0 {
				return LoadNpyDir(dir)
			}
		}
		return nil, fmt.Errorf("%s: no model.json or .npy files in the folder", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if filepath.Ext(path) == ".json" || bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
		return LoadTFJS(path)
	}
	return Parse(data, path)
}

// Parse reads the single-file formats from memory (for fetched files):
// torch checkpoints, safetensors and .npy.
func Parse(data []byte, source string) (*Set, error) {
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), len(data) > 0 && data[0] == 0x80:
		return ParsePth(data, source)
	case bytes.HasPrefix(data, []byte(npyMagic)):
		t, err := ReadNpy(bytes.NewReader(data), source)
		if err != nil {
			return nil, err
		}
		s := NewSet(source)
		s.Add(t)
		return s, nil
	case len(data) > 8 && data[8] == '{' && binary.LittleEndian.Uint64(data) < uint64(len(data)):
		return ParseSafetensors(data, source)
	}
	return nil, errors.New(source + ": unknown weight format (not .npy, TF.js, torch or safetensors)")
}
