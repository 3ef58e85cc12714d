// Package testfiles writes the small file trees that tests build.
package testfiles

import (
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
