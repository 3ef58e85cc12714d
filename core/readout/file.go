package readout

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/posprobe/posprobe/core/netspec"
	"github.com/posprobe/posprobe/core/posmap"
)

// Meta says what a readout was trained on; it travels in the file header.
type Meta struct {
	Encoder string          `json:"encoder"`
	Init    netspec.Init    `json:"init"`    // encoder weights: imagenet or random
	Seed    uint64          `json:"seed"`    // encoder seed (random init)
	Padding netspec.PadMode `json:"padding"` // encoder padding mode
	// Normalize: ImageNet mean/std applied to the input; InputSize: the
	// encoder input side (0 in files written before it was recorded: 224).
	Normalize bool               `json:"normalize,omitempty"`
	InputSize int                `json:"input_size,omitempty"`
	Target    posmap.Target      `json:"target"`  // H, V, G, HS or VS
	Stripes   string             `json:"stripes"` // HS/VS value range: 01 or pm1
	Training  TrainSummary       `json:"training"`
	Metrics   map[string]float64 `json:"metrics,omitempty"` // scores at save time
}

// TrainSummary records the training data and recipe.
type TrainSummary struct {
	Images       string  `json:"images,omitempty"` // training folder
	NImages      int     `json:"n_images"`
	Epochs       int     `json:"epochs"`
	EpochsDone   int     `json:"epochs_done"`
	LR           float64 `json:"lr"`
	LRDecayEpoch int     `json:"lr_decay_epoch"`
	LRDecay      float64 `json:"lr_decay"`
	Batch        int     `json:"batch"`
	Momentum     float64 `json:"momentum"`
	WeightDecay  float64 `json:"weight_decay"`
	Seed         uint64  `json:"seed"`
	FinalLoss    float64 `json:"final_loss"` // mean MSE of the last epoch
}

// File layout: Magic, uint32 LE version, uint32 LE header length, the JSON
// header, then every parameter as float32 LE in the header's order.
const (
	Magic         = "POSPROBE"
	Version       = 1
	Ext           = ".readout"
	maxHeaderSize = 1 << 20
	maxParams     = 1 << 26 // 256 MB of float32
)

// paramCount is the number of stored values (running stats included).
func paramCount(cfg Config, c int) int {
	n := 0
	for i := 0; i < cfg.Depth; i++ {
		out := c
		if i == cfg.Depth-1 {
			out = 1
		}
		n += out*c*cfg.Kernel*cfg.Kernel + 5*out
		if n > maxParams {
			return n
		}
	}
	return n
}

type header struct {
	Format   string      `json:"format"`
	Version  int         `json:"version"`
	Channels int         `json:"channels"`
	Config   Config      `json:"config"`
	Meta     Meta        `json:"meta"`
	Params   []paramInfo `json:"params"`
}

type paramInfo struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// Save writes the readout.
func (r *Readout) Save(w io.Writer) error {
	h := header{Format: "posprobe readout", Version: Version, Channels: r.Channels, Config: r.Config, Meta: r.Meta}
	ps := r.params()
	for _, p := range ps {
		h.Params = append(h.Params, paramInfo{p.Name, p.Shape})
	}
	js, err := json.Marshal(h)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString(Magic)
	binary.Write(&buf, binary.LittleEndian, uint32(Version))
	binary.Write(&buf, binary.LittleEndian, uint32(len(js)))
	buf.Write(js)
	for _, p := range ps {
		binary.Write(&buf, binary.LittleEndian, p.Data)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// Load reads a readout written by Save; source names the data in errors.
func Load(rd io.Reader, source string) (*Readout, error) {
	fail := func(format string, a ...any) (*Readout, error) {
		return nil, fmt.Errorf("%s: %s", source, fmt.Sprintf(format, a...))
	}
	var pre [16]byte
	if _, err := io.ReadFull(rd, pre[:]); err != nil {
		return fail("not a posprobe readout (too short)")
	}
	if string(pre[:8]) != Magic {
		return fail("not a posprobe readout (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != Version {
		return fail("readout file version %d, this posprobe reads version %d", v, Version)
	}
	n := binary.LittleEndian.Uint32(pre[12:])
	if n > maxHeaderSize {
		return fail("header of %d bytes is implausibly large", n)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(rd, js); err != nil {
		return fail("truncated header")
	}
	var h header
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return fail("bad header: %v", err)
	}
	if h.Version != Version {
		return fail("header says version %d", h.Version)
	}
	if err := h.Config.Validate(); err != nil {
		return fail("%v", err)
	}
	if h.Channels < 1 || h.Channels > MaxChannels {
		return fail("%d input channels (want 1..%d)", h.Channels, MaxChannels)
	}
	total := paramCount(h.Config, h.Channels)
	if total > maxParams {
		return fail("%d parameters is implausibly many", total)
	}
	// Read what is there (bounded by the expected size) before allocating
	// the model.
	data, err := io.ReadAll(io.LimitReader(rd, int64(4*total)+1))
	if err != nil {
		return fail("reading parameters: %v", err)
	}
	if len(data) != 4*total {
		if len(data) > 4*total {
			return fail("trailing data after %d parameters", total)
		}
		return fail("truncated: %d parameter bytes, want %d", len(data), 4*total)
	}
	r, err := New(h.Config, h.Channels, 0)
	if err != nil {
		return fail("%v", err)
	}
	r.Meta = h.Meta
	ps := r.params()
	if len(h.Params) != len(ps) {
		return fail("header lists %d parameters, the config needs %d", len(h.Params), len(ps))
	}
	for i, p := range ps {
		if h.Params[i].Name != p.Name || !slices.Equal(h.Params[i].Shape, p.Shape) {
			return fail("parameter %d is %s %v, the config needs %s %v", i, h.Params[i].Name, h.Params[i].Shape, p.Name, p.Shape)
		}
	}
	off := 0
	for _, p := range ps {
		for i := range p.Data {
			v := math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fail("parameter %s has a non-finite value", p.Name)
			}
			p.Data[i] = v
			off += 4
		}
		if p.state && strings.HasSuffix(p.Name, "running_var") {
			for _, v := range p.Data {
				if v < 0 {
					return fail("negative running variance in %s", p.Name)
				}
			}
		}
	}
	return r, nil
}

// Provenance is what a readout's input features depend on besides the
// photos: the encoder, its weights (init, seed of a random init), padding,
// input normalisation and size, and the taps read.
type Provenance struct {
	Encoder   string
	Init      netspec.Init
	Padding   netspec.PadMode
	Seed      uint64
	Normalize bool
	InputSize int
	Taps      []string
}

// DefaultInputSize is the input side of readouts that do not record one.
const DefaultInputSize = 224

// Check refuses features whose provenance differs from the one the readout
// was trained on, naming every difference. The seed counts only for a
// random init.
func (r *Readout) Check(p Provenance) error {
	m := r.Meta
	var diffs []string
	differ := func(what string, got, want any) {
		diffs = append(diffs, fmt.Sprintf("%s %v (readout: %v)", what, got, want))
	}
	if p.Encoder != m.Encoder {
		differ("encoder", strconv.Quote(p.Encoder), strconv.Quote(m.Encoder))
	}
	if p.Init != m.Init {
		differ("init", p.Init, m.Init)
	} else if p.Init == netspec.InitRandom && p.Seed != m.Seed {
		differ("seed", p.Seed, m.Seed)
	}
	if p.Padding != m.Padding {
		differ("padding", p.Padding, m.Padding)
	}
	if p.Normalize != m.Normalize {
		differ("normalize", p.Normalize, m.Normalize)
	}
	if normSize(p.InputSize) != normSize(m.InputSize) {
		differ("input size", normSize(p.InputSize), normSize(m.InputSize))
	}
	if !slices.Equal(p.Taps, r.Config.Taps) {
		differ("taps", p.Taps, r.Config.Taps)
	}
	if len(diffs) > 0 {
		return errors.New("readout does not fit these features: " + strings.Join(diffs, ", "))
	}
	return nil
}

func normSize(n int) int {
	if n == 0 {
		return DefaultInputSize
	}
	return n
}

// FileName is the shipped readout's name in weights/readouts/, e.g.
// "squeezenet1.1_imagenet_zero_H.readout".
func FileName(encoder string, init netspec.Init, padding netspec.PadMode, target posmap.Target) string {
	return fmt.Sprintf("%s_%s_%s_%s%s", encoder, init, padding, target, Ext)
}
