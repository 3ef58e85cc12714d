package encoder

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/weights"
)

// Class is one ImageNet-1k class: its WordNet id and a readable name.
type Class struct {
	WNID string // e.g. "n01440764"
	Name string // e.g. "tench"
}

// ImageNetSampleDir is where, under the data folder, the one-photo-per-class
// ImageNet sample lives; its file names (nXXXXXXXX_name.JPEG) give the classes.
const ImageNetSampleDir = "images/imagenet-sample"

// ImageNetClasses returns the 1000 ImageNet classes in the standard sorted
// synset order (the output order of torchvision and ONNX-zoo classifiers),
// read from the file names in dataDir/images/imagenet-sample.
func ImageNetClasses(dataDir string) ([]Class, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("ImageNet class names: no data folder (set POSPROBE_DATA or --data)")
	}
	dir := filepath.Join(dataDir, filepath.FromSlash(ImageNetSampleDir))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ImageNet class names: %w", err)
	}
	seen := map[string]bool{}
	var cls []Class
	for _, e := range ents {
		name := e.Name()
		wnid, rest, ok := strings.Cut(name, "_")
		if e.IsDir() || !ok || !isWNID(wnid) {
			continue
		}
		if seen[wnid] {
			return nil, fmt.Errorf("%s: class %s appears twice (%s)", dir, wnid, name)
		}
		seen[wnid] = true
		rest = strings.TrimSuffix(rest, filepath.Ext(rest))
		cls = append(cls, Class{WNID: wnid, Name: strings.ReplaceAll(rest, "_", " ")})
	}
	if len(cls) != 1000 {
		return nil, fmt.Errorf("%s: found %d class files (nXXXXXXXX_name.JPEG), want 1000", dir, len(cls))
	}
	sort.Slice(cls, func(i, j int) bool { return cls[i].WNID < cls[j].WNID })
	return cls, nil
}

func isWNID(s string) bool {
	if len(s) != 9 || s[0] != 'n' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// classOrderer is implemented by classifiers whose outputs are not in sorted
// synset order; it returns the WNID of each output.
type classOrderer interface {
	classOrder() []string
}

// ClassLabels returns the class of each output of c, in c's own order, with
// names from dataDir (see ImageNetClasses).
func ClassLabels(c Classifier, dataDir string) ([]Class, error) {
	sorted, err := ImageNetClasses(dataDir)
	if err != nil {
		return nil, err
	}
	o, ok := c.(classOrderer)
	if !ok {
		return sorted, nil
	}
	byID := make(map[string]Class, len(sorted))
	for _, cl := range sorted {
		byID[cl.WNID] = cl
	}
	order := o.classOrder()
	out := make([]Class, len(order))
	for i, id := range order {
		cl, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("%s: class %s of %s has no photo in %s", c.Name(), id, c.Name(), ImageNetSampleDir)
		}
		out[i] = cl
	}
	return out, nil
}

// The ONNX model zoo networks, whose ImageNet weights are the shared WebNN
// .npy folders (see sharedParams), with their taps at full width.
func init() {
	Register("squeezenet1.1", Info{
		Summary: "SqueezeNet 1.1 (ONNX model zoo / WebNN .npy, with classifier); taps conv1 (relu, before pool1), fire3, fire5, fire7, fire9",
		// torchvision's features[1, 4, 7, 10, 12]: conv1 after its ReLU and
		// before the first max-pool, then fire3/fire5 just before pools 2
		// and 3, fire7, and the last module fire9.
		Taps:    []Tap{{"conv1", 64, 2}, {"fire3", 128, 4}, {"fire5", 256, 8}, {"fire7", 384, 16}, {"fire9", 512, 16}},
		Weights: "ONNX model zoo squeezenet1.1-7 as .npy (webmachinelearning/test-data models/squeezenet1.1_nchw)",
	}, newSqueezeNet)
	Register("resnet50v2", Info{
		Summary: "ResNet-50 v2 (pre-activation; ONNX model zoo resnet50-v2-7 / WebNN .npy, stages 1-3 only); taps stem (relu, before maxpool), stage1, stage2, stage3",
		Taps:    []Tap{{"stem", 64, 2}, {"stage1", 256, 4}, {"stage2", 512, 8}, {"stage3", 1024, 16}},
		Weights: "ONNX model zoo resnet50-v2-7 as .npy (webmachinelearning/test-data models/resnet50v2_nchw; stage 4 and classifier absent)",
	}, newResNet50V2)
	Register("mobilenetv2", Info{
		Summary: "MobileNetV2 1.0 (ONNX model zoo mobilenetv2-7 / WebNN .npy, BN folded, no classifier); taps block1, block3, block6, block13 (last map before each stride-2 block), head (1280-channel conv)",
		// The last maps at strides 2, 4, 8 and 16 (see mbv2TapBlocks), and
		// the final 1×1 conv.
		Taps:    []Tap{{"block1", 16, 2}, {"block3", 24, 4}, {"block6", 32, 8}, {"block13", 96, 16}, {"head", 1280, 32}},
		Weights: "ONNX model zoo mobilenetv2-7 as .npy (webmachinelearning/test-data models/mobilenetv2_nchw; classifier matrix absent)",
	}, newMobileNetV2)
}

// sharedParams prepares the parameters of an encoder whose ImageNet weights
// are one of the shared copies (a folder of .npy files or a TF.js model):
// the weight set, or the random stream (seed, name).
func sharedParams(name string, opts Options) (*params, error) {
	random, err := opts.random()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if random {
		return &params{rng: NewRand(opts.Seed, name)}, nil
	}
	if opts.Set != nil { // fetched by the browser app
		return &params{set: opts.Set}, nil
	}
	p, err := weights.Locate(name, opts.Weights, opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("%s: ImageNet weights not found: %w (or use --init random)", name, err)
	}
	set, err := weights.Load(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &params{set: set}, nil
}

// Random initialisations of the shared-weight families.
const (
	initKaimingUniform = iota // kaiming_uniform_(fan_in, relu), bias 0 (torchvision SqueezeNet)
	initKaimingFanOut         // kaiming_normal_(fan_out, relu), bias 0 (torchvision MobileNetV2, ResNet)
	initNormal001             // normal_(0, 0.01), bias 0 (SqueezeNet's final conv)
)

// convW returns a conv whose weight (OIHW) and optional bias are the tensors
// named wname and bname ("" = no bias) in the set, or drawn with init.
func (p *params) convW(wname, bname string, inC, outC, k, stride, pad, groups int, mode nn.PadMode, init int) *nn.Conv2D {
	c := &nn.Conv2D{InC: inC, OutC: outC, KH: k, KW: k, Stride: stride, Pad: pad, Groups: groups, Mode: mode}
	if p.set != nil {
		c.W = p.get(wname, outC, inC/groups, k, k)
		if bname != "" {
			c.B = p.get(bname, outC)
		}
		return c
	}
	c.W = make([]float32, outC*inC/groups*k*k)
	switch init {
	case initKaimingUniform:
		p.rng.KaimingUniform(c.W, inC/groups*k*k, 0)
	case initKaimingFanOut:
		p.rng.KaimingNormalFanOut(c.W, outC*k*k)
	case initNormal001:
		p.rng.Normal(c.W, 0, 0.01)
	}
	if bname != "" {
		c.B = make([]float32, outC)
	}
	return c
}

// bnW returns an inference BatchNorm from the tensors prefix+gamma, beta,
// mean, variance (suffixes as the file names them), or the identity
// statistics of a freshly built BatchNorm.
func (p *params) bnW(prefix string, suffix [4]string, c int, eps float32) *nn.BatchNorm {
	b := &nn.BatchNorm{Eps: eps}
	if p.set != nil {
		b.Gamma = p.get(prefix+suffix[0], c)
		b.Beta = p.get(prefix+suffix[1], c)
		b.Mean = p.get(prefix+suffix[2], c)
		b.Var = p.get(prefix+suffix[3], c)
		return b
	}
	b.Gamma, b.Beta = make([]float32, c), make([]float32, c)
	b.Mean, b.Var = make([]float32, c), make([]float32, c)
	Constant(b.Gamma, 1)
	Constant(b.Var, 1)
	return b
}

// skip marks the tensors whose names start with one of prefixes as known but
// not used (parts of the file beyond the taps this encoder yields).
func (p *params) skip(prefixes ...string) {
	if p.set == nil || p.err != nil {
		return
	}
	for _, n := range p.set.Names() {
		for _, pre := range prefixes {
			if strings.HasPrefix(n, pre) {
				p.get(n)
				break
			}
		}
	}
}

// convSize is a conv's output length along one axis, 0 when it would be empty.
func convSize(n, k, stride, pad int) int {
	if n < 1 || n+2*pad < k {
		return 0
	}
	return (n+2*pad-k)/stride + 1
}

// poolSize is PyTorch's pooling output length (0 when the window does not fit).
func poolSize(n, k, s, p int, ceil bool) int {
	if n < 1 {
		return 0
	}
	return PoolSize(n, k, s, p, p, ceil)
}

// PoolSize is PyTorch's pooled length of n with window k, stride s and
// padding p0 before, p1 after (0 when the window does not fit): in ceil
// mode a last window that starts in the right padding is dropped.
func PoolSize(n, k, s, p0, p1 int, ceil bool) int {
	num := n + p0 + p1 - k
	if num < 0 {
		return 0
	}
	if !ceil {
		return num/s + 1
	}
	o := (num+s-1)/s + 1
	if (o-1)*s >= n+p0 {
		o--
	}
	return o
}

// squareSizes turns a per-axis size function into checkSize's form.
func squareSizes(f func(n int) ([]int, bool)) func(h, w int) ([][2]int, bool) {
	return func(h, w int) ([][2]int, bool) {
		hs, ok1 := f(h)
		ws, ok2 := f(w)
		if !ok1 || !ok2 {
			return nil, false
		}
		out := make([][2]int, len(hs))
		for i := range hs {
			out[i] = [2]int{hs[i], ws[i]}
		}
		return out, true
	}
}
