package experiment

import (
	"fmt"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
)

// Setting is everything that defines one trained readout besides its target.
type Setting struct {
	Encoder string       `json:"encoder"`
	Init    encoder.Init `json:"init"`    // imagenet or random
	Padding nn.PadMode   `json:"padding"` // encoder padding mode: zero, none, reflect, replicate, circular
	Taps    []int        `json:"taps"`    // 1-based tap indices (f1..fN); nil means all taps
	Kernel  int          `json:"kernel"`  // readout kernel size
	Pad     int          `json:"pad"`     // readout conv padding
	Depth   int          `json:"depth"`   // readout layers
}

// Key is a file-safe identity of a setting, used to cache features and results.
func (s Setting) Key() string {
	k := fmt.Sprintf("%s-%s-%s-k%dp%dd%d", s.Encoder, s.Init, s.Padding, s.Kernel, s.Pad, s.Depth)
	if s.Taps != nil {
		k += "-taps"
		for _, t := range s.Taps {
			k += fmt.Sprintf("%d", t)
		}
	}
	return k
}

// FeatureKey identifies the encoder pass a setting needs; rows sharing it share one extraction.
func (s Setting) FeatureKey() string {
	return fmt.Sprintf("%s-%s-%s", s.Encoder, s.Init, s.Padding)
}

// Row is one line of a table.
type Row struct {
	ID       string  `json:"id"`        // unique within the table
	Label    string  `json:"label"`     // what the report prints
	PaperRow string  `json:"paper_row"` // the paper's row to print beside ours ("" when it has none)
	Note     string  `json:"note,omitempty"`
	Setting  Setting `json:"setting"`
}

// Table is one of the paper's tables as we run it.
type Table struct {
	ID      string          `json:"id"` // "1", "2a", "2b", "3", "4"
	Title   string          `json:"title"`
	Note    string          `json:"note,omitempty"`
	Targets []posmap.Target `json:"targets"`
	Sets    []string        `json:"sets"`
	Rows    []Row           `json:"rows"`
	// Maps: the runner keeps the predicted maps of the figure photos on
	// the natural test set (the qualitative figure).
	Maps bool `json:"-"`
	// Demo: the rows' readouts are also written for the demo
	// (RunConfig.DemoDir).
	Demo bool `json:"-"`
}

func base(enc string, init encoder.Init, padding nn.PadMode) Setting {
	return Setting{Encoder: enc, Init: init, Padding: padding, Kernel: 3, Pad: 0, Depth: 1}
}

// Tables returns Tables 1-4 as posprobe runs them. The paper's VGG16 and
// ResNet-152 ImageNet rows stay in the list; the runner marks them "weights
// not available" when their checkpoints are absent.
func Tables() []Table {
	t1 := Table{
		ID:      "1",
		Title:   "Table 1 — readout (1 layer, 3x3, pad 0) on different encoders",
		Targets: posmap.AllTargets(),
		Sets:    []string{Natural, Black, White, Noise},
		Maps:    true,
		Demo:    true,
		Rows: []Row{
			{ID: "none", Label: "PosENet (no encoder)", PaperRow: "PosENet", Setting: base("none", encoder.InitRandom, nn.PadZero)},
			{ID: "vgg16", Label: "VGG16 (ImageNet)", PaperRow: "VGG", Setting: base("vgg16", encoder.InitImageNet, nn.PadZero)},
			{ID: "resnet152", Label: "ResNet-152 (ImageNet)", PaperRow: "ResNet", Setting: base("resnet152", encoder.InitImageNet, nn.PadZero)},
			{ID: "squeezenet1.1", Label: "SqueezeNet 1.1 (ImageNet)", Setting: base("squeezenet1.1", encoder.InitImageNet, nn.PadZero)},
			{ID: "mobilenetv2", Label: "MobileNetV2 (ImageNet)", Setting: base("mobilenetv2", encoder.InitImageNet, nn.PadZero)},
			{ID: "resnet50v2", Label: "ResNet-50 v2 stages 1-3 (ImageNet)", Setting: base("resnet50v2", encoder.InitImageNet, nn.PadZero)},
			{ID: "darknet-tiny", Label: "Tiny Darknet (ImageNet)", Setting: base("darknet-tiny", encoder.InitImageNet, nn.PadZero)},
			{ID: "vgg16-random", Label: "VGG16 (random init)", Setting: base("vgg16", encoder.InitRandom, nn.PadZero)},
			{ID: "resnet50-random", Label: "ResNet-50 (random init)", Setting: base("resnet50", encoder.InitRandom, nn.PadZero)},
		},
	}

	t2a := Table{ID: "2a", Title: "Table 2a — number of stacked readout layers (3x3)", Targets: []posmap.Target{posmap.H, posmap.G, posmap.HS}, Sets: []string{Natural}}
	t2b := Table{ID: "2b", Title: "Table 2b — readout kernel size (1 layer)", Targets: []posmap.Target{posmap.H, posmap.G, posmap.HS}, Sets: []string{Natural}}
	for _, e := range []struct {
		id, label, paper, enc string
		init                  encoder.Init
	}{
		{"none", "PosENet", "PosENet", "none", encoder.InitRandom},
		{"squeezenet1.1", "SqueezeNet 1.1", "VGG", "squeezenet1.1", encoder.InitImageNet},
	} {
		for _, d := range []int{1, 2, 3} {
			s := base(e.enc, e.init, nn.PadZero)
			s.Depth = d
			t2a.Rows = append(t2a.Rows, Row{ID: fmt.Sprintf("%s/depth%d", e.id, d), Label: fmt.Sprintf("%s, %d layer(s)", e.label, d),
				PaperRow: fmt.Sprintf("%s/depth%d", e.paper, d), Setting: s})
		}
		for _, k := range []int{1, 3, 7} {
			s := base(e.enc, e.init, nn.PadZero)
			s.Kernel = k
			t2b.Rows = append(t2b.Rows, Row{ID: fmt.Sprintf("%s/k%d", e.id, k), Label: fmt.Sprintf("%s, %dx%d", e.label, k, k),
				PaperRow: fmt.Sprintf("%s/k%d", e.paper, k), Setting: s})
		}
	}
	t2a.Note = "The paper's second column is VGG16 (ImageNet); ours is SqueezeNet 1.1 (ImageNet), the pretrained encoder we have."
	t2b.Note = t2a.Note

	t3 := Table{ID: "3", Title: "Table 3 — one tap at a time vs all taps (1 layer, 3x3)", Targets: []posmap.Target{posmap.H, posmap.G}, Sets: []string{Natural},
		Note: "The paper taps VGG16 (ImageNet) at relu1_2..relu5_3; ours taps SqueezeNet 1.1 (ImageNet) at conv1, fire3, fire5, fire7, fire9."}
	for i := 1; i <= 5; i++ {
		s := base("squeezenet1.1", encoder.InitImageNet, nn.PadZero)
		s.Taps = []int{i}
		t3.Rows = append(t3.Rows, Row{ID: fmt.Sprintf("f%d", i), Label: fmt.Sprintf("f%d only", i), PaperRow: fmt.Sprintf("VGG/f%d", i), Setting: s})
	}
	t3.Rows = append(t3.Rows, Row{ID: "all", Label: "all taps", PaperRow: "VGG/all", Setting: base("squeezenet1.1", encoder.InitImageNet, nn.PadZero)})

	t4 := Table{ID: "4", Title: "Table 4 — padding: readout padding on PosENet, encoder padding modes", Targets: []posmap.Target{posmap.H, posmap.G, posmap.HS}, Sets: []string{Natural},
		Maps: true,
		Note: "Beyond the paper: reflect, replicate and circular padding on the same weights. " +
			"The paper's VGG rows are VGG16 (ImageNet); ours is VGG16 with random init (ImageNet VGG16 weights are not " +
			"available offline), so compare what removing or replacing zero padding does, not the values."}
	for _, p := range []int{0, 1, 2} {
		s := base("none", encoder.InitRandom, nn.PadZero)
		s.Pad = p
		t4.Rows = append(t4.Rows, Row{ID: fmt.Sprintf("none/pad%d", p), Label: fmt.Sprintf("PosENet, readout padding %d", p), PaperRow: fmt.Sprintf("PosENet/pad%d", p), Setting: s})
	}
	for _, e := range []struct {
		id, label, enc string
		init           encoder.Init
	}{
		{"squeezenet1.1", "SqueezeNet 1.1 (ImageNet)", "squeezenet1.1", encoder.InitImageNet},
		{"vgg16-random", "VGG16 (random init)", "vgg16", encoder.InitRandom},
	} {
		for _, mode := range []nn.PadMode{nn.PadZero, nn.PadNone, nn.PadReflect, nn.PadReplicate, nn.PadCircular} {
			paperRow := ""
			if e.enc == "vgg16" && (mode == nn.PadZero || mode == nn.PadNone) {
				paperRow = "VGG/" + mode.String()
			}
			t4.Rows = append(t4.Rows, Row{ID: e.id + "/" + mode.String(), Label: fmt.Sprintf("%s, %s padding", e.label, mode), PaperRow: paperRow,
				Setting: base(e.enc, e.init, mode)})
		}
	}
	return []Table{t1, t2a, t2b, t3, t4}
}
