package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"gorgonia.org/tensor"
)

const (
	npyMagic = "\x93NUMPY"
	// maxNpyHeader bounds the header dict; numpy writes well under 1 KiB.
	maxNpyHeader = 1 << 20
)

// ReadNpy reads one .npy array (format versions 1-3, C order). float32 is
// taken as is; float64 and float16 are converted. In a set the tensor is
// named after its file (NpyName).
func ReadNpy(r io.Reader, source string) (*tensor.Dense, error) {
	t, err := readNpy(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return t, nil
}

// NpyName is the tensor name of a .npy file: its base name without ".npy".
func NpyName(file string) string {
	return strings.TrimSuffix(path.Base(filepath.ToSlash(file)), ".npy")
}

func readNpy(r io.Reader) (*tensor.Dense, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("not a .npy file: %w", eofErr(err))
	}
	if string(pre[:6]) != npyMagic {
		return nil, errors.New("not a .npy file (bad magic)")
	}
	var hlen int
	switch major := pre[6]; major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("truncated .npy header: %w", eofErr(err))
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("truncated .npy header: %w", eofErr(err))
		}
		n := binary.LittleEndian.Uint32(b[:])
		if n > maxNpyHeader {
			return nil, fmt.Errorf(".npy header of %d bytes is too large", n)
		}
		hlen = int(n)
	default:
		return nil, fmt.Errorf("unsupported .npy format version %d.%d", major, pre[7])
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("truncated .npy header: %w", eofErr(err))
	}
	descr, fortran, shape, err := parseNpyHeader(string(hdr))
	if err != nil {
		return nil, fmt.Errorf("bad .npy header %q: %w", strings.TrimSpace(string(hdr)), err)
	}
	if fortran {
		return nil, errors.New(".npy arrays in Fortran order are not supported; save with C order (np.ascontiguousarray)")
	}
	var size int
	switch descr {
	case "<f4":
		size = 4
	case "<f8":
		size = 8
	case "<f2":
		size = 2
	default:
		return nil, fmt.Errorf("dtype %q not supported (want '<f4'; '<f8' and '<f2' are converted)", descr)
	}
	n, err := numel(shape, math.MaxInt/8)
	if err != nil {
		return nil, err
	}
	raw, err := readAtMost(r, int64(n)*int64(size))
	if err != nil {
		return nil, err
	}
	if len(raw) != n*size {
		return nil, fmt.Errorf("truncated .npy data: shape %v needs %d bytes, file has %d", shape, n*size, len(raw))
	}
	return newTensor(shape, decodeFloats(raw, size, n)), nil
}

// readAtMost reads up to n bytes, allocating no more than the reader holds:
// exactly n when its size is known to cover them, else as data arrives.
func readAtMost(r io.Reader, n int64) ([]byte, error) {
	var left int64 = -1
	switch r := r.(type) {
	case interface{ Len() int }: // bytes.Reader, bytes.Buffer
		left = int64(r.Len())
	case io.Seeker: // os.File and other seekable files
		if cur, err := r.Seek(0, io.SeekCurrent); err == nil {
			if end, err := r.Seek(0, io.SeekEnd); err == nil {
				if _, err := r.Seek(cur, io.SeekStart); err != nil {
					return nil, err
				}
				left = end - cur
			}
		}
	}
	if left >= n {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, eofErr(err)
	}
	return io.ReadAll(io.LimitReader(r, n))
}

// decodeFloats converts n little-endian floats of the given byte size
// (2: binary16, 4, 8) to float32.
func decodeFloats(raw []byte, size, n int) []float32 {
	out := make([]float32, n)
	switch size {
	case 4:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case 8:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case 2:
		for i := range out {
			out[i] = HalfToFloat(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	}
	return out
}

func eofErr(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseNpyHeader reads the Python dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (64, 3), }.
func parseNpyHeader(h string) (descr string, fortran bool, shape []int, err error) {
	p := &pyLit{s: strings.TrimRight(h, " \n\x00")}
	if !p.eat('{') {
		return "", false, nil, errors.New("want a dict")
	}
	seen := map[string]bool{}
	for {
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok || !p.eat(':') {
			return "", false, nil, errors.New("want 'key': value")
		}
		seen[key] = true
		switch key {
		case "descr":
			if descr, ok = p.str(); !ok {
				return "", false, nil, errors.New("descr is not a string (structured dtypes are not supported)")
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				fortran = true
			case p.word("False"):
			default:
				return "", false, nil, errors.New("fortran_order is not True/False")
			}
		case "shape":
			if shape, ok = p.tuple(); !ok {
				return "", false, nil, errors.New("shape is not a tuple of integers")
			}
		default:
			return "", false, nil, fmt.Errorf("unknown key %q", key)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return "", false, nil, errors.New("want , or }")
			}
			break
		}
	}
	p.skip()
	if p.i != len(p.s) {
		return "", false, nil, errors.New("trailing text")
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return "", false, nil, errors.New("descr, fortran_order or shape missing")
	}
	return descr, fortran, shape, nil
}

// pyLit scans the few Python literals a .npy header uses.
type pyLit struct {
	s string
	i int
}

func (p *pyLit) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *pyLit) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyLit) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *pyLit) str() (string, bool) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	q := p.s[p.i]
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+j]
	p.i += j + 2
	return v, true
}

func (p *pyLit) tuple() ([]int, bool) {
	if !p.eat('(') {
		return nil, false
	}
	shape := []int{}
	for {
		if p.eat(')') {
			return shape, true
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i || j-p.i > 18 {
			return nil, false
		}
		d, err := strconv.Atoi(p.s[p.i:j])
		if err != nil {
			return nil, false
		}
		// numpy may write 3L on Python 2.
		if j < len(p.s) && p.s[j] == 'L' {
			j++
		}
		p.i = j
		shape = append(shape, d)
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, false
			}
			return shape, true
		}
	}
}

// WriteNpy writes t as a version 1.0 '<f4' C-order .npy array.
func WriteNpy(w io.Writer, t *tensor.Dense) error {
	shape, data := []int(t.Shape()), Values(t)
	n, err := numel(shape, math.MaxInt/8)
	if err != nil || n != len(data) || !oneRun(t) {
		return fmt.Errorf("tensor of shape %v: not %d values in one run", shape, len(data))
	}
	dims := joinShape(shape)
	if len(shape) == 1 {
		dims += ","
	}
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", dims)
	// Pad so the data starts on a 64-byte boundary, as numpy does.
	total := len(npyMagic) + 4 + len(h) + 1
	h += strings.Repeat(" ", (64-total%64)%64) + "\n"
	var buf bytes.Buffer
	buf.WriteString(npyMagic)
	buf.Write([]byte{1, 0})
	binary.Write(&buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	binary.Write(&buf, binary.LittleEndian, data)
	_, err = w.Write(buf.Bytes())
	return err
}

// ReadNpyFS reads every *.npy file directly in dir of fsys into a set; the
// tensor name is the file name without ".npy". source names dir in errors.
func ReadNpyFS(fsys fs.FS, dir, source string) (*Set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	s := NewSet(source)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".npy") {
			continue
		}
		name := path.Join(dir, e.Name())
		f, err := fsys.Open(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		t, err := ReadNpy(f, filepath.Join(source, e.Name()))
		f.Close()
		if err != nil {
			return nil, err
		}
		s.Add(NpyName(e.Name()), t)
	}
	if len(s.Tensors) == 0 {
		return nil, fmt.Errorf("%s: no .npy files", source)
	}
	return s, nil
}

// LoadNpy reads the .npy file at path (see ReadNpy).
func LoadNpy(path string) (*tensor.Dense, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadNpy(f, path)
}

// LoadNpyDir reads every *.npy file directly in dir.
func LoadNpyDir(dir string) (*Set, error) {
	return ReadNpyFS(dirFS(dir), ".", dir)
}
