//go:build unix

package weights

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFIFOsRefused: a named pipe among the weight files is an error naming
// it, not an open that blocks for ever.
func TestFIFOsRefused(t *testing.T) {
	for _, name := range []string{"model.json", "conv.weight.npy", "w.safetensors"} {
		dir := t.TempDir()
		p := filepath.Join(dir, name)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skip(err)
		}
		if name == "conv.weight.npy" {
			var b strings.Builder
			WriteNpy(&b, newTensor([]int{1}, []float32{1}))
			os.WriteFile(filepath.Join(dir, "a.npy"), []byte(b.String()), 0o644)
		}
		done := make(chan error, 2)
		go func() { _, err := Load(dir); done <- err }()
		go func() { _, err := Load(p); done <- err }()
		for i := 0; i < 2; i++ {
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), name) && !strings.Contains(err.Error(), "no model.json") {
					t.Errorf("%s: %v, want an error naming it", name, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: Load blocks on a FIFO", name)
			}
		}
	}
}
