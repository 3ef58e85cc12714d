package main

import (
	"testing"

	"github.com/posprobe/posprobe/internal/testfiles"
)

// writeFiles writes a small file tree under root (see testfiles.Write).
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	testfiles.Write(t, root, files)
}
