package posmap

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/testfiles"
)

func at(m []float32, size, x, y int) float64 { return float64(m[y*size+x]) }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestMapsExactValues(t *testing.T) {
	const s = 224
	h, v := Map(H, s, Options{}), Map(V, s, Options{})
	g := Map(G, s, Options{})
	hs, vs := Map(HS, s, Options{}), Map(VS, s, Options{})
	hsPM := Map(HS, s, Options{Stripes: StripesPM1})
	cases := []struct {
		name string
		got  float64
		want float64
	}{
		{"H(0,5)", at(h, s, 0, 5), 0},
		{"H(223,9)", at(h, s, 223, 9), 1},
		{"H(100,0)", at(h, s, 100, 0), 100.0 / 223},
		{"V(7,0)", at(v, s, 7, 0), 0},
		{"V(3,223)", at(v, s, 3, 223), 1},
		{"V(0,50)", at(v, s, 0, 50), 50.0 / 223},
		{"G corner", at(g, s, 0, 0), 0},
		// u = (i+0.5)*256/224-0.5 is nearest 128 at i = 112 (u = 128.07),
		// so the maximum sits there and the minimum at (0,0) (u = 0.07).
		{"G max", at(g, s, 112, 112), 1},
		{"G far corner", at(g, s, 223, 223), gAt(223, 223)},
		{"G edge", at(g, s, 0, 111), gAt(0, 111)},
		// HS varies along y: 0.5*(1+cos(5π(y+0.5)/224))
		{"HS(0,0)", at(hs, s, 0, 0), 0.5 * (1 + math.Cos(5*math.Pi*0.5/224))},
		{"HS(200,44)", at(hs, s, 200, 44), 0.5 * (1 + math.Cos(5*math.Pi*44.5/224))},
		{"HS rows constant", at(hs, s, 0, 44) - at(hs, s, 223, 44), 0},
		{"VS(44,200)", at(vs, s, 44, 200), 0.5 * (1 + math.Cos(5*math.Pi*44.5/224))},
		{"VS columns constant", at(vs, s, 44, 0) - at(vs, s, 44, 223), 0},
		{"HS pm1", at(hsPM, s, 9, 44), math.Cos(5 * math.Pi * 44.5 / 224)},
	}
	for _, c := range cases {
		if !near(c.got, c.want) {
			t.Errorf("%s = %.7f, want %.7f", c.name, c.got, c.want)
		}
	}
	// Stripes: 3 bright bands, bright at the top, dark at the bottom.
	if at(hs, s, 0, 0) < 0.99 || at(hs, s, 0, 223) > 0.01 {
		t.Errorf("HS ends %.3f %.3f", at(hs, s, 0, 0), at(hs, s, 0, 223))
	}
}

// gAt computes G at one pixel from the formula, with the extremes at the
// pixels argued above (independent of Map's grid search).
func gAt(x, y float64) float64 {
	u := func(i float64) float64 { return (i+0.5)*256/224 - 0.5 - 128 }
	f := func(x, y float64) float64 { return math.Exp(-(u(x)*u(x) + u(y)*u(y)) / (2 * 128 * 128)) }
	lo, hi := f(0, 0), f(112, 112)
	return (f(x, y) - lo) / (hi - lo)
}

func TestParse(t *testing.T) {
	for _, tg := range AllTargets() {
		got, err := ParseTarget(tg.String())
		if err != nil || got != tg {
			t.Errorf("ParseTarget(%s) = %v, %v", tg, got, err)
		}
	}
	if tg, err := ParseTarget("hs"); err != nil || tg != HS {
		t.Errorf("lower case: %v %v", tg, err)
	}
	if _, err := ParseTarget("X"); err == nil {
		t.Error("ParseTarget(X): no error")
	}
	if r, err := ParseStripeRange("pm1"); err != nil || r != StripesPM1 {
		t.Error("pm1")
	}
	if _, err := ParseStripeRange("02"); err == nil {
		t.Error("02: no error")
	}
}

func TestSynthetic(t *testing.T) {
	b, _, err := Synthetic(Black, 8, nil)
	if err != nil || b.Pix[0] != 0 || b.Pix[3] != 255 {
		t.Fatalf("black: %v %v", err, b.Pix[:4])
	}
	w, _, _ := Synthetic(White, 8, nil)
	if w.Pix[5] != 255 {
		t.Fatal("white")
	}
	n, src, err := Synthetic(Noise, 224, nil)
	if err != nil || src == NoiseFile {
		t.Fatalf("fallback noise: %v %q", err, src)
	}
	mean := 0.0
	for i, v := range n.Pix {
		if i%4 != 3 {
			mean += float64(v)
		}
	}
	mean /= 224 * 224 * 3 * 255
	if math.Abs(mean-0.5) > 0.01 {
		t.Errorf("procedural noise mean %.4f, want 0.5", mean)
	}
	if _, _, err := Synthetic("grey", 8, nil); err == nil {
		t.Error("unknown synthetic: no error")
	}
}

func TestReferenceNoise(t *testing.T) {
	dir := testfiles.DataDir(t)
	n, src, err := Synthetic(Noise, 224, DataFS(dir))
	if err != nil || src != NoiseFile {
		t.Fatalf("reference noise: %v, source %q", err, src)
	}
	sum := 0.0
	for i, v := range n.Pix {
		if i%4 != 3 {
			sum += float64(v)
		}
	}
	// reference-results.md: pixel mean 0.4999
	if m := sum / (224 * 224 * 3 * 255); math.Abs(m-0.4999) > 5e-4 {
		t.Errorf("mean %.5f, want 0.4999", m)
	}
}

func TestTargetText(t *testing.T) {
	for _, tg := range AllTargets() {
		b, err := json.Marshal(tg)
		if err != nil || string(b) != `"`+tg.String()+`"` {
			t.Errorf("%v: %s, %v", tg, b, err)
		}
		var back Target
		if err := json.Unmarshal(b, &back); err != nil || back != tg {
			t.Errorf("%s: back %v, %v", b, back, err)
		}
	}
	var tg Target
	for _, bad := range []string{`"Q"`, `""`} {
		err := json.Unmarshal([]byte(bad), &tg)
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "H, V, G, HS, VS") {
			t.Errorf("%s: %v, want it named with the valid targets", bad, err)
		}
	}
	if _, err := json.Marshal(Target(7)); err == nil {
		t.Error("Target(7) marshalled")
	}
	if got := strings.Join(Names(AllTargets()), ","); got != "H,V,G,HS,VS" {
		t.Errorf("Names = %s", got)
	}
	if HS.Description() != "horizontal stripes" || Target(7).Description() != "Target(7)" {
		t.Errorf("descriptions: %q, %q", HS.Description(), Target(7).Description())
	}
}
