package readout

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedReadoutsRoundTrip loads every shipped readout (its header's
// init, padding and target decoded as typed values) and saves it again:
// the bytes must equal the committed file's.
func TestCommittedReadoutsRoundTrip(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "weights", "readouts", "*"+Ext))
	if len(paths) == 0 {
		t.Skip("no committed readouts")
	}
	for _, p := range paths {
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Load(bytes.NewReader(want), p)
		if err != nil {
			t.Fatal(err)
		}
		m := r.Meta
		if got := FileName(m.Encoder, m.Init, m.Padding, m.Target); got != filepath.Base(p) {
			t.Errorf("%s: header names %s", p, got)
		}
		var got bytes.Buffer
		if err := r.Save(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: saved again, %d bytes differ from the committed %d", p, got.Len(), len(want))
		}
	}
}

// TestLoadRejectsUnknownNames: a header whose padding, init or target is
// not a known name is refused, naming the value.
func TestLoadRejectsUnknownNames(t *testing.T) {
	var buf bytes.Buffer
	if err := testReadout(t).Save(&buf); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, to string }{
		{`"padding":"zero"`, `"padding":"mirr"`},
		{`"init":"random"`, `"init":"xavier"`},
		{`"target":"G"`, `"target":"Q"`},
	} {
		b := bytes.Replace(buf.Bytes(), []byte(c.from), []byte(c.to), 1)
		if bytes.Equal(b, buf.Bytes()) {
			t.Fatalf("header has no %s", c.from)
		}
		bad := strings.Split(c.to, ":")[1]
		if _, err := Load(bytes.NewReader(b), "x.readout"); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "x.readout") {
			t.Errorf("%s: error %v, want one naming x.readout and %s", c.to, err, bad)
		}
	}
}
