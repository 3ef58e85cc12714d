package nn

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestPadFullMatchesTorch checks F-Conv (PadFull) against PyTorch's
// F.conv2d(F.pad(x, k-1)) on the GEMM, Winograd-eligible and grouped paths:
// max |diff| <= 1e-4 of max |y|.
func TestPadFullMatchesTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/padfull_torch.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			K, Stride, Groups, In, Out, H, W int
			X, W_, B, Y                      []float32
			Shape                            []int
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, wino := range []string{"off", "on"} {
		prev := WinogradMode()
		if err := SetWinogradMode(wino); err != nil {
			t.Fatal(err)
		}
		for _, c := range f.Cases {
			cv := &Conv2D{InC: c.In, OutC: c.Out, KH: c.K, KW: c.K, Stride: c.Stride, Pad: c.K / 2, Groups: c.Groups, Mode: PadFull, W: c.W_, B: c.B}
			if cv.Applied() != c.K-1 {
				t.Fatalf("k=%d: full padding applies %d, want %d", c.K, cv.Applied(), c.K-1)
			}
			y := cv.Forward(FromData(c.X, 2, c.In, c.H, c.W))
			n, oc, oh, ow := Dims4(y)
			if n != c.Shape[0] || oc != c.Shape[1] || oh != c.Shape[2] || ow != c.Shape[3] {
				t.Fatalf("k=%d s=%d: shape %v, torch %v", c.K, c.Stride, []int{n, oc, oh, ow}, c.Shape)
			}
			d, m := 0.0, 0.0
			for i, v := range Data(y) {
				d = math.Max(d, math.Abs(float64(v-c.Y[i])))
				m = math.Max(m, math.Abs(float64(c.Y[i])))
			}
			if d > 1e-4*m {
				t.Errorf("winograd %s, k=%d s=%d g=%d: max |diff| %.3g (max |y| %.3g)", wino, c.K, c.Stride, c.Groups, d, m)
			}
		}
		SetWinogradMode(prev)
	}
}

// TestPadFullKeepsValidConvs: a conv with nominal padding 0 stays valid, and
// the name round-trips.
func TestPadFullKeepsValidConvs(t *testing.T) {
	c := &Conv2D{InC: 1, OutC: 1, KH: 3, KW: 3, Stride: 2, Pad: 0, Mode: PadFull, W: make([]float32, 9)}
	if c.Applied() != 0 {
		t.Fatalf("valid conv pads %d in full mode", c.Applied())
	}
	if m, err := ParsePadMode("full"); err != nil || m != PadFull || m.String() != "full" {
		t.Fatalf("ParsePadMode(full) = %v, %v", m, err)
	}
	r := &Conv2D{InC: 1, OutC: 1, KH: 3, KW: 1, Pad: 1, Mode: PadFull, W: make([]float32, 3)}
	if r.Check() == nil {
		t.Fatal("a 3x1 kernel was accepted in full mode")
	}
}
