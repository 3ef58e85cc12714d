package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
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
			return finite(LoadTFJS(filepath.Join(path, "model.json")))
		}
		for _, dir := range []string{path, filepath.Join(path, "weights")} {
			if m, _ := filepath.Glob(filepath.Join(dir, "*.npy")); len(m) > 0 {
				return finite(LoadNpyDir(dir))
			}
		}
		return nil, fmt.Errorf("%s: no model.json or .npy files in the folder", path)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%v)", path, fi.Mode().Type())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if filepath.Ext(path) == ".json" || bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
		return finite(LoadTFJS(path))
	}
	return Parse(data, path)
}

// Parse reads the single-file formats from memory (for fetched files):
// torch checkpoints, safetensors and .npy. Safetensors is recognised by its
// structure before the pickle magic byte is looked at, since its 8-byte
// header length may start with 0x80. Weights holding NaN or Inf are refused.
func Parse(data []byte, source string) (*Set, error) {
	switch {
	case IsSafetensors(data):
		return finite(ParseSafetensors(data, source))
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), len(data) > 0 && data[0] == 0x80:
		return finite(ParsePth(data, source))
	case bytes.HasPrefix(data, []byte(npyMagic)):
		t, err := ReadNpy(bytes.NewReader(data), source)
		if err != nil {
			return nil, err
		}
		s := NewSet(source)
		s.Add(NpyName(source), t)
		return finite(s, nil)
	}
	return nil, errors.New(source + ": unknown weight format (not .npy, TF.js, torch or safetensors)")
}

// IsSafetensors reports whether data has the safetensors structure: a
// little-endian header length n, then n bytes of a JSON object (padded with
// spaces) inside the file.
func IsSafetensors(data []byte) bool {
	if len(data) < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(data)
	if n < 2 || n > uint64(len(data)-8) {
		return false
	}
	hdr := bytes.TrimRight(data[8:8+n], " ")
	return len(hdr) >= 2 && hdr[0] == '{' && hdr[len(hdr)-1] == '}'
}

// finite refuses a set with a NaN or infinite weight, naming the file, the
// tensor and the first bad index: such weights make every score NaN.
func finite(s *Set, err error) (*Set, error) {
	if err != nil {
		return nil, err
	}
	for _, name := range s.Names() {
		d := Values(s.Tensors[name])
		for i, v := range d {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%s: tensor %q holds %v at index %d of %d: refusing non-finite weights", s.Source, name, v, i, len(d))
			}
		}
	}
	return s, nil
}

// regularFS is os.DirFS(dir) that opens only regular files and folders:
// a FIFO among the weight files would block the open for ever.
type regularFS struct{ fsys fs.FS }

func dirFS(dir string) fs.FS { return regularFS{os.DirFS(dir)} }

func (r regularFS) Open(name string) (fs.File, error) {
	fi, err := fs.Stat(r.fsys, name)
	if err != nil {
		return nil, err
	}
	if m := fi.Mode(); !m.IsRegular() && !m.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("not a regular file")}
	}
	return r.fsys.Open(name)
}
