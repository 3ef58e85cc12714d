//go:build unix

package atomicfile

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSignalRemovesTemp runs this test binary as a child that opens a
// temporary file and waits; SIGTERM must end it and leave no file behind.
func TestSignalRemovesTemp(t *testing.T) {
	if dir := os.Getenv("ATOMICFILE_CHILD"); dir != "" {
		f, err := Create(filepath.Join(dir, "out.npy"), 0o644)
		if err != nil {
			os.Exit(3)
		}
		f.Write(make([]byte, 1<<20))
		os.Stdout.WriteString("ready\n")
		time.Sleep(time.Minute)
		os.Exit(4)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		dir := t.TempDir()
		cmd := startChild(t, "TestSignalRemovesTemp", "ATOMICFILE_CHILD="+dir)
		if n := entries(t, dir); len(n) != 1 {
			t.Fatalf("child's folder holds %v, want one temporary file", n)
		}
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != sig {
			t.Errorf("%v: child ended with %v, want killed by the signal", sig, err)
		}
		if n := entries(t, dir); len(n) != 0 {
			t.Errorf("%v: left %v", sig, n)
		}
	}
}

// TestSignalDuringChurn signals a child that writes and commits small files
// back to back, at random moments: whatever moment the signal hits (before a
// file is created, between writing and renaming, after the last commit), no
// temporary file is left. Before the handler was installed ahead of
// CreateTemp and the rename done under the lock, this left files behind.
func TestSignalDuringChurn(t *testing.T) {
	if dir := os.Getenv("ATOMICFILE_CHURN"); dir != "" {
		os.Stdout.WriteString("ready\n")
		for i := 0; ; i++ {
			WriteFile(filepath.Join(dir, "out"), []byte("x"), 0o644)
		}
	}
	for i := 0; i < 40; i++ {
		dir := t.TempDir()
		cmd := startChild(t, "TestSignalDuringChurn", "ATOMICFILE_CHURN="+dir)
		time.Sleep(time.Duration(i%7) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		for _, n := range entries(t, dir) {
			if n != "out" {
				t.Fatalf("run %d: left %s", i, n)
			}
		}
	}
}

// startChild runs this test binary's test name as a child with env set and
// returns once the child printed its ready line.
func startChild(t *testing.T, name, env string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$")
	cmd.Env = append(os.Environ(), env)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(out, make([]byte, 6)); err != nil {
		t.Fatal(err)
	}
	return cmd
}
