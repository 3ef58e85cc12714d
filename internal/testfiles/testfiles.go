// Package testfiles writes the small file trees that tests build and reads
// the fixtures and shared data they check against.
package testfiles

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Write writes each body under root at its slash-separated name, creating
// the folders on the way.
func Write(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// DataDirIfSet returns the shared data folder ($POSPROBE_DATA: weights and
// photos), "" when it is not set.
func DataDirIfSet() string { return os.Getenv("POSPROBE_DATA") }

// DataDir returns the shared data folder, or skips the test when it is not
// set.
func DataDir(t testing.TB) string {
	t.Helper()
	d := DataDirIfSet()
	if d == "" {
		t.Skip("POSPROBE_DATA not set: shared weights and photos unavailable")
	}
	return d
}

// ReadJSON decodes the JSON file at path into v; a missing or malformed file
// fails the test.
func ReadJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
