package weights

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"runtime"
	"strings"
	"testing"
)

// Each committed weight file matches the digest in Builtins and in its
// folder's SHA256SUMS, and the embedded bytes are that file.
func TestBuiltinsSHA256(t *testing.T) {
	for _, b := range Builtins {
		file, err := os.ReadFile(b.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(file)
		if got := hex.EncodeToString(sum[:]); got != b.SHA256 {
			t.Errorf("%s: sha256 %s, Builtins says %s", b.Path, got, b.SHA256)
		}
		if data := BuiltinData(b); runtime.GOOS != "js" && !bytes.Equal(data, file) {
			t.Errorf("%s: embedded copy (%d bytes) differs from the file (%d bytes)", b.Path, len(data), len(file))
		}
		sums, err := os.Open(path.Join(path.Dir(b.Path), "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		sc := bufio.NewScanner(sums)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 2 && strings.TrimPrefix(f[1], "*") == path.Base(b.Path) {
				found = true
				if f[0] != b.SHA256 {
					t.Errorf("%s: SHA256SUMS says %s, Builtins %s", b.Path, f[0], b.SHA256)
				}
			}
		}
		sums.Close()
		if !found {
			t.Errorf("%s is not listed in its SHA256SUMS", b.Path)
		}
		for _, need := range []string{"LICENSE", "ATTRIBUTION", "README.md"} {
			if _, err := os.Stat(path.Join(path.Dir(b.Path), need)); err != nil {
				t.Errorf("%s: %v", b.Path, err)
			}
		}
	}
}
