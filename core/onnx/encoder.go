package onnx

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// Options configure an ONNX model as an encoder.
type Options struct {
	Name      string     // encoder name (default: the file name without extension)
	Padding   nn.PadMode // padding surgery (see conv.go); PadZero keeps the model's
	Normalize bool       // ImageNet mean/std on the input of Forward
	// Taps: nil for the graph's 4-D outputs, {"auto"} for the last map
	// before each downsampling plus the last map, or tensor names.
	Taps []string
	// Size is the input side at which tap shapes are measured (channels,
	// nominal stride); 0: the graph's declared input size, else 224.
	Size int
}

// Encoder runs an ONNX graph as a posprobe encoder.
type Encoder struct {
	name      string
	net       *Net
	taps      []encoder.Tap
	tapNames  []string
	classOut  string
	normalize bool
	arenas    encoder.ArenaPool
}

// Open reads an ONNX file (with its external data) as an encoder.
func Open(path string, opts Options) (*Encoder, error) {
	m, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	e, err := New(m, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// New makes an encoder of a parsed model.
func New(m *Model, opts Options) (*Encoder, error) {
	net, err := Compile(m, opts.Padding)
	if err != nil {
		return nil, err
	}
	// Tap shapes are measured with the model's own padding, so that strides
	// are nominal whatever the surgery.
	ref := net
	if opts.Padding != nn.PadZero {
		if ref, err = Compile(m, nn.PadZero); err != nil {
			return nil, err
		}
	}
	size := opts.Size
	if size <= 0 {
		size = 224
		for _, in := range m.Graph.Inputs {
			if in.Name == net.Input && len(in.Shape) == 4 && in.Shape[2] > 0 && in.Shape[2] == in.Shape[3] {
				size = int(in.Shape[2])
			}
		}
	}
	infos, err := ref.Inspect(nn.New(1, 3, size, size))
	if err != nil {
		return nil, fmt.Errorf("running the graph on a %dx%d input: %w", size, size, err)
	}
	byName := map[string]Info{}
	for _, in := range infos {
		byName[in.Name] = in
	}
	e := &Encoder{name: opts.Name, net: net, normalize: opts.Normalize}
	if e.name == "" {
		e.name = "onnx"
	}
	names, err := pickTaps(net, infos, opts.Taps)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		in := byName[n]
		stride := int(math.Round(float64(size) / float64(in.Shape[2])))
		e.taps = append(e.taps, encoder.Tap{Name: TapName(n), Channels: in.Shape[1], Stride: max(stride, 1)})
		e.tapNames = append(e.tapNames, n)
	}
	for _, o := range net.Outputs {
		if in, ok := byName[o]; ok && len(in.Shape) == 2 && !in.Int {
			e.classOut = o
			break
		}
	}
	return e, nil
}

// TapName is the tap name of a graph tensor: safe as a file name (features
// writes <tap>.npy), so characters other than letters, digits, '.', '-' and
// '_' become '_' ("/layer1/Relu_output_0" -> "layer1_Relu_output_0").
func TapName(tensor string) string {
	b := []byte(tensor)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	s := strings.Trim(string(b), "_.")
	if s == "" {
		s = "tap"
	}
	return s
}

// pickTaps chooses the tap tensors (see Options.Taps).
func pickTaps(net *Net, infos []Info, spec []string) ([]string, error) {
	is4 := func(in Info) bool { return !in.Int && len(in.Shape) == 4 }
	byName := map[string]Info{}
	for _, in := range infos {
		byName[in.Name] = in
	}
	var names []string
	switch {
	case len(spec) == 0:
		for _, o := range net.Outputs {
			if in, ok := byName[o]; ok && is4(in) && !slices.Contains(names, o) {
				names = append(names, o)
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("the graph has no 4-d outputs to probe: choose taps with --taps auto or --taps NAME,... ('posprobe model inspect' lists the tensors)")
		}
	case len(spec) == 1 && spec[0] == "auto":
		var last string
		for _, in := range infos {
			if in.Op == "input" || !is4(in) {
				continue
			}
			if (in.Op == "Conv" || in.Op == "MaxPool" || in.Op == "AveragePool") && in.Stride > 1 {
				if src, ok := byName[in.Input]; ok && is4(src) && src.Op != "input" && !slices.Contains(names, src.Name) {
					names = append(names, src.Name)
				}
			}
			if in.Shape[2] > 1 && in.Shape[3] > 1 {
				last = in.Name
			}
		}
		if last != "" && !slices.Contains(names, last) {
			names = append(names, last)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("--taps auto found no 4-d maps")
		}
	default:
		for _, n := range spec {
			n = strings.TrimSpace(n)
			in, ok := byName[n]
			if !ok {
				return nil, fmt.Errorf("--taps: the graph has no tensor %q ('posprobe model inspect' lists them)", n)
			}
			if !is4(in) {
				return nil, fmt.Errorf("--taps: tensor %q has shape %v, want a 4-d map", n, in.Shape)
			}
			names = append(names, n)
		}
	}
	return names, nil
}

// Name implements encoder.Encoder.
func (e *Encoder) Name() string { return e.name }

// Taps implements encoder.Encoder.
func (e *Encoder) Taps() []encoder.Tap { return e.taps }

// Tensors are the graph tensors the taps read, in tap order.
func (e *Encoder) Tensors() []string { return slices.Clone(e.tapNames) }

// Net is the compiled graph.
func (e *Encoder) Net() *Net { return e.net }

// HasClassifier reports whether the graph ends in class scores (a 2-d
// output).
func (e *Encoder) HasClassifier() bool { return e.classOut != "" }

// Recycle implements encoder.Recycler.
func (e *Encoder) Recycle(taps []*tensor.Dense) {
	a := e.arenas.Get()
	a.Recycle(taps...)
	e.arenas.Put(a)
}

func checkImage(name string, x *tensor.Dense) (n, h, w int, err error) {
	if x == nil {
		return 0, 0, 0, fmt.Errorf("%s: input tensor is nil", name)
	}
	s := x.Shape()
	if _, ok := x.Data().([]float32); !ok || len(s) != 4 || s[1] != 3 {
		return 0, 0, 0, fmt.Errorf("%s: input shape %v, want float32 [N,3,H,W]", name, s)
	}
	return s[0], s[2], s[3], nil
}

// Forward implements encoder.Encoder: one pass per image of the batch (an
// exported graph may fix its batch size).
func (e *Encoder) Forward(x *tensor.Dense) ([]*tensor.Dense, error) {
	n, _, _, err := checkImage(e.name, x)
	if err != nil {
		return nil, err
	}
	if n == 1 {
		return e.run(x, e.tapNames, e.normalize)
	}
	var out []*tensor.Dense
	for i := 0; i < n; i++ {
		taps, err := e.run(nn.Batch(x, i, i+1), e.tapNames, e.normalize)
		if err != nil {
			return nil, err
		}
		if out == nil {
			for _, t := range taps {
				s := slices.Clone([]int(t.Shape()))
				s[0] = n
				out = append(out, nn.New(s...))
			}
		}
		for j, t := range taps {
			d := nn.Data(t)
			copy(nn.Data(out[j])[i*len(d):], d)
		}
		e.Recycle(taps)
	}
	return out, nil
}

func (e *Encoder) run(x *tensor.Dense, want []string, normalize bool) ([]*tensor.Dense, error) {
	a := e.arenas.Get()
	defer e.arenas.Put(a)
	in := x
	if normalize {
		_, _, h, w := nn.Dims4(x)
		in = a.New(1, 3, h, w)
		d, s := nn.Data(in), nn.Data(x)
		for c := 0; c < 3; c++ {
			m, sd := encoder.ImageNetMean[c], encoder.ImageNetStd[c]
			for j := c * h * w; j < (c+1)*h*w; j++ {
				d[j] = (s[j] - m) / sd
			}
		}
	}
	out, err := e.net.Run(a, in, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.name, err)
	}
	return out, nil
}

// Classify implements encoder.Classifier for graphs that end in class
// scores: ImageNet mean/std (torchvision's preprocessing) and the first 2-d
// output.
func (e *Encoder) Classify(x *tensor.Dense) (*tensor.Dense, error) {
	if e.classOut == "" {
		return nil, fmt.Errorf("%s: the graph has no 2-d output (class scores)", e.name)
	}
	n, _, _, err := checkImage(e.name, x)
	if err != nil {
		return nil, err
	}
	var rows []float32
	k := 0
	for i := 0; i < n; i++ {
		out, err := e.run(nn.Batch(x, i, i+1), []string{e.classOut}, true)
		if err != nil {
			return nil, err
		}
		d := nn.Data(out[0])
		k = len(d)
		rows = append(rows, d...)
	}
	return nn.FromData(rows, n, k), nil
}

var _ encoder.Classifier = (*Encoder)(nil)
var _ encoder.Recycler = (*Encoder)(nil)
