package weights

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A 4 Mi-float set (16 MiB) in each writable format.
func benchSet() *Set {
	s := NewSet("bench")
	for i, shape := range [][]int{{512, 512, 3, 3}, {512}, {1000, 512}, {256, 256, 3, 3}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		x := make([]float32, n)
		for j := range x {
			x[j] = float32(j%977) * 0.001
		}
		s.Add(string(rune('a'+i)), newTensor(shape, x))
	}
	return s
}

func BenchmarkParseSafetensors(b *testing.B) {
	var buf bytes.Buffer
	WriteSafetensors(&buf, benchSet())
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := ParseSafetensors(buf.Bytes(), "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadNpy(b *testing.B) {
	var buf bytes.Buffer
	WriteNpy(&buf, benchSet().Tensors["a"])
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := ReadNpy(bytes.NewReader(buf.Bytes()), "bench.npy"); err != nil {
			b.Fatal(err)
		}
	}
}

// The transposed view of the torch fixture, scaled up: strided gathering.
func BenchmarkMaterializeTransposed(b *testing.B) {
	const r, c = 1024, 1024
	st := &pthStorage{key: "0", typ: storageTypes["FloatStorage"], numel: r * c, data: make([]byte, 4*r*c)}
	x := &pthTensor{storage: st, size: []int{c, r}, stride: []int{1, c}}
	b.SetBytes(4 * r * c)
	for b.Loop() {
		if _, err := x.materialize(4 * r * c); err != nil {
			b.Fatal(err)
		}
	}
}

// 600 small tensors (BatchNorm-sized, 64 floats): the per-tensor cost of a
// load, as in a ResNet checkpoint.
func BenchmarkParseSafetensorsMany(b *testing.B) {
	s := NewSet("bench")
	for i := 0; i < 600; i++ {
		s.Add(fmt.Sprint("bn", i), newTensor([]int{64}, make([]float32, 64)))
	}
	var buf bytes.Buffer
	WriteSafetensors(&buf, s)
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := ParseSafetensors(buf.Bytes(), "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// Real loads: the ResNet-50 v2 folder (249 .npy files, 38 MB, from
// POSPROBE_DATA) and the committed float16 SqueezeNet 1.1 (52 tensors).
func BenchmarkLoadNpyDirResNet50v2(b *testing.B) {
	dir := filepath.Join(os.Getenv("POSPROBE_DATA"), "weights", "resnet50v2", "weights")
	if _, err := os.Stat(dir); err != nil {
		b.Skip("POSPROBE_DATA has no resnet50v2 weights")
	}
	for b.Loop() {
		if _, err := LoadNpyDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadBuiltinSqueezeNet(b *testing.B) {
	p, _ := builtinPath("squeezenet1.1")
	if _, err := Load(p); err != nil {
		b.Skip(err) // js/wasm links no committed copy
	}
	for b.Loop() {
		if _, err := Load(p); err != nil {
			b.Fatal(err)
		}
	}
}
