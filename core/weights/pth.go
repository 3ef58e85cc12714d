package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path"
	"strconv"
	"strings"

	"gorgonia.org/tensor"
)

// storageType describes a torch.<X>Storage class: element size and the
// conversion of one little-endian element to float32.
type storageType struct {
	name   string
	size   int
	decode func([]byte) float32
}

var storageTypes = map[string]*storageType{}

func init() {
	for _, st := range []*storageType{
		{"FloatStorage", 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }},
		{"HalfStorage", 2, func(b []byte) float32 { return HalfToFloat(binary.LittleEndian.Uint16(b)) }},
		{"BFloat16Storage", 2, func(b []byte) float32 { return bf16ToFloat(binary.LittleEndian.Uint16(b)) }},
		{"DoubleStorage", 8, func(b []byte) float32 { return float32(math.Float64frombits(binary.LittleEndian.Uint64(b))) }},
		// Integer storages (num_batches_tracked is a LongStorage) are kept as float32.
		{"LongStorage", 8, func(b []byte) float32 { return float32(int64(binary.LittleEndian.Uint64(b))) }},
		{"IntStorage", 4, func(b []byte) float32 { return float32(int32(binary.LittleEndian.Uint32(b))) }},
		{"ShortStorage", 2, func(b []byte) float32 { return float32(int16(binary.LittleEndian.Uint16(b))) }},
		{"CharStorage", 1, func(b []byte) float32 { return float32(int8(b[0])) }},
		{"ByteStorage", 1, func(b []byte) float32 { return float32(b[0]) }},
		{"BoolStorage", 1, func(b []byte) float32 {
			if b[0] != 0 {
				return 1
			}
			return 0
		}},
	} {
		storageTypes[st.name] = st
	}
}

// pthStorage is one storage named by a persistent id; data is filled in
// from the zip entry or the legacy trailer.
type pthStorage struct {
	key   string
	typ   *storageType
	numel int
	data  []byte
	// A legacy storage view: elements [viewOff, viewOff+numel) of the root.
	root    *pthStorage
	viewOff int
}

func (s *pthStorage) bytes() []byte {
	if s.root == nil {
		return s.data
	}
	b := s.root.data
	lo, hi := s.viewOff*s.typ.size, (s.viewOff+s.numel)*s.typ.size
	if lo < 0 || hi > len(b) || lo > hi {
		return nil
	}
	return b[lo:hi]
}

// pthTensor is a tensor rebuilt by torch._utils._rebuild_tensor(_v2).
type pthTensor struct {
	storage      *pthStorage
	offset       int
	size, stride []int
}

const (
	gOrderedDict = "collections.OrderedDict"
	gRebuildV2   = "torch._utils._rebuild_tensor_v2"
	gRebuild     = "torch._utils._rebuild_tensor"
	gRebuildPar  = "torch._utils._rebuild_parameter"
)

// pthGlobal is the whitelist: state_dict containers, tensor rebuilders and
// storage classes. Anything else is refused before it is used.
func pthGlobal(module, name string) (any, error) {
	g := pyGlobal{module, name}
	switch g.String() {
	case gOrderedDict, gRebuildV2, gRebuild, gRebuildPar:
		return g, nil
	}
	if module == "torch" && storageTypes[name] != nil {
		return g, nil
	}
	return nil, fmt.Errorf("pickle global %s is not allowed (only tensors and OrderedDicts are read; nothing is executed)", g)
}

func asInt(v any, what string) (int, error) {
	i, ok := v.(int64)
	if !ok || i < 0 || i > math.MaxInt32*int64(1<<20) {
		return 0, fmt.Errorf("%s is %v, not a non-negative integer", what, v)
	}
	return int(i), nil
}

func asInts(v any, what string) ([]int, error) {
	t, ok := v.(pyTuple)
	if !ok {
		return nil, fmt.Errorf("%s is %T, not a tuple", what, v)
	}
	out := make([]int, len(t))
	for i, x := range t {
		n, err := asInt(x, what)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func pthCall(fn any, args pyTuple) (any, error) {
	g, ok := fn.(pyGlobal)
	if !ok {
		return nil, fmt.Errorf("pickle calls a %T", fn)
	}
	switch g.String() {
	case gOrderedDict:
		d := newDict()
		if len(args) == 0 {
			return d, nil
		}
		// Python 2 pickles pass the items: OrderedDict([[k, v], ...]).
		items, ok := args[0].(*pyList)
		if len(args) != 1 || !ok {
			return nil, errors.New("OrderedDict with unexpected constructor arguments")
		}
		for _, it := range items.items {
			kv, _ := pySeq(it)
			if len(kv) != 2 {
				return nil, errors.New("OrderedDict item is not a (key, value) pair")
			}
			if err := d.set(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
		return d, nil
	case gRebuildV2, gRebuild:
		if len(args) < 4 {
			return nil, fmt.Errorf("%s with %d arguments", g, len(args))
		}
		st, ok := args[0].(*pthStorage)
		if !ok {
			return nil, fmt.Errorf("%s: first argument is %T, not a storage", g, args[0])
		}
		off, err := asInt(args[1], "storage offset")
		if err != nil {
			return nil, err
		}
		size, err := asInts(args[2], "tensor size")
		if err != nil {
			return nil, err
		}
		stride, err := asInts(args[3], "tensor stride")
		if err != nil {
			return nil, err
		}
		if len(size) != len(stride) {
			return nil, fmt.Errorf("tensor size %v and stride %v differ in rank", size, stride)
		}
		return &pthTensor{storage: st, offset: off, size: size, stride: stride}, nil
	case gRebuildPar:
		if len(args) < 1 {
			return nil, errors.New("_rebuild_parameter without data")
		}
		if _, ok := args[0].(*pthTensor); !ok {
			return nil, fmt.Errorf("_rebuild_parameter of %T", args[0])
		}
		return args[0], nil
	}
	return nil, fmt.Errorf("pickle calls %s, which is not a constructor", g)
}

// storagePID parses ('storage', torch.XStorage, key, location, numel[, view]).
func storagePID(pid any) (typ *storageType, key string, numel int, view pyTuple, err error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) < 5 || t[0] != "storage" {
		return nil, "", 0, nil, fmt.Errorf("persistent id %v is not a storage", pid)
	}
	g, ok := t[1].(pyGlobal)
	if !ok || g.module != "torch" || storageTypes[g.name] == nil {
		return nil, "", 0, nil, fmt.Errorf("storage type %v not supported", t[1])
	}
	key, ok = t[2].(string)
	if !ok {
		return nil, "", 0, nil, fmt.Errorf("storage key %v is not a string", t[2])
	}
	numel, err = asInt(t[4], "storage size")
	if err != nil {
		return nil, "", 0, nil, err
	}
	if len(t) > 5 && t[5] != nil {
		if view, ok = t[5].(pyTuple); !ok || len(view) != 3 {
			return nil, "", 0, nil, fmt.Errorf("storage view %v not understood", t[5])
		}
	}
	return storageTypes[g.name], key, numel, view, nil
}

// LoadPth reads a PyTorch checkpoint written by torch.save: the zip format of
// torch >= 1.6 or the legacy format of older releases (torchvision's ImageNet
// checkpoints). Nested dicts give dotted names; non-tensor values are skipped.
func LoadPth(p string) (*Set, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return ParsePth(data, p)
}

// ParsePth is LoadPth on the bytes of the file; source names it in errors.
func ParsePth(data []byte, source string) (*Set, error) {
	var s *Set
	var err error
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		s, err = parsePthZip(data, source)
	case len(data) > 2 && data[0] == 0x80:
		s, err = parsePthLegacy(data, source)
	default:
		err = errors.New("not a torch checkpoint (neither zip nor legacy pickle)")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return s, nil
}

func parsePthZip(data []byte, source string) (*Set, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("bad zip checkpoint: %w", err)
	}
	files := map[string]*zip.File{}
	prefix := ""
	for _, f := range zr.File {
		files[f.Name] = f
		// The archive's top folder is named after the saved file.
		if dir, base := path.Split(f.Name); base == "data.pkl" && strings.Count(dir, "/") == 1 {
			if prefix != "" {
				return nil, errors.New("zip checkpoint holds more than one data.pkl")
			}
			prefix = dir
		}
	}
	if prefix == "" {
		return nil, errors.New("zip checkpoint without <folder>/data.pkl")
	}
	// torch stores entries uncompressed; a compressed copy may expand, but
	// not beyond a budget tied to the file size (no zip bombs).
	budget := 8 * int64(len(data))
	read := func(name string) ([]byte, error) {
		f := files[name]
		if f == nil {
			return nil, fmt.Errorf("zip checkpoint lacks %s", name)
		}
		// Stored entries (what torch writes) are used in place, without a copy.
		if off, err := f.DataOffset(); err == nil && f.Method == zip.Store &&
			f.CompressedSize64 == f.UncompressedSize64 && off >= 0 && off <= int64(len(data)) &&
			f.UncompressedSize64 <= uint64(int64(len(data))-off) {
			b := data[off : off+int64(f.UncompressedSize64) : off+int64(f.UncompressedSize64)]
			if crc32.ChecksumIEEE(b) != f.CRC32 {
				return nil, fmt.Errorf("%s: %w", name, zip.ErrChecksum)
			}
			return b, nil
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, budget+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if budget -= int64(len(b)); budget < 0 {
			return nil, fmt.Errorf("%s expands beyond 8 times the checkpoint size", name)
		}
		return b, nil
	}
	if f := files[prefix+"byteorder"]; f != nil {
		if b, err := read(prefix + "byteorder"); err != nil || string(b) != "little" {
			return nil, fmt.Errorf("byteorder %q not supported", b)
		}
	}
	pkl, err := read(prefix + "data.pkl")
	if err != nil {
		return nil, err
	}
	storages := map[string]*pthStorage{}
	u := &unpickler{data: pkl, global: pthGlobal, call: pthCall}
	u.persistent = func(pid any) (any, error) {
		typ, key, numel, _, err := storagePID(pid)
		if err != nil {
			return nil, err
		}
		if st := storages[key]; st != nil {
			if st.typ != typ {
				return nil, fmt.Errorf("storage %s used as %s and %s", key, st.typ.name, typ.name)
			}
			return st, nil
		}
		b, err := read(prefix + "data/" + key)
		if err != nil {
			return nil, err
		}
		if len(b) != numel*typ.size {
			return nil, fmt.Errorf("storage data/%s has %d bytes, want %d %s elements", key, len(b), numel, typ.name)
		}
		st := &pthStorage{key: key, typ: typ, numel: numel, data: b}
		storages[key] = st
		return st, nil
	}
	obj, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	return pthSet(obj, source, len(data))
}

// legacyMagic is torch's MAGIC_NUMBER 0x1950a86a20f9469cfc6c, little-endian.
var legacyMagic = []byte{0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

func parsePthLegacy(data []byte, source string) (*Set, error) {
	u := &unpickler{data: data, global: pthGlobal, call: pthCall}
	next := func(what string) (any, error) {
		u.stack, u.marks, u.memo = nil, nil, map[int]any{}
		v, err := u.run()
		if err != nil {
			return nil, fmt.Errorf("legacy checkpoint, %s: %w", what, err)
		}
		return v, nil
	}
	magic, err := next("magic number")
	if err != nil {
		return nil, err
	}
	if b, ok := magic.(pyBigInt); !ok || !bytes.Equal(b, legacyMagic) {
		return nil, errors.New("not a torch checkpoint (legacy magic number missing)")
	}
	proto, err := next("protocol version")
	if err != nil {
		return nil, err
	}
	if proto != int64(1001) {
		return nil, fmt.Errorf("legacy checkpoint protocol %v not supported (want 1001)", proto)
	}
	info, err := next("sys_info")
	if err != nil {
		return nil, err
	}
	if d, ok := info.(*pyDict); ok {
		if i, ok := d.index["slittle_endian"]; ok && d.vals[i] != true {
			return nil, errors.New("big-endian checkpoint not supported")
		}
	}
	storages := map[string]*pthStorage{}
	var views []*pthStorage
	u.persistent = func(pid any) (any, error) {
		typ, key, numel, view, err := storagePID(pid)
		if err != nil {
			return nil, err
		}
		root := storages[key]
		if root == nil {
			root = &pthStorage{key: key, typ: typ, numel: numel}
			storages[key] = root
		} else if root.typ != typ || root.numel != numel {
			return nil, fmt.Errorf("storage %s declared twice differently", key)
		}
		if view == nil {
			return root, nil
		}
		off, err1 := asInt(view[1], "storage view offset")
		size, err2 := asInt(view[2], "storage view size")
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		v := &pthStorage{key: fmt.Sprint(view[0]), typ: typ, numel: size, root: root, viewOff: off}
		views = append(views, v)
		return v, nil
	}
	obj, err := next("state pickle")
	if err != nil {
		return nil, err
	}
	u.persistent = nil
	keysV, err := next("storage keys")
	if err != nil {
		return nil, err
	}
	keys, ok := keysV.(*pyList)
	if !ok {
		return nil, fmt.Errorf("legacy checkpoint: storage key list is %T", keysV)
	}
	pos := u.pos
	for _, k := range keys.items {
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("legacy checkpoint: storage key %v is not a string", k)
		}
		st := storages[ks]
		if st == nil {
			return nil, fmt.Errorf("legacy checkpoint: storage %s is not used by any tensor", ks)
		}
		if len(data)-pos < 8 {
			return nil, fmt.Errorf("legacy checkpoint: storage %s is missing (file truncated)", ks)
		}
		n := binary.LittleEndian.Uint64(data[pos:])
		pos += 8
		if n != uint64(st.numel) {
			return nil, fmt.Errorf("legacy checkpoint: storage %s has %d elements, pickle says %d", ks, n, st.numel)
		}
		nb := st.numel * st.typ.size
		if nb > len(data)-pos {
			return nil, fmt.Errorf("legacy checkpoint: storage %s needs %d bytes, %d left (file truncated)", ks, nb, len(data)-pos)
		}
		if st.data != nil {
			return nil, fmt.Errorf("legacy checkpoint: storage %s listed twice", ks)
		}
		st.data = data[pos : pos+nb : pos+nb]
		pos += nb
	}
	for k, st := range storages {
		if st.data == nil {
			return nil, fmt.Errorf("legacy checkpoint: data of storage %s is missing", k)
		}
	}
	for _, v := range views {
		if v.viewOff+v.numel > v.root.numel {
			return nil, fmt.Errorf("legacy checkpoint: view %s of storage %s is out of range", v.key, v.root.key)
		}
	}
	return pthSet(obj, source, len(data))
}

// pthSet collects the tensors of the unpickled object.
func pthSet(obj any, source string, fileSize int) (*Set, error) {
	s := NewSet(source)
	seen := map[*pyDict]bool{}
	// Views may repeat storage elements (tied weights, expand), but all
	// tensors together may not hold more elements than twice the file's bytes.
	budget := 2 * fileSize
	var walk func(v any, name string, depth int) error
	walk = func(v any, name string, depth int) error {
		switch v := v.(type) {
		case *pthTensor:
			if s.Has(name) {
				return fmt.Errorf("tensor %q appears twice", name)
			}
			t, err := v.materialize(budget)
			if err != nil {
				return fmt.Errorf("tensor %q: %w", name, err)
			}
			budget -= t.Len()
			s.Add(name, t)
		case *pyDict:
			if seen[v] || depth > 16 {
				return nil
			}
			seen[v] = true
			for i, k := range v.keys {
				ks := fmt.Sprint(k)
				if i, ok := k.(int64); ok {
					ks = strconv.FormatInt(i, 10)
				}
				if name != "" {
					ks = name + "." + ks
				}
				if err := walk(v.vals[i], ks, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(obj, "", 0); err != nil {
		return nil, err
	}
	if len(s.Tensors) == 0 {
		return nil, fmt.Errorf("%s: no tensors in checkpoint", source)
	}
	return s, nil
}

// materialize gathers the tensor's elements in row-major order, honouring
// storage offset and strides, after checking they stay inside the storage.
func (t *pthTensor) materialize(limit int) (*tensor.Dense, error) {
	n, err := numel(t.size, limit)
	if err != nil {
		return nil, err
	}
	st := t.storage
	raw := st.bytes()
	if raw == nil || len(raw) != st.numel*st.typ.size {
		return nil, fmt.Errorf("storage %s has no data", st.key)
	}
	if n == 0 {
		return newTensor(t.size, []float32{}), nil
	}
	// The last element (all strides are non-negative) must lie inside the
	// storage; checked term by term so nothing overflows.
	last := t.offset
	for i, d := range t.size {
		if last >= st.numel || t.stride[i] != 0 && d-1 > (st.numel-last)/t.stride[i] {
			last = -1
			break
		}
		last += (d - 1) * t.stride[i]
	}
	if last < 0 || last >= st.numel {
		return nil, fmt.Errorf("size %v stride %v offset %d reach beyond the %d-element storage",
			t.size, t.stride, t.offset, st.numel)
	}
	es := st.typ.size
	out := make([]float32, n)
	idx := make([]int, len(t.size))
	off := t.offset
	for i := range out {
		out[i] = st.typ.decode(raw[off*es:])
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			off += t.stride[d]
			if idx[d] < t.size[d] {
				break
			}
			off -= idx[d] * t.stride[d]
			idx[d] = 0
		}
	}
	return newTensor(t.size, out), nil
}

// pySeq returns the items of a Python list or tuple; ok is false for
// anything else.
func pySeq(v any) (items []any, ok bool) {
	switch v := v.(type) {
	case *pyList:
		return v.items, true
	case pyTuple:
		return v, true
	}
	return nil, false
}
