package encoder

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/internal/testfiles"
	"gorgonia.org/tensor"
)

// samplePhotos returns every step-th photo of the ImageNet sample (sorted),
// with its true class WNID.
func samplePhotos(t *testing.T, data string, step int) (paths, wnids []string) {
	t.Helper()
	all, err := imageio.ListImages(filepath.Join(data, filepath.FromSlash(ImageNetSampleDir)), false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(all); i += step {
		wnid, _, _ := strings.Cut(filepath.Base(all[i]), "_")
		paths = append(paths, all[i])
		wnids = append(wnids, wnid)
	}
	return paths, wnids
}

// classifyPhotos runs c on photos (PIL-like resize to 224, [0,1]) and counts
// top-1 and top-5 hits against the true classes, labelled with ClassLabels.
func classifyPhotos(t *testing.T, c Classifier, data string, step int) (top1, top5, n int) {
	t.Helper()
	if runtime.GOOS == "js" {
		t.Skip("21 photos take minutes in node; the tap comparison covers the wasm build")
	}
	labels, err := ClassLabels(c, data)
	if err != nil {
		t.Fatal(err)
	}
	paths, wnids := samplePhotos(t, data, step)
	for i, p := range paths {
		x, err := imageio.LoadTensor(p, 224)
		if err != nil {
			t.Fatal(err)
		}
		logits, err := c.Classify(x)
		if err != nil {
			t.Fatal(err)
		}
		if s := logits.Shape(); len(s) != 2 || s[0] != 1 || s[1] != len(labels) {
			t.Fatalf("logits shape %v, want [1 %d]", s, len(labels))
		}
		top := TopK(nn.Data(logits), 5)
		var names []string
		for j, k := range top {
			names = append(names, labels[k].Name)
			if labels[k].WNID == wnids[i] {
				top5++
				if j == 0 {
					top1++
				}
			}
		}
		t.Logf("%s: %s", filepath.Base(p), strings.Join(names, ", "))
	}
	return top1, top5, len(paths)
}

// TestDarknetClassifiesPhotos: Tiny Darknet (59% top-1 / 83% top-5 on all
// 1000 sample photos in the PyTorch reference with this class order) must
// name the true class of most of 21 photos. A wrong class order gives ~0.
func TestDarknetClassifiesPhotos(t *testing.T) { checkClassifies(t, "darknet-tiny", "59% and 83%") }

// TestSqueezeNetClassifiesPhotos is the same check for SqueezeNet 1.1 (sorted
// synset order, ImageNet mean/std inside Classify; ~58% top-1, ~80% top-5).
func TestSqueezeNetClassifiesPhotos(t *testing.T) { checkClassifies(t, "squeezenet1.1", "58% and 80%") }

// checkClassifies wants the pretrained encoder called name to put the true
// class of at least a third of the photos first and of two thirds in its top
// five; reference is its top-1 and top-5 in the PyTorch reference.
func checkClassifies(t *testing.T, name, reference string) {
	t.Helper()
	data := testfiles.DataDir(t)
	enc, err := New(name, Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	top1, top5, n := classifyPhotos(t, enc.(Classifier), data, 48)
	t.Logf("%s: top-1 %d/%d, top-5 %d/%d", name, top1, n, top5, n)
	if top1 < n/3 || top5 < n*2/3 {
		t.Errorf("%s: top-1 %d/%d, top-5 %d/%d: expected about %s", name, top1, n, top5, n, reference)
	}
}

// TestDarknetTopologyMatchesTable: the chain parsed from the shipped
// model.json is the built-in table the random-init model uses.
func TestDarknetTopologyMatchesTable(t *testing.T) {
	data := testfiles.DataDir(t)
	enc, err := New("darknet-tiny", Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	var got []dkSpec
	for _, l := range enc.(*darknet).layers {
		got = append(got, l.spec)
	}
	want := darknetTinySpecs(0)
	if !slices.Equal(got, want[:len(want)-1]) {
		t.Errorf("parsed chain differs from the table:\n got %+v\nwant %+v", got, want)
	}
	if h := enc.(*darknet).head; h == nil || h.OutC != 1000 || h.B == nil {
		t.Errorf("classifier conv %+v, want 1000 outputs with bias", h)
	}
}

func TestDarknetClassOrder(t *testing.T) {
	order := (&darknet{}).classOrder()
	if len(order) != 1000 || order[0] != "n02119789" {
		t.Fatalf("%d classes, first %q; want 1000 starting with kit fox n02119789", len(order), order[0])
	}
	seen := map[string]bool{}
	for _, id := range order {
		if !isWNID(id) || seen[id] {
			t.Fatalf("bad or repeated WNID %q", id)
		}
		seen[id] = true
	}
	if data := testfiles.DataDirIfSet(); data != "" {
		sorted, err := ImageNetClasses(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range sorted {
			if !seen[c.WNID] {
				t.Errorf("sample class %s (%s) missing from Darknet's order", c.WNID, c.Name)
			}
		}
	}
}

func TestParseKerasChainRejects(t *testing.T) {
	wrap := func(layers string) json.RawMessage {
		return json.RawMessage(`{"model_config":{"class_name":"Sequential","config":{"layers":[` + layers + `]}}}`)
	}
	conv := `{"class_name":"Conv2D","config":{"name":"c1","filters":4,"kernel_size":[3,3],"strides":[1,1],"padding":"same","use_bias":false,"activation":"linear"}}`
	leaky := `{"class_name":"LeakyReLU","config":{"name":"l1","alpha":0.1}}`
	head := `{"class_name":"Conv2D","config":{"name":"c2","filters":10,"kernel_size":[1,1],"strides":[1,1],"padding":"same","use_bias":true,"activation":"linear"}}`
	gap := `{"class_name":"GlobalAveragePooling2D","config":{"name":"g"}}`
	if specs, err := parseKerasChain(wrap(conv+","+leaky+","+head+","+gap), "m.json"); err != nil || len(specs) != 2 || !specs[1].classHead || specs[0].alpha != 0.1 {
		t.Fatalf("valid chain: %+v, %v", specs, err)
	}
	for name, layers := range map[string]string{
		"stride 2":     strings.Replace(conv, `"strides":[1,1]`, `"strides":[2,2]`, 1) + "," + leaky + "," + head + "," + gap,
		"relu fused":   strings.Replace(conv, `"linear"`, `"relu"`, 1) + "," + head + "," + gap,
		"no head":      conv + "," + leaky,
		"unknown":      conv + "," + `{"class_name":"Dense","config":{"name":"d"}}`,
		"3x3 pool":     conv + "," + leaky + "," + `{"class_name":"MaxPooling2D","config":{"name":"p","pool_size":[3,3],"strides":[2,2],"padding":"same"}}` + "," + head + "," + gap,
		"linear inner": conv + "," + head + "," + gap,
	} {
		if _, err := parseKerasChain(wrap(layers), "m.json"); err == nil || !strings.Contains(err.Error(), "m.json") {
			t.Errorf("%s: err = %v, want an error naming m.json", name, err)
		}
	}
	if _, err := parseKerasChain(json.RawMessage(`{"model_config":{}}`), "m.json"); err == nil {
		t.Error("empty topology accepted")
	}
}

// ensure the classifier interface is what the CLI relies on.
var _ interface {
	Classify(*tensor.Dense) (*tensor.Dense, error)
} = (*darknet)(nil)

// TestParseKerasChainEmptyInbound: `"inbound_nodes": [[[]]]` is an error
// naming the file, not an index panic.
func TestParseKerasChainEmptyInbound(t *testing.T) {
	topo := json.RawMessage(`{"model_config":{"class_name":"Model","config":{"layers":[` +
		`{"class_name":"InputLayer","config":{"name":"in","batch_input_shape":[null,224,224,3]},"inbound_nodes":[]},` +
		`{"class_name":"Conv2D","config":{"name":"c1","filters":4,"kernel_size":[3,3],"padding":"same"},"inbound_nodes":[[[]]]}]}}}`)
	if _, err := parseKerasChain(topo, "model.json"); err == nil || !strings.Contains(err.Error(), "model.json") {
		t.Fatalf("err %v, want one naming model.json", err)
	}
}
