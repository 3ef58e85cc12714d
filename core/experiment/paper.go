// Package experiment holds the paper's Tables 1-4 as data (rows, settings and
// the numbers the paper reports) and the runner that fills them with ours.
package experiment

// Cell is one SPC / MAE pair as the paper reports it (ours are score.Score).
type Cell struct {
	SPC float64 `json:"spc"`
	MAE float64 `json:"mae"`
}

// Test sets of Table 1. Natural is the paper's PASCAL-S column; ours is the
// folder given to the runner (BSDS500 by default).
const (
	Natural = "natural"
	Black   = "black"
	White   = "white"
	Noise   = "noise"
)

// paperKey addresses one reported cell: table ("1", "2a", "2b", "3", "4"),
// the paper's row label, the target (H, V, G, HS, VS) and the test set.
type paperKey struct{ table, row, target, set string }

// Paper returns the value the paper reports for a cell, if it reports one.
// Source: ../shared/docs/paper-notes.md §7 (minus signs from the OpenReview
// version). Stripe MAEs are not comparable with [0,1] targets (notes §8).
func Paper(table, row, target, set string) (Cell, bool) {
	c, ok := paper[paperKey{table, row, target, set}]
	return c, ok
}

var paper = map[paperKey]Cell{}

func put(table, row, target string, sets []string, cells ...Cell) {
	for i, c := range cells {
		paper[paperKey{table, row, target, sets[i]}] = c
	}
}

func init() {
	t1 := []string{Natural, Black, White, Noise}
	// Table 1: readout (1 layer, 3x3, pad 0) on different encoders.
	put("1", "PosENet", "H", t1, Cell{.012, .251}, Cell{0, .251}, Cell{0, .251}, Cell{.001, .251})
	put("1", "VGG", "H", t1, Cell{.742, .149}, Cell{.751, .164}, Cell{.873, .157}, Cell{.591, .173})
	put("1", "ResNet", "H", t1, Cell{.933, .084}, Cell{.987, .080}, Cell{.994, .078}, Cell{.973, .077})
	put("1", "PosENet", "V", t1, Cell{.131, .248}, Cell{0, .251}, Cell{0, .251}, Cell{.053, .250})
	put("1", "VGG", "V", t1, Cell{.816, .129}, Cell{.846, .146}, Cell{.927, .138}, Cell{.771, .150})
	put("1", "ResNet", "V", t1, Cell{.951, .083}, Cell{.978, .069}, Cell{.979, .072}, Cell{.968, .074})
	put("1", "PosENet", "G", t1, Cell{-.001, .233}, Cell{0, .186}, Cell{0, .186}, Cell{-.034, .214})
	put("1", "VGG", "G", t1, Cell{.814, .109}, Cell{.842, .123}, Cell{.898, .116}, Cell{.762, .129})
	put("1", "ResNet", "G", t1, Cell{.936, .070}, Cell{.953, .068}, Cell{.964, .064}, Cell{.971, .055})
	put("1", "PosENet", "HS", t1, Cell{-.001, .712}, Cell{-.055, .704}, Cell{0, .704}, Cell{.023, .710})
	put("1", "VGG", "HS", t1, Cell{.405, .556}, Cell{.532, .583}, Cell{.576, .574}, Cell{.375, .573})
	put("1", "ResNet", "HS", t1, Cell{.534, .528}, Cell{.566, .518}, Cell{.562, .515}, Cell{.471, .530})
	put("1", "PosENet", "VS", t1, Cell{.006, .723}, Cell{.081, .709}, Cell{.081, .709}, Cell{.018, .714})
	put("1", "VGG", "VS", t1, Cell{.374, .567}, Cell{.538, .575}, Cell{.437, .578}, Cell{.526, .566})
	put("1", "ResNet", "VS", t1, Cell{.520, .537}, Cell{.574, .523}, Cell{.593, .514}, Cell{.523, .545})

	nat := []string{Natural}
	// Tables 2a (number of stacked 3x3 layers; rows "PosENet/depthN",
	// "VGG/depthN") and 2b (kernel size, single layer; rows "PosENet/kK",
	// "VGG/kK"): per target and row value, PosENet's cell and VGG's.
	type posVGG struct {
		target, v string
		pos, vgg  Cell
	}
	for _, tb := range []struct {
		id, row string
		cells   []posVGG
	}{
		{"2a", "depth", []posVGG{
			{"H", "1", Cell{.012, .251}, Cell{.742, .149}},
			{"H", "2", Cell{.056, .250}, Cell{.797, .128}},
			{"H", "3", Cell{.055, .250}, Cell{.830, .117}},
			{"G", "1", Cell{-.001, .233}, Cell{.814, .109}},
			{"G", "2", Cell{.067, .187}, Cell{.828, .105}},
			{"G", "3", Cell{.126, .186}, Cell{.835, .104}},
			{"HS", "1", Cell{-.001, .712}, Cell{.405, .556}},
			{"HS", "2", Cell{-.006, .628}, Cell{.483, .538}},
			{"HS", "3", Cell{.003, .628}, Cell{.491, .540}},
		}},
		{"2b", "k", []posVGG{
			{"H", "1", Cell{.013, .251}, Cell{.542, .196}},
			{"H", "3", Cell{.012, .251}, Cell{.742, .149}},
			{"H", "7", Cell{.060, .250}, Cell{.828, .120}},
			{"G", "1", Cell{.017, .188}, Cell{.724, .127}},
			{"G", "3", Cell{-.001, .233}, Cell{.814, .109}},
			{"G", "7", Cell{.068, .187}, Cell{.816, .111}},
			{"HS", "1", Cell{-.004, .628}, Cell{.317, .576}},
			{"HS", "3", Cell{-.001, .723}, Cell{.405, .556}},
			{"HS", "7", Cell{.002, .628}, Cell{.487, .532}},
		}},
	} {
		for _, r := range tb.cells {
			put(tb.id, "PosENet/"+tb.row+r.v, r.target, nat, r.pos)
			put(tb.id, "VGG/"+tb.row+r.v, r.target, nat, r.vgg)
		}
	}
	// Table 3: VGG, single tap f1..f5 vs all five (1 layer, 3x3).
	for i, row := range []string{"f1", "f2", "f3", "f4", "f5", "all"} {
		h := []Cell{{.101, .249}, {.344, .225}, {.472, .203}, {.610, .181}, {.657, .177}, {.742, .149}}
		g := []Cell{{.241, .182}, {.404, .168}, {.588, .146}, {.653, .138}, {.693, .135}, {.814, .109}}
		put("3", "VGG/"+row, "H", nat, h[i])
		put("3", "VGG/"+row, "G", nat, g[i])
	}
	// Table 4: zero padding.
	for _, r := range []struct {
		row      string
		h, g, hs Cell
	}{
		{"PosENet/pad0", Cell{.012, .251}, Cell{-.001, .233}, Cell{-.001, .712}},
		{"PosENet/pad1", Cell{.274, .239}, Cell{.205, .184}, Cell{.148, .608}},
		{"PosENet/pad2", Cell{.397, .223}, Cell{.380, .177}, Cell{.214, .595}},
		{"VGG/zero", Cell{.742, .149}, Cell{.814, .109}, Cell{.405, .556}},
		{"VGG/none", Cell{.381, .223}, Cell{.359, .174}, Cell{.011, .628}},
	} {
		put("4", r.row, "H", nat, r.h)
		put("4", r.row, "G", nat, r.g)
		put("4", r.row, "HS", nat, r.hs)
	}
}
