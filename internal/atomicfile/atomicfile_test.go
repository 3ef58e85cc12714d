package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "a.txt")
	for _, s := range []string{"first", "second"} {
		if err := WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != s {
			t.Fatalf("read %q, %v; want %q", b, err, s)
		}
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	if n := entries(t, filepath.Dir(p)); len(n) != 1 {
		t.Errorf("folder holds %v, want only a.txt", n)
	}
}

func TestFailedWriteKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	os.WriteFile(p, []byte("old"), 0o644)
	boom := errors.New("boom")
	err := Write(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) {
		t.Fatalf("err %v, want boom naming %s", err, p)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("file holds %q, want the old content", b)
	}
	if n := entries(t, dir); len(n) != 1 {
		t.Errorf("folder holds %v, want only a.txt", n)
	}
}

func TestRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(outside, []byte("keep"), 0o644)
	p := filepath.Join(dir, "a.png")
	if err := os.Symlink(outside, p); err != nil {
		t.Skip(err)
	}
	err := WriteFile(p, []byte("evil"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("err %v, want a symbolic link refusal", err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("the link's target was overwritten: %q", b)
	}
	// A link planted while the file is being written is refused too.
	q := filepath.Join(dir, "b.png")
	f, err := Create(q, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	os.Symlink(outside, q)
	if err := f.Commit(); err == nil {
		t.Error("commit over a planted link succeeded")
	}
	if n := entries(t, dir); len(n) != 2 {
		t.Errorf("folder holds %v, want the two links only", n)
	}
	if err := WriteFile(dir, []byte("x"), 0o644); err == nil {
		t.Error("writing over a folder succeeded")
	}
}
