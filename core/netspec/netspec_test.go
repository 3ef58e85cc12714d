package netspec

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func TestPadModeText(t *testing.T) {
	// The names on the wire (readout headers, results.json, site.json).
	for i, name := range []string{"zero", "none", "reflect", "replicate", "circular", "full"} {
		m, js := PadMode(i), strconv.Quote(name)
		if b, err := json.Marshal(m); err != nil || string(b) != js {
			t.Errorf("PadMode(%d): %s, %v, want %s", i, b, err, js)
		}
		back := PadMode(-1)
		if err := json.Unmarshal([]byte(js), &back); err != nil || back != m {
			t.Errorf("%s: back %v, %v", js, back, err)
		}
	}
	var m PadMode = PadFull
	if err := json.Unmarshal([]byte(`"zeros"`), &m); err != nil || m != PadZero {
		t.Errorf(`"zeros": %v, %v`, m, err)
	}
	m = PadFull
	if err := json.Unmarshal([]byte(`""`), &m); err != nil || m != PadZero {
		t.Errorf(`"": %v, %v (want the default, zero)`, m, err)
	}
	err := json.Unmarshal([]byte(`"mirror"`), &m)
	if err == nil || !strings.Contains(err.Error(), `"mirror"`) || !strings.Contains(err.Error(), "zero, none, reflect, replicate, circular, full") {
		t.Errorf("mirror: %v, want it named with the valid modes", err)
	}
	if _, err := json.Marshal(PadMode(9)); err == nil || !strings.Contains(err.Error(), "9") {
		t.Errorf("PadMode(9) marshalled: %v", err)
	}
	if PadMode(9).String() != "PadMode(9)" || !PadFull.Zeros() || PadReflect.Zeros() {
		t.Error("String or Zeros")
	}
}

func TestInitText(t *testing.T) {
	for _, c := range []struct {
		in   Init
		name string
	}{{InitImageNet, "imagenet"}, {InitRandom, "random"}} {
		b, err := c.in.MarshalText()
		if err != nil || string(b) != c.name || c.in.String() != c.name {
			t.Errorf("%d: %s, %v", c.in, b, err)
		}
		var back Init = 5
		if err := back.UnmarshalText([]byte(strings.ToUpper(c.name))); err != nil || back != c.in {
			t.Errorf("%s: back %v, %v", c.name, back, err)
		}
	}
	var i Init = InitRandom
	if err := i.UnmarshalText(nil); err != nil || i != InitImageNet {
		t.Errorf(`"": %v, %v (want the default, imagenet)`, i, err)
	}
	if _, err := ParseInit("xavier"); err == nil || !strings.Contains(err.Error(), `"xavier"`) || !strings.Contains(err.Error(), "imagenet, random") {
		t.Errorf("xavier: %v", err)
	}
	if _, err := Init(-1).MarshalText(); err == nil {
		t.Error("Init(-1) marshalled")
	}
}
