package nn

import (
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// Batch is a view: the items' values in one run, shared with t, the batch
// axis kept for a single item.
func TestBatch(t *testing.T) {
	x := New(4, 2, 3, 3)
	for i, d := 0, Data(x); i < len(d); i++ {
		d[i] = float32(i)
	}
	for _, c := range [][2]int{{0, 1}, {1, 3}, {3, 4}, {0, 4}} {
		v := Batch(x, c[0], c[1])
		if !slices.Equal(v.Shape(), tensor.Shape{c[1] - c[0], 2, 3, 3}) {
			t.Fatalf("%v: shape %v", c, v.Shape())
		}
		if !slices.Equal(Data(v), Data(x)[c[0]*18:c[1]*18]) || &Data(v)[0] != &Data(x)[c[0]*18] {
			t.Fatalf("%v: values %v", c, Data(v))
		}
	}
	for _, c := range [][2]int{{2, 2}, {3, 5}, {-1, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%v: no panic", c)
				}
			}()
			Batch(x, c[0], c[1])
		}()
	}
}
