package onnx

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// ReadFile reads an ONNX model and the external data files its initializers
// name (looked up beside the model, never outside its folder).
func ReadFile(p string) (*Model, error) {
	dir, name := filepath.Split(p)
	if dir == "" {
		dir = "."
	}
	return ReadFS(os.DirFS(dir), name)
}

// ReadFS reads the model called name from fsys; external data files are
// resolved relative to name's folder within fsys. Errors name the file.
func ReadFS(fsys fs.FS, name string) (*Model, error) {
	b, err := readCapped(fsys, name, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m, err := ParseModel(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := loadExternal(fsys, path.Dir(name), m.Graph); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

func readCapped(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// loadExternal fills the initializers stored in external data files.
func loadExternal(fsys fs.FS, dir string, g *Graph) error {
	files := map[string][]byte{}
	var read, decoded int64 // bytes of data files read and of tensors decoded, each capped
	for _, t := range g.Initializers {
		e := t.External
		if e == nil {
			continue
		}
		loc := path.Join(dir, filepath.ToSlash(e.Location))
		if path.IsAbs(e.Location) || !fs.ValidPath(loc) || (dir != "." && !isUnder(loc, dir)) {
			return fmt.Errorf("tensor %q: external data location %q is outside the model's folder", t.Name, e.Location)
		}
		data, ok := files[loc]
		if !ok {
			var err error
			if data, err = readCapped(fsys, loc, MaxFileBytes); err != nil {
				return fmt.Errorf("tensor %q: external data: %w", t.Name, err)
			}
			if read += int64(len(data)); read > 2*MaxFileBytes {
				return fmt.Errorf("tensor %q: external data files over %d bytes in all", t.Name, 2*MaxFileBytes)
			}
			files[loc] = data
		}
		sz := elemSize(t.DataType)
		if sz == 0 {
			return fmt.Errorf("tensor %q: data type %d is not supported", t.Name, t.DataType)
		}
		n := int64(t.Elems()) * int64(sz)
		if e.Length >= 0 && e.Length != n {
			return fmt.Errorf("tensor %q: external length %d, dims need %d bytes", t.Name, e.Length, n)
		}
		if e.Offset > int64(len(data)) || n > int64(len(data))-e.Offset {
			return fmt.Errorf("tensor %q: external data %s has %d bytes, the tensor needs %d at offset %d", t.Name, e.Location, len(data), n, e.Offset)
		}
		if decoded += n; decoded > 2*MaxFileBytes {
			return fmt.Errorf("tensor %q: external tensors over %d bytes in all", t.Name, 2*MaxFileBytes)
		}
		if err := t.decodeRaw(data[e.Offset : e.Offset+n]); err != nil {
			return err
		}
		if err := t.check(); err != nil {
			return err
		}
		t.External = nil
	}
	return nil
}

func isUnder(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !(len(rel) > 2 && rel[:3] == "../")
}
