package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// convert --dtype f16 writes F16 tensors equal to the source rounded to
// float16; an unknown dtype is a one-line error and writes nothing.
func TestWeightsConvertF16(t *testing.T) {
	w := setupToy(t)
	dst := filepath.Join(t.TempDir(), "toy16.safetensors")
	if out, err := runCLI(t, "weights", "convert", "--encoder", "toy", "--out", dst, "--download", "--dtype", "f8"); err == nil || !strings.Contains(err.Error(), "--dtype") {
		t.Fatalf("--dtype f8: %v\n%s", err, out)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Fatal("file written for a bad --dtype")
	}
	if out, err := runCLI(t, "weights", "convert", "--encoder", "toy", "--out", dst, "--download", "--dtype", "f16"); err != nil {
		t.Fatalf("convert --dtype f16: %v\n%s", err, out)
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	if !strings.Contains(string(data[8:8+n]), `"F16"`) || strings.Contains(string(data[8:8+n]), `"F32"`) {
		t.Fatalf("header is not all F16: %s", data[8:8+n])
	}
	checkConverted(t, w.cache, data, dst, true)
}
