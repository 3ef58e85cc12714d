package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
)

// maxSafetensorsHeader is the limit of the reference implementation.
const maxSafetensorsHeader = 100 << 20

type stEntry struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// ParseSafetensors reads a safetensors file. F32 is taken as is; F16, BF16
// and F64 are converted. The tensors must tile the data buffer exactly, as
// the format requires.
func ParseSafetensors(data []byte, source string) (*Set, error) {
	s, err := parseSafetensors(data, source)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return s, nil
}

func parseSafetensors(data []byte, source string) (*Set, error) {
	if len(data) < 8 {
		return nil, errors.New("not a safetensors file (shorter than its 8-byte header size)")
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxSafetensorsHeader || n > uint64(len(data)-8) {
		return nil, fmt.Errorf("safetensors header size %d exceeds the file (%d bytes) or the 100 MB limit", n, len(data))
	}
	hdr := data[8 : 8+n]
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, errors.New("safetensors header is not a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, fmt.Errorf("safetensors header: %w", err)
	}
	buf := data[8+n:]
	type span struct {
		name     string
		from, to int64
	}
	var spans []span
	s := NewSet(source)
	for name, msg := range raw {
		if name == "__metadata__" {
			var meta map[string]string
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, fmt.Errorf("safetensors __metadata__ is not a string map: %w", err)
			}
			continue
		}
		var e stEntry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		var size int
		switch e.Dtype {
		case "F32":
			size = 4
		case "F16", "BF16":
			size = 2
		case "F64":
			size = 8
		default:
			return nil, fmt.Errorf("tensor %q: dtype %q not supported (F32; F16, BF16, F64 are converted)", name, e.Dtype)
		}
		cnt, err := numel(e.Shape, len(buf))
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		from, to := e.DataOffsets[0], e.DataOffsets[1]
		if from < 0 || to < from || to > int64(len(buf)) {
			return nil, fmt.Errorf("tensor %q: data offsets [%d, %d] outside the %d-byte buffer", name, from, to, len(buf))
		}
		if to-from != int64(cnt*size) {
			return nil, fmt.Errorf("tensor %q: %s %v needs %d bytes, offsets give %d", name, e.Dtype, e.Shape, cnt*size, to-from)
		}
		b := buf[from:to]
		var vals []float32
		if e.Dtype == "BF16" {
			vals = make([]float32, cnt)
			for i := range vals {
				vals[i] = bf16ToFloat(binary.LittleEndian.Uint16(b[2*i:]))
			}
		} else {
			vals = decodeFloats(b, size, cnt)
		}
		s.Add(name, newTensor(e.Shape, vals))
		spans = append(spans, span{name, from, to})
	}
	sort.Slice(spans, func(i, j int) bool {
		return spans[i].from < spans[j].from || spans[i].from == spans[j].from && spans[i].to < spans[j].to
	})
	var end int64
	for _, sp := range spans {
		if sp.from != end {
			return nil, fmt.Errorf("tensor %q: data starts at %d, previous tensor ends at %d (overlap or hole)", sp.name, sp.from, end)
		}
		end = sp.to
	}
	if end != int64(len(buf)) {
		return nil, fmt.Errorf("tensors cover %d of the %d data bytes", end, len(buf))
	}
	return s, nil
}

// WriteSafetensors writes s as F32 safetensors, tensors in name order.
func WriteSafetensors(w io.Writer, s *Set) error { return WriteSafetensorsAs(w, s, "F32") }

// WriteSafetensorsAs writes s as safetensors of dtype F32 or F16 (IEEE
// binary16, rounded to nearest even), tensors in name order. F16 halves the
// file; RoundF16 shows what a reader will get back.
func WriteSafetensorsAs(w io.Writer, s *Set, dtype string) error {
	var size int64
	switch dtype {
	case "F32":
		size = 4
	case "F16":
		size = 2
	default:
		return fmt.Errorf("%s: safetensors dtype %q not written (F32 or F16)", s.Source, dtype)
	}
	hdr := map[string]any{}
	var off int64
	names := s.Names()
	for _, n := range names {
		t := s.Tensors[n]
		cnt, err := numel(t.Shape(), math.MaxInt/8)
		if err != nil || cnt != len(Values(t)) || !oneRun(t) {
			return fmt.Errorf("%s: tensor %q: shape %v: not %d values in one run", s.Source, n, []int(t.Shape()), len(Values(t)))
		}
		shape := slices.Clone([]int(t.Shape()))
		if shape == nil {
			shape = []int{}
		}
		hdr[n] = stEntry{Dtype: dtype, Shape: shape, DataOffsets: [2]int64{off, off + size*int64(cnt)}}
		off += size * int64(cnt)
	}
	h, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	// Pad with spaces so the data is 8-byte aligned, as the reference writer
	// does, and 8 more where the size's first byte would be 0x80, the pickle
	// magic older readers (ours included) test first.
	h = append(h, bytes.Repeat([]byte(" "), (8-len(h)%8)%8)...)
	if len(h)&0xff == 0x80 {
		h = append(h, "        "...)
	}
	out := make([]byte, 8, 8+len(h)+int(off))
	binary.LittleEndian.PutUint64(out, uint64(len(h)))
	out = append(out, h...)
	for _, n := range names {
		for _, v := range Values(s.Tensors[n]) {
			if size == 2 {
				out = binary.LittleEndian.AppendUint16(out, floatToHalf(v))
			} else {
				out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
			}
		}
	}
	_, err = w.Write(out)
	return err
}

// RoundF16 rounds every value of s to the nearest float16, in place: the
// values an F16 file of s reads back as.
func RoundF16(s *Set) {
	for _, t := range s.Tensors {
		d := Values(t)
		for i, v := range d {
			d[i] = HalfToFloat(floatToHalf(v))
		}
	}
}

// floatToHalf converts to IEEE 754 binary16, rounding to nearest even;
// out-of-range values become infinities, NaN stays NaN.
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	switch {
	case e >= 0x1f:
		return sign | 0x7c00
	case e <= 0: // subnormal half (or zero): value = m * 2^-24
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint(14 - e)
		r, rem, half := m>>shift, m&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > half || rem == half && r&1 == 1 {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || rem == 0x1000 && r&1 == 1 {
		r++ // a carry into the exponent is still the right value (up to infinity)
	}
	return sign | uint16(r)
}
