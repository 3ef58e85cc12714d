package demo

import (
	"fmt"
	"os"
	"testing"
)

// files serves a site from memory.
type files map[string][]byte

func (s files) Read(path string, _ func(done, total int64)) ([]byte, error) {
	if b, ok := s[path]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s: %w", path, os.ErrNotExist)
}

func TestReadManifest(t *testing.T) {
	m, err := ReadManifest(files{})
	if err != nil || m.Photo != DefaultPhoto || m.Readouts != nil {
		t.Errorf("no site.json: %+v %v", m, err)
	}
	m, err = ReadManifest(files{"site.json": []byte(`{"encoders":{"squeezenet1.1":"w.safetensors"},"readouts":["readouts/a"],"note":"n"}`)})
	if err != nil || m.Encoders["squeezenet1.1"] != "w.safetensors" || len(m.Readouts) != 1 || m.Photo != DefaultPhoto {
		t.Errorf("site.json: %+v %v", m, err)
	}
	if _, err := ReadManifest(files{"site.json": []byte(`{"readouts":`)}); err == nil {
		t.Error("truncated site.json accepted")
	}
}
