package nn

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// Fixtures come from testdata/gen/nn_reference.py (PyTorch 1.13, Pillow 9.4).
const fixtureDir = "../../testdata/nn"

// tolerance for float layers against PyTorch: absolute, on values of order 1.
const tol = 1e-5

type npyArray struct {
	shape []int
	f32   []float32
	u8    []uint8
}

var npyHeader = regexp.MustCompile(`'descr':\s*'([^']+)'.*'fortran_order':\s*(True|False).*'shape':\s*\(([^)]*)\)`)

// readNpy reads a C-order '<f4' or '|u1' .npy file (format 1.x).
func readNpy(path string) (*npyArray, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" || b[6] != 1 {
		return nil, fmt.Errorf("%s: not a version 1 .npy file", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if len(b) < 10+hl {
		return nil, fmt.Errorf("%s: truncated header", path)
	}
	m := npyHeader.FindStringSubmatch(string(b[10 : 10+hl]))
	if m == nil || m[2] != "False" {
		return nil, fmt.Errorf("%s: unsupported header %q", path, b[10:10+hl])
	}
	a := &npyArray{}
	n := 1
	for _, f := range strings.Split(m[3], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s: bad shape %q", path, m[3])
		}
		a.shape = append(a.shape, d)
		n *= d
	}
	body := b[10+hl:]
	switch m[1] {
	case "<f4":
		if len(body) != 4*n {
			return nil, fmt.Errorf("%s: %d data bytes for %d float32", path, len(body), n)
		}
		a.f32 = make([]float32, n)
		for i := range a.f32 {
			a.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
		}
	case "|u1":
		if len(body) != n {
			return nil, fmt.Errorf("%s: %d data bytes for %d uint8", path, len(body), n)
		}
		a.u8 = body
	default:
		return nil, fmt.Errorf("%s: dtype %s not supported", path, m[1])
	}
	return a, nil
}

type fixCase struct {
	Op, Name, X, Mode, Input          string
	InC, OutC, K, Stride, Pad, Groups int
	Ceil, Cip, AlignCorners           bool
	Eps, Slope, SoftmaxScale          float64
	Shape, Rows                       []int
	Oh, Ow, W, H, C, T, B, L, R       int
}

func loadCases(t *testing.T) []fixCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "cases.json"))
	if err != nil {
		t.Fatalf("fixtures missing (run /usr/bin/python3 testdata/gen/nn_reference.py): %v", err)
	}
	var doc struct{ Cases []fixCase }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("no cases in cases.json")
	}
	return doc.Cases
}

func load(t *testing.T, name, field string) *npyArray {
	t.Helper()
	a, err := readNpy(filepath.Join(fixtureDir, name+"."+field+".npy"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func loadT(t *testing.T, name, field string) []float32 {
	t.Helper()
	a := load(t, name, field)
	if a.f32 == nil {
		t.Fatalf("%s.%s: want float32", name, field)
	}
	return a.f32
}

func tensorOf(t *testing.T, name, field string) (data []float32, shape []int) {
	a := load(t, name, field)
	return a.f32, a.shape
}

// closeAll reports the first element differing by more than tol and returns
// the largest difference.
func closeAll(t *testing.T, what string, got, want []float32) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want))
		return math.Inf(1)
	}
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i] - want[i]))
		if !(d <= tol) { // NaN fails too
			t.Errorf("%s: [%d] = %g, want %g (diff %.3g > %g)", what, i, got[i], want[i], d, tol)
			return d
		}
		worst = max(worst, d)
	}
	t.Logf("%s: max |diff| %.2g over %d values", what, worst, len(want))
	return worst
}

func shapeEq(a, b []int) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// patternInput mirrors pattern() in nn_reference.py.
func patternInput(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(float64((i*7919)%1009) / 1009)
	}
	return s
}

// hashImage and gradImage mirror hashimg() / gradimg() in nn_reference.py.
func hashImage(w, h, c int) []uint8 {
	s := make([]uint8, w*h*c)
	for i := range s {
		s[i] = uint8((uint32(i) * 2654435761) >> 13)
	}
	return s
}

func gradImage(w, h, c int) []uint8 {
	hs := hashImage(w, h, c)
	s := make([]uint8, w*h*c)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for ch := 0; ch < c; ch++ {
				i := (y*w+x)*c + ch
				v := x*255/(w-1) + y*255/(h-1) + 85*ch + int(hs[i]>>3)%16
				s[i] = uint8(v % 256)
			}
		}
	}
	return s
}

// pickRows keeps rows (axis -2 of an [..., H, W] layout with `inner` values per
// row, H rows per plane) listed in rows.
func pickRows(d []float32, planes, h, inner int, rows []int) []float32 {
	out := make([]float32, 0, planes*len(rows)*inner)
	for p := 0; p < planes; p++ {
		for _, r := range rows {
			out = append(out, d[(p*h+r)*inner:(p*h+r+1)*inner]...)
		}
	}
	return out
}

func TestFixtures(t *testing.T) {
	seen := map[string]int{}
	for _, c := range loadCases(t) {
		seen[c.Op]++
		t.Run(c.Name, func(t *testing.T) { runCase(t, c) })
	}
	for _, op := range []string{"conv", "bn", "act", "maxpool", "avgpool", "gap", "bilinear", "pil", "pad", "crop", "linear"} {
		if seen[op] == 0 {
			t.Errorf("no fixture cases for %s", op)
		}
	}
}

func runCase(t *testing.T, c fixCase) {
	switch c.Op {
	case "conv":
		xd, xs := tensorOf(t, c.X, "x")
		mode, err := ParsePadMode(c.Mode)
		if err != nil {
			t.Fatal(err)
		}
		conv := &Conv2D{InC: c.InC, OutC: c.OutC, KH: c.K, KW: c.K, Stride: c.Stride, Pad: c.Pad,
			Groups: c.Groups, Mode: mode, W: loadT(t, c.Name, "w")}
		if _, err := os.Stat(filepath.Join(fixtureDir, c.Name+".b.npy")); err == nil {
			conv.B = loadT(t, c.Name, "b")
		}
		y, ys := tensorOf(t, c.Name, "y")
		got := conv.Forward(FromData(xd, xs...))
		if !shapeEq(got.Shape(), ys) {
			t.Fatalf("shape %v, want %v", got.Shape(), ys)
		}
		closeAll(t, "conv", Data(got), y)
		// again with one output row per im2col band
		defer func(v int) { colBandValues = v }(colBandValues)
		colBandValues = 1
		closeAll(t, "conv, banded", Data(conv.Forward(FromData(xd, xs...))), y)
	case "bn":
		x, xs := tensorOf(t, "bn", "x")
		bn := &BatchNorm{Gamma: loadT(t, "bn", "gamma"), Beta: loadT(t, "bn", "beta"),
			Mean: loadT(t, "bn", "mean"), Var: loadT(t, "bn", "var"), Eps: float32(c.Eps)}
		in := append([]float32(nil), x...)
		out := bn.Forward(FromData(in, xs...))
		if &Data(out)[0] != &in[0] {
			t.Error("BatchNorm.Forward did not work in place")
		}
		closeAll(t, "bn", in, loadT(t, "bn", "y"))
		conv := &Conv2D{InC: xs[1], OutC: xs[1], KH: 3, KW: 3, Pad: 1, W: loadT(t, "bn", "cw"), B: loadT(t, "bn", "cb")}
		bn.FoldInto(conv)
		closeAll(t, "conv+bn folded", Data(conv.Forward(FromData(x, xs...))), loadT(t, "bn", "convbn"))
	case "act":
		x, xs := tensorOf(t, "act", "x")
		for _, f := range []struct {
			name string
			fn   func(*tensor.Dense) *tensor.Dense
		}{
			{"relu", ReLU}, {"relu6", ReLU6},
			{"leaky", func(x *tensor.Dense) *tensor.Dense { return LeakyReLU(x, float32(c.Slope)) }},
		} {
			in := FromData(append([]float32(nil), x...), xs...)
			closeAll(t, f.name, Data(f.fn(in)), loadT(t, "act", f.name))
		}
	case "maxpool", "avgpool":
		x, xs := tensorOf(t, c.Name, "x")
		y, ys := tensorOf(t, c.Name, "y")
		var got *tensor.Dense
		if c.Op == "maxpool" {
			got = MaxPool2D(FromData(x, xs...), c.K, c.Stride, c.Pad, c.Ceil)
		} else {
			got = AvgPool2D(FromData(x, xs...), c.K, c.Stride, c.Pad, c.Ceil, c.Cip)
		}
		if !shapeEq(got.Shape(), ys) {
			t.Fatalf("shape %v, want %v", got.Shape(), ys)
		}
		closeAll(t, c.Op, Data(got), y)
	case "gap":
		x, xs := tensorOf(t, "gap", "x")
		y, ys := tensorOf(t, "gap", "y")
		got := GlobalAvgPool(FromData(x, xs...))
		if !shapeEq(got.Shape(), ys) {
			t.Fatalf("shape %v, want %v", got.Shape(), ys)
		}
		closeAll(t, "gap", Data(got), y)
	case "bilinear":
		var x []float32
		if c.Input == "pattern" {
			x = patternInput(c.Shape[0] * c.Shape[1] * c.Shape[2] * c.Shape[3])
		} else {
			x = loadT(t, c.Name, "x")
		}
		got := ResizeBilinear(FromData(x, c.Shape...), c.Oh, c.Ow, c.AlignCorners)
		if !shapeEq(got.Shape(), []int{c.Shape[0], c.Shape[1], c.Oh, c.Ow}) {
			t.Fatalf("shape %v", got.Shape())
		}
		closeAll(t, "bilinear", pickRows(Data(got), c.Shape[0]*c.Shape[1], c.Oh, c.Ow, c.Rows), loadT(t, c.Name, "y"))
	case "pil":
		var src []uint8
		switch c.Input {
		case "hash":
			src = hashImage(c.W, c.H, c.C)
		case "grad":
			src = gradImage(c.W, c.H, c.C)
		default:
			src = load(t, c.Name, "x").u8
		}
		want := load(t, c.Name, "y").u8
		got := ResizePIL(src, c.W, c.H, c.C, c.Ow, c.Oh)
		if len(got) != c.Ow*c.Oh*c.C {
			t.Fatalf("%d bytes, want %d", len(got), c.Ow*c.Oh*c.C)
		}
		row := c.Ow * c.C
		diff, worst := 0, 0
		for i, r := range c.Rows {
			g, w := got[r*row:(r+1)*row], want[i*row:(i+1)*row]
			for j := range w {
				if d := int(g[j]) - int(w[j]); d != 0 {
					diff++
					worst = max(worst, d, -d)
				}
			}
		}
		if diff != 0 {
			t.Errorf("%d of %d bytes differ from Pillow, max %d levels", diff, len(want), worst)
		}
	case "pad":
		x, xs := tensorOf(t, c.X, "x")
		mode, err := ParsePadMode(c.Mode)
		if err != nil {
			t.Fatal(err)
		}
		y, ys := tensorOf(t, c.Name, "y")
		got := Pad2D(FromData(x, xs...), c.T, c.B, c.L, c.R, mode)
		if !shapeEq(got.Shape(), ys) {
			t.Fatalf("shape %v, want %v", got.Shape(), ys)
		}
		closeAll(t, "pad", Data(got), y)
	case "crop":
		x, xs := tensorOf(t, c.X, "x")
		closeAll(t, "crop", Data(CenterCrop(FromData(x, xs...), c.H, c.W)), loadT(t, c.Name, "y"))
	case "linear":
		x, xs := tensorOf(t, "linear", "x")
		w, ws := tensorOf(t, "linear", "w")
		l := &Linear{In: ws[1], Out: ws[0], W: w, B: loadT(t, "linear", "b")}
		got := l.Forward(FromData(x, xs...))
		closeAll(t, "linear", Data(got), loadT(t, "linear", "y"))
		sm := loadT(t, "linear", "softmax")
		d := Data(got)
		for b := 0; b < xs[0]; b++ {
			row := d[b*l.Out : (b+1)*l.Out]
			for i := range row {
				row[i] *= float32(c.SoftmaxScale)
			}
			closeAll(t, "softmax", Softmax(row), sm[b*l.Out:(b+1)*l.Out])
		}
	default:
		t.Fatalf("unknown op %q", c.Op)
	}
}
