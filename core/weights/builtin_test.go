//go:build !js

package weights

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/testfiles"
)

// Without a data folder or a cached copy, squeezenet1.1 resolves to the
// committed float16 file, which Load reads; an encoder without a committed
// file is still missing.
func TestResolveBuiltin(t *testing.T) {
	f, err := Resolve(context.Background(), "squeezenet1.1", Options{CacheDir: t.TempDir()})
	if err != nil || f.Where != WhereBuiltin || !strings.HasPrefix(f.Path, BuiltinPrefix) {
		t.Fatalf("Resolve = %+v, %v; want the builtin copy", f, err)
	}
	set, err := Load(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Tensors) != 52 {
		t.Errorf("%d tensors, want 52", len(set.Tensors))
	}
	if f, err := Resolve(context.Background(), "vgg16", Options{CacheDir: t.TempDir()}); err == nil || f.Where != WhereMissing {
		t.Errorf("vgg16 without a copy: %+v, %v", f, err)
	}
	if _, err := Load(BuiltinPrefix + "weights/none.safetensors"); err == nil {
		t.Error("an unknown builtin path loaded")
	}
}

// The committed file is the data folder's float32 tensors rounded to
// float16, bit for bit.
func TestBuiltinMatchesData(t *testing.T) {
	data := testfiles.DataDir(t)
	f32, err := LoadNpyDir(data + "/weights/squeezenet1.1/weights")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := builtinPath("squeezenet1.1")
	f16, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	RoundF16(f32)
	if len(f16.Tensors) != len(f32.Tensors) {
		t.Fatalf("%d tensors, data has %d", len(f16.Tensors), len(f32.Tensors))
	}
	for name, want := range f32.Tensors {
		got := f16.Tensors[name]
		if got == nil || got.Len() != want.Len() {
			t.Fatalf("tensor %s missing or resized", name)
		}
		for i, v := range Values(want) {
			if g := Values(got)[i]; math.Float32bits(g) != math.Float32bits(v) {
				t.Fatalf("%s[%d] = %g, data rounded to float16 = %g", name, i, g, v)
			}
		}
	}
}
