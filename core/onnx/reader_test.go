package onnx

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/nn"
	"google.golang.org/protobuf/encoding/protowire"
)

// Builders of small ModelProtos for the tests.

func pbBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func pbVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func pbNode(op, name string, in, out []string, attrs ...[]byte) []byte {
	var b []byte
	for _, s := range in {
		b = pbBytes(b, 1, []byte(s))
	}
	for _, s := range out {
		b = pbBytes(b, 2, []byte(s))
	}
	b = pbBytes(b, 3, []byte(name))
	b = pbBytes(b, 4, []byte(op))
	for _, a := range attrs {
		b = pbBytes(b, 5, a)
	}
	return b
}

func pbTensor(name string, dims []int64, f []float32) []byte {
	var b []byte
	for _, d := range dims {
		b = pbVarint(b, 1, uint64(d))
	}
	b = pbVarint(b, 2, TypeFloat)
	b = pbBytes(b, 8, []byte(name))
	var raw []byte
	for _, v := range f {
		raw = protowire.AppendFixed32(raw, math.Float32bits(v))
	}
	return pbBytes(b, 9, raw)
}

func pbValueInfo(name string) []byte { return pbBytes(nil, 1, []byte(name)) }

// pbModel is a model with one input "x", the nodes and initializers, and
// the outputs.
func pbModel(nodes, inits [][]byte, outs ...string) []byte {
	var g []byte
	for _, n := range nodes {
		g = pbBytes(g, 1, n)
	}
	for _, t := range inits {
		g = pbBytes(g, 5, t)
	}
	g = pbBytes(g, 11, pbValueInfo("x"))
	for _, o := range outs {
		g = pbBytes(g, 12, pbValueInfo(o))
	}
	var m []byte
	m = pbVarint(m, 1, 8)
	m = pbBytes(m, 7, g)
	return pbBytes(m, 8, pbVarint(nil, 2, 13))
}

func TestUnsupportedOperatorNamesNodeAndOp(t *testing.T) {
	b := pbModel([][]byte{pbNode("Relu", "r", []string{"x"}, []string{"y"}), pbNode("GridSample", "warp", []string{"y"}, []string{"z"})}, nil, "z")
	m, err := ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(m, nn.PadZero)
	if err == nil || !strings.Contains(err.Error(), `"warp"`) || !strings.Contains(err.Error(), "GridSample") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v: want one line naming node warp and GridSample", err)
	}
}

func TestHostileFiles(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(fixtures, "resnet", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	huge := pbModel(nil, [][]byte{pbTensor("w", []int64{1 << 20, 1 << 20}, nil)}, "x")
	short := pbModel(nil, [][]byte{pbTensor("w", []int64{4, 4}, []float32{1, 2})}, "x")
	cases := map[string][]byte{
		"empty":          {},
		"garbage":        []byte("this is not an onnx file at all, just text\n"),
		"truncated":      good[:len(good)/2],
		"huge tensor":    huge,
		"short tensor":   short,
		"deep varint":    {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"no graph":       pbVarint(nil, 1, 8),
		"cycle":          pbModel([][]byte{pbNode("Relu", "a", []string{"z"}, []string{"y"}), pbNode("Relu", "b", []string{"y"}, []string{"z"})}, nil, "z"),
		"missing output": pbModel([][]byte{pbNode("Relu", "a", []string{"x"}, []string{"y"})}, nil, "nope"),
		"conv no weight": pbModel([][]byte{pbNode("Conv", "c", []string{"x", "w"}, []string{"y"})}, nil, "y"),
		"huge constant": pbModel([][]byte{pbNode("Constant", "k", nil, []string{"s"}, pbInts("value_ints", 1<<15, 1<<15)),
			pbNode("ConstantOfShape", "big", []string{"s"}, []string{"y"})}, nil, "y"),
	}
	for name, b := range cases {
		m, err := ParseModel(b)
		if err == nil {
			_, err = Compile(m, nn.PadZero)
		}
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestExternalDataStaysInFolder(t *testing.T) {
	dir := t.TempDir()
	var tb []byte
	tb = pbVarint(tb, 1, 2)
	tb = pbVarint(tb, 2, TypeFloat)
	tb = pbBytes(tb, 8, []byte("w"))
	tb = pbBytes(tb, 13, pbBytes(pbBytes(nil, 1, []byte("location")), 2, []byte("../secret.bin")))
	tb = pbVarint(tb, 14, 1)
	b := pbModel(nil, [][]byte{tb}, "x")
	p := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("error %v, want the location refused", err)
	}
	// A data file too short for the tensor.
	tb = pbVarint(nil, 1, 4)
	tb = pbVarint(tb, 2, TypeFloat)
	tb = pbBytes(tb, 8, []byte("w"))
	tb = pbBytes(tb, 13, pbBytes(pbBytes(nil, 1, []byte("location")), 2, []byte("w.bin")))
	tb = pbVarint(tb, 14, 1)
	os.WriteFile(p, pbModel(nil, [][]byte{tb}, "x"), 0o644)
	os.WriteFile(filepath.Join(dir, "w.bin"), make([]byte, 8), 0o644)
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), "needs 16") {
		t.Fatalf("error %v, want a short data file named", err)
	}
}

func TestRunErrorsAreErrors(t *testing.T) {
	// A 7x7 conv on a 3x3 input without padding: an error, not a panic.
	w := make([]float32, 2*3*7*7)
	b := pbModel([][]byte{pbNode("Conv", "big", []string{"x", "w"}, []string{"y"})}, [][]byte{pbTensor("w", []int64{2, 3, 7, 7}, w)}, "y")
	net := compileModel(t, b, nn.PadZero)
	if _, err := net.Run(nn.NewArena(), nn.New(1, 3, 3, 3), []string{"y"}); err == nil || !strings.Contains(err.Error(), `"big"`) {
		t.Fatalf("error %v, want one naming node big", err)
	}
	if _, err := net.Run(nil, nn.New(1, 4, 9, 9), []string{"y"}); err == nil {
		t.Fatal("4-channel input accepted by a 3-channel conv")
	}
}

// FuzzParseModel: any bytes give a model or an error, never a panic, and a
// model compiles or errors likewise.
func FuzzParseModel(f *testing.F) {
	for _, name := range []string{"vgg", "misc"} {
		if b, err := os.ReadFile(filepath.Join(fixtures, name, "model.onnx")); err == nil {
			f.Add(b)
		}
	}
	f.Add(pbModel([][]byte{pbNode("Relu", "r", []string{"x"}, []string{"y"})}, nil, "y"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseModel(b)
		if err != nil {
			return
		}
		if net, err := Compile(m, nn.PadZero); err == nil {
			net.Run(nil, nn.New(1, 3, 8, 8), net.Outputs)
		}
	})
}

func pbInts(name string, v ...int64) []byte {
	b := pbBytes(nil, 1, []byte(name))
	for _, x := range v {
		b = pbVarint(b, 8, uint64(x))
	}
	return pbVarint(b, 20, 7)
}

// TestSurgeryCropsResiduals: with --padding none a padded 3x3 conv shrinks
// its map by 2, and the residual Add centre-crops the skip to match; with
// reflect it pads by reflection.
func TestSurgeryCropsResiduals(t *testing.T) {
	w := make([]float32, 9)
	w[4] = 2 // centre tap: conv(x) = 2x with zero padding inside
	w[0] = 1 // top-left tap: shows the border rule
	b := pbModel([][]byte{
		pbNode("Conv", "c", []string{"x", "w"}, []string{"y"}, pbInts("pads", 1, 1, 1, 1)),
		pbNode("Add", "res", []string{"y", "x"}, []string{"z"}),
	}, [][]byte{pbTensor("w", []int64{1, 1, 3, 3}, w)}, "z")
	m, err := ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	x := nn.New(1, 1, 4, 5)
	for i, d := 0, nn.Data(x); i < len(d); i++ {
		d[i] = float32(i + 1)
	}
	at := func(y, x0 int) float32 { return nn.Data(x)[y*5+x0] }
	for _, c := range []struct {
		mode nn.PadMode
		h, w int
		want func(y, x int) float32
	}{
		{nn.PadZero, 4, 5, func(y, x int) float32 {
			tl := float32(0)
			if y > 0 && x > 0 {
				tl = at(y-1, x-1)
			}
			return 3*at(y, x) + tl
		}},
		{nn.PadNone, 2, 3, func(y, x int) float32 { return 3*at(y+1, x+1) + at(y, x) }},
		{nn.PadReflect, 4, 5, func(y, x int) float32 {
			ry, rx := y-1, x-1
			if ry < 0 {
				ry = 1
			}
			if rx < 0 {
				rx = 1
			}
			return 3*at(y, x) + at(ry, rx)
		}},
	} {
		net, err := Compile(m, c.mode)
		if err != nil {
			t.Fatal(err)
		}
		out, err := net.Run(nn.NewArena(), x, []string{"z"})
		if err != nil {
			t.Fatalf("%s: %v", c.mode, err)
		}
		if s := out[0].Shape(); s[2] != c.h || s[3] != c.w {
			t.Fatalf("%s: shape %v, want %dx%d", c.mode, s, c.h, c.w)
		}
		for y := 0; y < c.h; y++ {
			for xx := 0; xx < c.w; xx++ {
				if g, want := nn.Data(out[0])[y*c.w+xx], c.want(y, xx); g != want {
					t.Errorf("%s: z[%d,%d] = %g, want %g", c.mode, y, xx, g, want)
				}
			}
		}
	}
}

// TestSurgeryCropsConcat: a channel Concat crops every input to the smallest
// map, sides of 1 included (no broadcasting there).
func TestSurgeryCropsConcat(t *testing.T) {
	w := make([]float32, 9)
	b := pbModel([][]byte{
		pbNode("Conv", "c", []string{"x", "w"}, []string{"y"}, pbInts("pads", 1, 1, 1, 1)),
		pbNode("Concat", "cat", []string{"x", "y"}, []string{"z"}, append(pbBytes(nil, 1, []byte("axis")), pbVarint(pbVarint(nil, 3, 1), 20, 2)...)),
	}, [][]byte{pbTensor("w", []int64{1, 1, 3, 3}, w)}, "z")
	net := compileModel(t, b, nn.PadNone)
	for _, c := range [][4]int{{4, 5, 2, 3}, {3, 5, 1, 3}} {
		x := nn.New(1, 1, c[0], c[1])
		for i, d := 0, nn.Data(x); i < len(d); i++ {
			d[i] = float32(i + 1)
		}
		out, err := net.Run(nil, x, []string{"z"})
		if err != nil {
			t.Fatal(err)
		}
		if s := out[0].Shape(); s[1] != 2 || s[2] != c[2] || s[3] != c[3] {
			t.Fatalf("input %dx%d: shape %v, want [1 2 %d %d]", c[0], c[1], s, c[2], c[3])
		}
		// The first channel is x's centre (offset 1, 1).
		if g := nn.Data(out[0])[0]; g != float32(1*c[1]+1+1) {
			t.Errorf("input %dx%d: z[0,0,0,0] = %g, want x[1,1] = %d", c[0], c[1], g, c[1]+2)
		}
	}
}

// compileModel parses and compiles the model b.
func compileModel(t *testing.T, b []byte, mode nn.PadMode) *Net {
	t.Helper()
	m, err := ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	net, err := Compile(m, mode)
	if err != nil {
		t.Fatal(err)
	}
	return net
}
