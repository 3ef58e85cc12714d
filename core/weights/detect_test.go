package weights

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repad rewrites a safetensors file with its header padded by spaces to
// exactly n bytes (n >= the JSON's length).
func repad(t testing.TB, st []byte, n int) []byte {
	h := binary.LittleEndian.Uint64(st)
	js := bytes.TrimRight(st[8:8+h], " ")
	if n < len(js) {
		t.Fatalf("header of %d bytes does not fit %d", len(js), n)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(n))
	out = append(out, js...)
	out = append(out, bytes.Repeat([]byte(" "), n-len(js))...)
	return append(out, st[8+h:]...)
}

// TestSafetensorsEveryHeaderLengthByte: a safetensors file is read as one
// whatever byte its header length starts with (0x80 was taken for a legacy
// torch pickle), both as the writer pads it (never to a 0x80 start) and
// padded by hand to every length.
func TestSafetensorsEveryHeaderLengthByte(t *testing.T) {
	seen := map[byte]bool{}
	for name := 1; name <= 300; name++ { // the writer's own files
		s := NewSet("x")
		s.Add(strings.Repeat("w", name), newTensor([]int{2}, []float32{1, -2}))
		var b bytes.Buffer
		if err := WriteSafetensors(&b, s); err != nil {
			t.Fatal(err)
		}
		seen[b.Bytes()[0]] = true
		got, err := Parse(b.Bytes(), fmt.Sprintf("n%d.safetensors", name))
		if err != nil || len(got.Tensors) != 1 {
			t.Fatalf("name of %d bytes, header length byte %#x: %v", name, b.Bytes()[0], err)
		}
	}
	if seen[0x80] {
		t.Error("the writer wrote a header length starting with 0x80 (it pads past it, so older readers do not take the file for a pickle)")
	}
	s := NewSet("x")
	s.Add("w", newTensor([]int{3}, []float32{1, 2, 3}))
	var b bytes.Buffer
	WriteSafetensors(&b, s)
	for lo := 0; lo < 256; lo++ {
		n := 256 + lo // every low byte, with room for the JSON
		data := repad(t, b.Bytes(), n)
		if data[0] != byte(lo) {
			t.Fatal("repad")
		}
		got, err := Parse(data, "p.safetensors")
		if err != nil {
			t.Fatalf("header length %#x: %v", n, err)
		}
		if w := got.Tensors["w"]; w == nil || Values(w)[2] != 3 {
			t.Fatalf("header length %#x: read %v", n, got.Tensors)
		}
	}
}

func TestNonFiniteWeightsRefused(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		s := NewSet("x")
		s.Add("features.0.weight", newTensor([]int{4}, []float32{1, 2, bad, 4}))
		s.Add("features.0.bias", newTensor([]int{1}, []float32{0}))
		var b bytes.Buffer
		WriteSafetensors(&b, s)
		p := filepath.Join(dir, "bad.safetensors")
		os.WriteFile(p, b.Bytes(), 0o644)
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "features.0.weight") || !strings.Contains(err.Error(), "index 2") {
			t.Errorf("%v: %v, want an error naming the file, the tensor and the index", bad, err)
		}
		var nb bytes.Buffer
		WriteNpy(&nb, s.Tensors["features.0.weight"])
		if _, err := Parse(nb.Bytes(), "w.npy"); err == nil || !strings.Contains(err.Error(), "w.npy") {
			t.Errorf(".npy with %v: %v", bad, err)
		}
	}
}

// FuzzParse: Parse never panics, names the source in errors, and reads
// every file that ParseSafetensors reads (the detection order).
func FuzzParse(f *testing.F) {
	s := NewSet("x")
	s.Add("w", newTensor([]int{2}, []float32{1, 2}))
	var b bytes.Buffer
	WriteSafetensors(&b, s)
	f.Add(b.Bytes())
	f.Add(repad(f, b.Bytes(), 0x180))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{0x80, 0x02, 0x8a, 0x0a})
	f.Add([]byte("\x93NUMPY\x01\x00{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data, "fuzz.bin")
		checkSet(t, got, err, "fuzz.bin", 1+len(data))
		if st, serr := ParseSafetensors(data, "fuzz.bin"); serr == nil {
			if _, ferr := finite(st, nil); ferr == nil && err != nil {
				t.Fatalf("a safetensors file is refused by Parse: %v", err)
			}
		}
	})
}
