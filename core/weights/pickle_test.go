package weights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// plainGlobal allows only OrderedDict, for pickles of plain values.
func plainGlobal(module, name string) (any, error) {
	if module+"."+name == gOrderedDict {
		return pyGlobal{module, name}, nil
	}
	return nil, fmt.Errorf("global %s.%s", module, name)
}

func unpickle(data []byte) (any, error) {
	u := &unpickler{data: data, global: plainGlobal, call: pthCall}
	return u.run()
}

// sameAsJSON compares an unpickled value with the JSON CPython wrote for it
// (tuples as lists, ints exactly).
func sameAsJSON(got, want any, where string) error {
	switch w := want.(type) {
	case map[string]any:
		d, ok := got.(*pyDict)
		if !ok || len(d.keys) != len(w) {
			return fmt.Errorf("%s: got %#v, want %d-key dict", where, got, len(w))
		}
		for i, k := range d.keys {
			ks, ok := k.(string)
			if !ok {
				return fmt.Errorf("%s: key %#v", where, k)
			}
			if err := sameAsJSON(d.vals[i], w[ks], where+"."+ks); err != nil {
				return err
			}
		}
	case []any:
		items, ok := pySeq(got)
		if !ok {
			return fmt.Errorf("%s: got %#v, want a list", where, got)
		}
		if len(items) != len(w) {
			return fmt.Errorf("%s: %d items, want %d", where, len(items), len(w))
		}
		for i := range w {
			if err := sameAsJSON(items[i], w[i], fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	case json.Number:
		switch g := got.(type) {
		case int64:
			if strconv.FormatInt(g, 10) != w.String() {
				return fmt.Errorf("%s: %d, want %s", where, g, w)
			}
		case float64:
			f, _ := w.Float64()
			if f != g {
				return fmt.Errorf("%s: %v, want %s", where, g, w)
			}
		default:
			return fmt.Errorf("%s: got %#v, want %s", where, got, w)
		}
	default:
		if got != want {
			return fmt.Errorf("%s: got %#v, want %#v", where, got, want)
		}
	}
	return nil
}

func TestUnpicklePlainAllProtocols(t *testing.T) {
	dir := filepath.Join(testdata, "pickle")
	b, err := os.ReadFile(filepath.Join(dir, "plain.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var want any
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	for p := 0; p <= 5; p++ {
		data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("plain_p%d.pkl", p)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := unpickle(data)
		if err != nil {
			t.Fatalf("protocol %d: %v", p, err)
		}
		if err := sameAsJSON(got, want, fmt.Sprintf("protocol %d", p)); err != nil {
			t.Error(err)
		}
		// Memoised objects are shared, not copied.
		m := got.(*pyDict).vals[got.(*pyDict).index["smemo"]].(*pyList).items
		if p > 0 && m[0] != m[1] {
			t.Errorf("protocol %d: memo did not share the list", p)
		}
		// Every cut near the start, then a sample (the fuzzer covers the rest).
		for n := 0; n < len(data); n += 1 + n/256*12 {
			if _, err := unpickle(data[:n]); err == nil {
				t.Fatalf("protocol %d cut at %d: no error", p, n)
			}
		}
	}
}

// Python 2 pickled an OrderedDict with its items as constructor argument.
func TestUnpicklePython2OrderedDict(t *testing.T) {
	p := []byte("\x80\x02ccollections\nOrderedDict\nq\x00]q\x01(]q\x02(U\x01aK\x05e]q\x03(U\x01bG\x3f\xf8\x00\x00\x00\x00\x00\x00ee\x85Rq\x04.")
	got, err := unpickle(p)
	if err != nil {
		t.Fatal(err)
	}
	d := got.(*pyDict)
	if len(d.keys) != 2 || d.keys[0] != "a" || d.vals[0] != int64(5) || d.keys[1] != "b" || d.vals[1] != 1.5 {
		t.Errorf("got keys %v vals %v", d.keys, d.vals)
	}
}

func TestUnpickleErrors(t *testing.T) {
	for name, p := range map[string]string{
		"pickle stack underflow":  "\x80\x02.",
		"memo 7 is not set":       "\x80\x02h\x07.",
		"MARK missing":            "\x80\x02t.",
		"global os.system":        "cos\nsystem\n.",
		"opcode 0xff":             "\x80\x02\xff",
		"truncated":               "\x80\x02X\xff\xff\xff\x7fabc",
		"protocol 9":              "\x80\x09N.",
		"APPEND to":               "\x80\x02K\x01K\x02a.",
		"SETITEM on":              "\x80\x02]K\x01K\x02s.",
		"odd item count":          "\x80\x02}(K\x01u.",
		"arguments are":           "\x80\x02ccollections\nOrderedDict\nK\x01R.",
		"unsupported dict key":    "\x80\x02}]K\x01s.",
		"BUILD on":                "\x80\x02]}b.",
		"persistent id":           "\x80\x02K\x01Q.",
		"STRING":                  "S'abc\n.",
		"integer":                 "I12x\n.",
		"with unexpected":         "\x80\x02ccollections\nOrderedDict\nK\x01\x85R.",
		"not a (key, value) pair": "\x80\x02ccollections\nOrderedDict\n](K\x01e\x85R.",
	} {
		if _, err := unpickle([]byte(p)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%q: got %v, want %q", p, err, name)
		}
	}
}

func TestDecodeLongAndHalf(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want int64
	}{{nil, 0}, {[]byte{0xff}, -1}, {[]byte{0x80}, -128}, {[]byte{0xff, 0x00}, 255}, {[]byte{0, 0, 0, 0, 0, 0, 0, 0x80}, math.MinInt64}} {
		if got := decodeLong(c.b); got != c.want {
			t.Errorf("%x: %v want %d", c.b, got, c.want)
		}
	}
	// float16 edge values, checked against their definitions.
	for h, want := range map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: float32(math.Ldexp(1, -24)),
		0x03ff: float32(math.Ldexp(1023, -24)), 0x0400: float32(math.Ldexp(1, -14)), 0x8001: -float32(math.Ldexp(1, -24)),
		0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)),
	} {
		if got := HalfToFloat(h); got != want {
			t.Errorf("half %04x: %v want %v", h, got, want)
		}
	}
	if v := HalfToFloat(0x7e00); !math.IsNaN(float64(v)) {
		t.Errorf("half NaN gave %v", v)
	}
	if math.Signbit(float64(HalfToFloat(0x8000))) != true {
		t.Error("-0 lost its sign")
	}
}
