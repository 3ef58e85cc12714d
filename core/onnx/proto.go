// Package onnx reads ONNX models (a small protobuf reader of the messages a
// CNN needs) and runs them on the project's kernels as an encoder.
package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/posprobe/posprobe/core/weights"
)

// Limits keep a hostile file from exhausting memory: every count and size is
// checked before anything is allocated for it.
const (
	MaxFileBytes   = 2 << 30 // a model file (protobuf's own limit)
	MaxNodes       = 100_000
	MaxTensorElems = 1 << 27 // 512 MiB of float32 (VGG16's largest weight has 103M values)
	MaxRank        = 8
	maxDepth       = 8 // nested graphs in attributes
)

// Data types of TensorProto.data_type.
const (
	TypeFloat   = 1
	TypeUint8   = 2
	TypeInt8    = 3
	TypeInt32   = 6
	TypeInt64   = 7
	TypeBool    = 9
	TypeFloat16 = 10
	TypeDouble  = 11
)

// Model is an ONNX ModelProto: the parts posprobe uses.
type Model struct {
	IRVersion int64
	Opset     int64 // version of the default ("" or "ai.onnx") domain
	Producer  string
	Graph     *Graph
}

// Graph is a GraphProto.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	ValueInfo    []ValueInfo
}

// Node is a NodeProto.
type Node struct {
	Name, OpType, Domain string
	Inputs, Outputs      []string
	Attrs                map[string]*Attr
}

// Attr is an AttributeProto (graph-valued attributes are noted, not kept).
type Attr struct {
	Name    string
	Type    int32
	F       float32
	I       int64
	S       []byte
	T       *Tensor
	Floats  []float32
	Ints    []int64
	Strings [][]byte
	Graph   bool
}

// ValueInfo is a ValueInfoProto: a name and, when known, the element type
// and shape (a dim of -1 is symbolic or unknown).
type ValueInfo struct {
	Name     string
	ElemType int32
	Shape    []int64
	HasShape bool
}

// Tensor is a TensorProto. Float data ends up in F (converted from double or
// float16), integer data in I; External names a data file location relative
// to the model (resolved by ReadFile).
type Tensor struct {
	Name     string
	Dims     []int64
	DataType int32
	F        []float32
	I        []int64
	raw      []byte
	External *External
}

// External locates a tensor's bytes in a separate file.
type External struct {
	Location       string
	Offset, Length int64
}

// Elems is the number of values the dims describe (checked against the cap
// when the tensor was read).
func (t *Tensor) Elems() int {
	n := 1
	for _, d := range t.Dims {
		n *= int(d)
	}
	return n
}

var errTrunc = errors.New("truncated or malformed protobuf")

// decoder walks the fields of one message.
type decoder struct {
	b []byte
}

// eachField calls f on every field of the message b, in order, and stops at
// the first error; v is the varint/fixed value, bs the bytes.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error) error {
	d := decoder{b: b}
	for len(d.b) > 0 {
		num, typ, v, bs, err := d.next()
		if err != nil {
			return err
		}
		if err := f(num, typ, v, bs); err != nil {
			return err
		}
	}
	return nil
}

// eachBytes calls f on every length-delimited field of b (strings and
// messages), skipping the others.
func eachBytes(b []byte, f func(num protowire.Number, bs []byte) error) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		return f(num, bs)
	})
}

// next returns the next field; v is the varint/fixed value or the bytes.
func (d *decoder) next() (num protowire.Number, typ protowire.Type, v uint64, bs []byte, err error) {
	num, typ, n := protowire.ConsumeTag(d.b)
	if n < 0 {
		return 0, 0, 0, nil, errTrunc
	}
	d.b = d.b[n:]
	switch typ {
	case protowire.VarintType:
		v, n = protowire.ConsumeVarint(d.b)
	case protowire.Fixed32Type:
		var u uint32
		u, n = protowire.ConsumeFixed32(d.b)
		v = uint64(u)
	case protowire.Fixed64Type:
		v, n = protowire.ConsumeFixed64(d.b)
	case protowire.BytesType:
		bs, n = protowire.ConsumeBytes(d.b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, d.b)
	}
	if n < 0 {
		return 0, 0, 0, nil, errTrunc
	}
	d.b = d.b[n:]
	return num, typ, v, bs, nil
}

// ints appends a repeated int64 field, packed or not.
func ints(dst []int64, typ protowire.Type, v uint64, bs []byte, limit int) ([]int64, error) {
	if typ == protowire.VarintType {
		if len(dst) >= limit {
			return nil, fmt.Errorf("more than %d values", limit)
		}
		return append(dst, int64(v)), nil
	}
	if typ != protowire.BytesType {
		return nil, errTrunc
	}
	for len(bs) > 0 {
		u, n := protowire.ConsumeVarint(bs)
		if n < 0 {
			return nil, errTrunc
		}
		if len(dst) >= limit {
			return nil, fmt.Errorf("more than %d values", limit)
		}
		dst = append(dst, int64(u))
		bs = bs[n:]
	}
	return dst, nil
}

// floats appends a repeated float field, packed or not.
func floats(dst []float32, typ protowire.Type, v uint64, bs []byte, limit int) ([]float32, error) {
	if typ == protowire.Fixed32Type {
		if len(dst) >= limit {
			return nil, fmt.Errorf("more than %d values", limit)
		}
		return append(dst, math.Float32frombits(uint32(v))), nil
	}
	if typ != protowire.BytesType || len(bs)%4 != 0 {
		return nil, errTrunc
	}
	if len(dst)+len(bs)/4 > limit {
		return nil, fmt.Errorf("more than %d values", limit)
	}
	for i := 0; i < len(bs); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(bs[i:])))
	}
	return dst, nil
}

// doubles appends a repeated double field as float32.
func doubles(dst []float32, typ protowire.Type, v uint64, bs []byte, limit int) ([]float32, error) {
	if typ == protowire.Fixed64Type {
		if len(dst) >= limit {
			return nil, fmt.Errorf("more than %d values", limit)
		}
		return append(dst, float32(math.Float64frombits(v))), nil
	}
	if typ != protowire.BytesType || len(bs)%8 != 0 {
		return nil, errTrunc
	}
	if len(dst)+len(bs)/8 > limit {
		return nil, fmt.Errorf("more than %d values", limit)
	}
	for i := 0; i < len(bs); i += 8 {
		dst = append(dst, float32(math.Float64frombits(binary.LittleEndian.Uint64(bs[i:]))))
	}
	return dst, nil
}

// ParseModel decodes a ModelProto. Tensors with external data are left
// unresolved (see ReadFile); raw tensor bytes are decoded into F or I.
func ParseModel(b []byte) (*Model, error) {
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("model is %d bytes, over the %d limit", len(b), MaxFileBytes)
	}
	m := &Model{}
	d := decoder{b: b}
	opsetSeen := false
	for len(d.b) > 0 {
		num, typ, v, bs, err := d.next()
		if err != nil {
			return nil, err
		}
		switch {
		case num == 1 && typ == protowire.VarintType:
			m.IRVersion = int64(v)
		case num == 2 && typ == protowire.BytesType:
			m.Producer = string(bs)
		case num == 7 && typ == protowire.BytesType:
			if m.Graph != nil {
				return nil, errors.New("more than one graph")
			}
			if m.Graph, err = parseGraph(bs, 0); err != nil {
				return nil, err
			}
		case num == 8 && typ == protowire.BytesType:
			dom, ver, err := parseOpset(bs)
			if err != nil {
				return nil, err
			}
			if dom == "" || dom == "ai.onnx" {
				m.Opset, opsetSeen = ver, true
			}
		}
	}
	if m.Graph == nil {
		return nil, errors.New("not an ONNX model (no graph)")
	}
	if !opsetSeen {
		m.Opset = 1
	}
	return m, nil
}

func parseOpset(b []byte) (string, int64, error) {
	var dom string
	var ver int64
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		if num == 1 && typ == protowire.BytesType {
			dom = string(bs)
		} else if num == 2 && typ == protowire.VarintType {
			ver = int64(v)
		}
		return nil
	})
	return dom, ver, err
}

func parseGraph(b []byte, depth int) (*Graph, error) {
	if depth > maxDepth {
		return nil, errors.New("graphs nested too deep")
	}
	g := &Graph{}
	err := eachBytes(b, func(num protowire.Number, bs []byte) error {
		switch num {
		case 1:
			if len(g.Nodes) >= MaxNodes {
				return fmt.Errorf("more than %d nodes", MaxNodes)
			}
			n, err := parseNode(bs, depth)
			if err != nil {
				return fmt.Errorf("node %d: %w", len(g.Nodes), err)
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			g.Name = string(bs)
		case 5:
			if len(g.Initializers) >= MaxNodes {
				return fmt.Errorf("more than %d initializers", MaxNodes)
			}
			t, err := parseTensor(bs)
			if err != nil {
				return fmt.Errorf("initializer %d: %w", len(g.Initializers), err)
			}
			g.Initializers = append(g.Initializers, t)
		case 11, 12, 13:
			vi, err := parseValueInfo(bs)
			if err != nil {
				return err
			}
			lst := map[protowire.Number]*[]ValueInfo{11: &g.Inputs, 12: &g.Outputs, 13: &g.ValueInfo}[num]
			if len(*lst) >= MaxNodes {
				return fmt.Errorf("more than %d value infos", MaxNodes)
			}
			*lst = append(*lst, vi)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func parseNode(b []byte, depth int) (*Node, error) {
	n := &Node{Attrs: map[string]*Attr{}}
	err := eachBytes(b, func(num protowire.Number, bs []byte) error {
		switch num {
		case 1, 2:
			l := &n.Inputs
			if num == 2 {
				l = &n.Outputs
			}
			if len(*l) >= 1024 {
				return errors.New("more than 1024 inputs or outputs")
			}
			*l = append(*l, string(bs))
		case 3:
			n.Name = string(bs)
		case 4:
			n.OpType = string(bs)
		case 7:
			n.Domain = string(bs)
		case 5:
			if len(n.Attrs) >= 256 {
				return errors.New("more than 256 attributes")
			}
			a, err := parseAttr(bs, depth)
			if err != nil {
				return err
			}
			n.Attrs[a.Name] = a
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

func parseAttr(b []byte, depth int) (*Attr, error) {
	a := &Attr{}
	const limit = 1 << 20
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) (err error) {
		switch num {
		case 1:
			a.Name = string(bs)
		case 20:
			a.Type = int32(v)
		case 2:
			a.F = math.Float32frombits(uint32(v))
		case 3:
			a.I = int64(v)
		case 4:
			a.S = bs
		case 5:
			a.T, err = parseTensor(bs)
		case 6, 11:
			if _, err := parseGraph(bs, depth+1); err != nil {
				return err
			}
			a.Graph = true
		case 7:
			a.Floats, err = floats(a.Floats, typ, v, bs, limit)
		case 8:
			a.Ints, err = ints(a.Ints, typ, v, bs, limit)
		case 9:
			if len(a.Strings) >= limit {
				return errors.New("too many strings")
			}
			a.Strings = append(a.Strings, bs)
		}
		if err != nil {
			return fmt.Errorf("attribute %s: %w", a.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func parseValueInfo(b []byte) (ValueInfo, error) {
	var vi ValueInfo
	err := eachBytes(b, func(num protowire.Number, bs []byte) error {
		switch num {
		case 1:
			vi.Name = string(bs)
		case 2: // TypeProto
			return parseType(bs, &vi)
		}
		return nil
	})
	return vi, err
}

// parseType reads TypeProto.tensor_type (elem_type, shape).
func parseType(b []byte, vi *ValueInfo) error {
	return eachBytes(b, func(num protowire.Number, bs []byte) error {
		if num != 1 {
			return nil
		}
		return eachField(bs, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
			if num == 1 && typ == protowire.VarintType {
				vi.ElemType = int32(v)
			} else if num == 2 && typ == protowire.BytesType {
				vi.HasShape = true
				return parseShape(bs, vi)
			}
			return nil
		})
	})
}

func parseShape(b []byte, vi *ValueInfo) error {
	return eachBytes(b, func(num protowire.Number, bs []byte) error {
		if num != 1 {
			return nil
		}
		if len(vi.Shape) >= MaxRank {
			return fmt.Errorf("value %s: rank over %d", vi.Name, MaxRank)
		}
		dim := int64(-1)
		err := eachField(bs, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
			if num == 1 && typ == protowire.VarintType {
				dim = int64(v)
			}
			return nil
		})
		vi.Shape = append(vi.Shape, dim)
		return err
	})
}

func parseTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	var f64 []float32
	location := int64(0)
	var ext []([2]string)
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) (err error) {
		switch num {
		case 1:
			t.Dims, err = ints(t.Dims, typ, v, bs, MaxRank)
		case 2:
			t.DataType = int32(v)
		case 4:
			t.F, err = floats(t.F, typ, v, bs, MaxTensorElems)
		case 5, 7:
			t.I, err = ints(t.I, typ, v, bs, MaxTensorElems)
		case 8:
			t.Name = string(bs)
		case 9:
			t.raw = bs
		case 10:
			f64, err = doubles(f64, typ, v, bs, MaxTensorElems)
		case 13:
			kv, err := parseEntry(bs)
			if err != nil {
				return err
			}
			if len(ext) < 16 {
				ext = append(ext, kv)
			}
		case 14:
			location = int64(v)
		}
		if err != nil {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n := int64(1)
	for _, dim := range t.Dims {
		if dim < 0 || dim > MaxTensorElems {
			return nil, fmt.Errorf("tensor %q: bad dimension %d", t.Name, dim)
		}
		n *= dim
		if n > MaxTensorElems {
			return nil, fmt.Errorf("tensor %q: dims %v over the %d-value limit", t.Name, t.Dims, MaxTensorElems)
		}
	}
	if f64 != nil {
		t.F = f64
	}
	if location == 1 {
		e := &External{Length: -1}
		for _, kv := range ext {
			var err error
			switch kv[0] {
			case "location":
				e.Location = kv[1]
			case "offset":
				_, err = fmt.Sscan(kv[1], &e.Offset)
			case "length":
				_, err = fmt.Sscan(kv[1], &e.Length)
			}
			if err != nil {
				return nil, fmt.Errorf("tensor %q: external data %s=%q: %v", t.Name, kv[0], kv[1], err)
			}
		}
		if e.Location == "" || e.Offset < 0 {
			return nil, fmt.Errorf("tensor %q: external data without a location", t.Name)
		}
		t.External = e
		return t, nil
	}
	if t.raw != nil {
		if err := t.decodeRaw(t.raw); err != nil {
			return nil, err
		}
	}
	return t, t.check()
}

func parseEntry(b []byte) ([2]string, error) {
	var kv [2]string
	err := eachField(b, func(num protowire.Number, _ protowire.Type, _ uint64, bs []byte) error {
		if num == 1 || num == 2 {
			kv[num-1] = string(bs)
		}
		return nil
	})
	return kv, err
}

// elemSize is the byte size of a raw value of the type, 0 if unsupported.
func elemSize(dt int32) int {
	switch dt {
	case TypeFloat, TypeInt32:
		return 4
	case TypeInt64, TypeDouble:
		return 8
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeFloat16:
		return 2
	}
	return 0
}

// decodeRaw converts raw little-endian bytes into F (float types) or I.
func (t *Tensor) decodeRaw(raw []byte) error {
	sz := elemSize(t.DataType)
	if sz == 0 {
		return fmt.Errorf("tensor %q: data type %d is not supported", t.Name, t.DataType)
	}
	n := t.Elems()
	if len(raw) != n*sz {
		return fmt.Errorf("tensor %q: %d bytes of data for %d values of %d bytes", t.Name, len(raw), n, sz)
	}
	t.raw = nil
	switch t.DataType {
	case TypeFloat:
		t.F = make([]float32, n)
		for i := range t.F {
			t.F[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case TypeDouble:
		t.F = make([]float32, n)
		for i := range t.F {
			t.F[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case TypeFloat16:
		t.F = make([]float32, n)
		for i := range t.F {
			t.F[i] = weights.HalfToFloat(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	default:
		t.I = make([]int64, n)
		for i := range t.I {
			switch sz {
			case 8:
				t.I[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			case 4:
				t.I[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			default:
				if t.DataType == TypeInt8 {
					t.I[i] = int64(int8(raw[i]))
				} else {
					t.I[i] = int64(raw[i])
				}
			}
		}
	}
	return nil
}

// IsFloat reports whether the tensor holds floating-point values.
func (t *Tensor) IsFloat() bool {
	return t.DataType == TypeFloat || t.DataType == TypeDouble || t.DataType == TypeFloat16
}

// check verifies that the decoded values match the dims.
func (t *Tensor) check() error {
	n := t.Elems()
	if t.IsFloat() {
		if len(t.F) != n {
			return fmt.Errorf("tensor %q: %d values for dims %v", t.Name, len(t.F), t.Dims)
		}
		return nil
	}
	if elemSize(t.DataType) == 0 {
		return fmt.Errorf("tensor %q: data type %d is not supported", t.Name, t.DataType)
	}
	if len(t.I) != n {
		return fmt.Errorf("tensor %q: %d values for dims %v", t.Name, len(t.I), t.Dims)
	}
	return nil
}
