package experiment

import (
	"testing"

	"github.com/posprobe/posprobe/core/posmap"
)

func TestTablesWellFormed(t *testing.T) {
	tables := Tables()
	if len(tables) != 5 {
		t.Fatalf("want tables 1, 2a, 2b, 3, 4; got %d", len(tables))
	}
	for _, tb := range tables {
		// The qualitative figure shows Tables 1 and 4; the demo's readouts are Table 1's.
		if tb.Maps != (tb.ID == "1" || tb.ID == "4") || tb.Demo != (tb.ID == "1") {
			t.Errorf("table %s: Maps %v, Demo %v", tb.ID, tb.Maps, tb.Demo)
		}
		seen := map[string]bool{}
		for _, r := range tb.Rows {
			if seen[r.ID] {
				t.Errorf("table %s: duplicate row %q", tb.ID, r.ID)
			}
			seen[r.ID] = true
			if r.PaperRow == "" {
				continue
			}
			// Every paper row named must have a reported value for each target on the natural set.
			for _, tg := range posmap.Names(tb.Targets) {
				if _, ok := Paper(tb.ID, r.PaperRow, tg, Natural); !ok {
					t.Errorf("table %s row %s: no paper value for %s/%s", tb.ID, r.ID, r.PaperRow, tg)
				}
			}
		}
	}
}

func TestPaperValues(t *testing.T) {
	cases := []struct {
		table, row, target, set string
		want                    Cell
	}{
		{"1", "VGG", "H", Natural, Cell{.742, .149}},
		{"1", "PosENet", "HS", Black, Cell{-.055, .704}},
		{"1", "ResNet", "VS", Noise, Cell{.523, .545}},
		{"2b", "PosENet/k3", "HS", Natural, Cell{-.001, .723}}, // the paper's own inconsistency with Table 1 (.712)
		{"3", "VGG/f5", "G", Natural, Cell{.693, .135}},
		{"4", "VGG/none", "HS", Natural, Cell{.011, .628}},
	}
	for _, c := range cases {
		got, ok := Paper(c.table, c.row, c.target, c.set)
		if !ok || got != c.want {
			t.Errorf("Paper(%s,%s,%s,%s) = %v,%v want %v", c.table, c.row, c.target, c.set, got, ok, c.want)
		}
	}
	if _, ok := Paper("1", "VGG", "H", "nowhere"); ok {
		t.Error("unknown set must not be found")
	}
}
