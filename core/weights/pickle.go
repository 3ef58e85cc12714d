package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A small pickle machine for torch checkpoints. It builds plain values and
// only the objects of an explicit whitelist; every other global is refused
// when it is named, so nothing in a file is ever imported or called. All
// lengths are checked against the bytes actually present.

type pyGlobal struct{ module, name string }

func (g pyGlobal) String() string { return g.module + "." + g.name }

type pyTuple []any

type pyList struct{ items []any }

// pyDict keeps insertion order (state_dicts are OrderedDicts).
type pyDict struct {
	keys, vals []any
	index      map[string]int
	attrs      any // state set by BUILD, e.g. OrderedDict._metadata
}

func newDict() *pyDict { return &pyDict{index: map[string]int{}} }

func (d *pyDict) set(k, v any) error {
	var ks string
	switch k := k.(type) {
	case string:
		ks = "s" + k
	case int64:
		ks = "i" + strconv.FormatInt(k, 10)
	case bool, nil:
		ks = fmt.Sprint(k)
	default:
		return fmt.Errorf("unsupported dict key of type %T", k)
	}
	if i, ok := d.index[ks]; ok {
		d.vals[i] = v
		return nil
	}
	d.index[ks] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

// pyBigInt is an integer too large for int64, as little-endian two's
// complement bytes (pickle's LONG1/LONG4 encoding).
type pyBigInt []byte

// Pickle opcodes, named as in Python's pickletools (protocols 0-5); the
// machine below runs those a torch checkpoint uses.
const (
	opMark            = '('
	opStop            = '.'
	opPop             = '0'
	opPopMark         = '1'
	opDup             = '2'
	opFloat           = 'F'
	opInt             = 'I'
	opBinInt          = 'J'
	opBinInt1         = 'K'
	opLong            = 'L'
	opBinInt2         = 'M'
	opNone            = 'N'
	opBinPersID       = 'Q'
	opReduce          = 'R'
	opString          = 'S'
	opBinString       = 'T'
	opShortBinString  = 'U'
	opUnicode         = 'V'
	opBinUnicode      = 'X'
	opAppend          = 'a'
	opBuild           = 'b'
	opGlobal          = 'c'
	opDict            = 'd'
	opEmptyDict       = '}'
	opAppends         = 'e'
	opGet             = 'g'
	opBinGet          = 'h'
	opLongBinGet      = 'j'
	opList            = 'l'
	opEmptyList       = ']'
	opPut             = 'p'
	opBinPut          = 'q'
	opLongBinPut      = 'r'
	opSetItem         = 's'
	opTuple           = 't'
	opEmptyTuple      = ')'
	opSetItems        = 'u'
	opBinFloat        = 'G'
	opBinBytes        = 'B'
	opShortBinBytes   = 'C'
	opProto           = 0x80
	opNewObj          = 0x81
	opTuple1          = 0x85
	opTuple2          = 0x86
	opTuple3          = 0x87
	opNewTrue         = 0x88
	opNewFalse        = 0x89
	opLong1           = 0x8a
	opLong4           = 0x8b
	opShortBinUnicode = 0x8c
	opBinUnicode8     = 0x8d
	opBinBytes8       = 0x8e
	opEmptySet        = 0x8f
	opAddItems        = 0x90
	opFrozenSet       = 0x91
	opStackGlobal     = 0x93
	opMemoize         = 0x94
	opFrame           = 0x95
)

// unpickler runs one pickle from data.
type unpickler struct {
	data  []byte
	pos   int
	stack []any
	marks [][]any
	memo  map[int]any
	// global resolves a whitelisted global or refuses it.
	global func(module, name string) (any, error)
	// call applies a whitelisted callable (REDUCE, NEWOBJ).
	call func(fn any, args pyTuple) (any, error)
	// persistent resolves a persistent id (torch storages).
	persistent func(pid any) (any, error)
}

var errTruncated = errors.New("pickle is truncated")

func (u *unpickler) take(n int) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, errTruncated
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *unpickler) line() (string, error) {
	i := bytes.IndexByte(u.data[u.pos:min(len(u.data), u.pos+1<<16)], '\n')
	if i < 0 {
		return "", errTruncated
	}
	s := string(u.data[u.pos : u.pos+i])
	u.pos += i + 1
	return s, nil
}

func (u *unpickler) uint(n int) (uint64, error) {
	b, err := u.take(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// size reads an n-byte length and checks it against the bytes left.
func (u *unpickler) sized(n int) ([]byte, error) {
	l, err := u.uint(n)
	if err != nil {
		return nil, err
	}
	if l > uint64(len(u.data)-u.pos) {
		return nil, errTruncated
	}
	return u.take(int(l))
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 {
		return nil, errors.New("pickle stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) == 0 {
		return nil, errors.New("pickle stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark returns the items pushed since the last MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("pickle MARK missing")
	}
	items := u.stack
	u.stack = u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	return items, nil
}

func (u *unpickler) memoGet(i uint64) error {
	v, ok := u.memo[int(i)]
	if !ok || i > math.MaxInt32 {
		return fmt.Errorf("pickle memo %d is not set", i)
	}
	u.push(v)
	return nil
}

func (u *unpickler) memoPut(i uint64) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	if i > math.MaxInt32 {
		return fmt.Errorf("pickle memo index %d out of range", i)
	}
	u.memo[int(i)] = v
	return nil
}

func decodeLong(b []byte) any {
	if len(b) > 8 {
		return pyBigInt(append([]byte{}, b...))
	}
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if n := len(b); n > 0 && n < 8 && b[n-1]&0x80 != 0 {
		v |= ^uint64(0) << (8 * n) // sign-extend
	}
	return int64(v)
}

func (u *unpickler) setItems(d any, kv []any) error {
	dict, ok := d.(*pyDict)
	if !ok {
		return fmt.Errorf("pickle SETITEM on %T", d)
	}
	if len(kv)%2 != 0 {
		return errors.New("pickle SETITEMS with an odd item count")
	}
	for i := 0; i < len(kv); i += 2 {
		if err := dict.set(kv[i], kv[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// run executes the pickle up to STOP and returns its value.
func (u *unpickler) run() (any, error) {
	if u.memo == nil {
		u.memo = map[int]any{}
	}
	for {
		opb, err := u.take(1)
		if err != nil {
			return nil, err
		}
		op := opb[0]
		var step func(op byte) error
		switch op {
		case opStop:
			return u.pop()
		case opProto, opFrame, opMark, opPop, opPopMark, opDup:
			step = u.stackOp
		case opNone, opNewTrue, opNewFalse, opBinInt, opBinInt1, opBinInt2, opLong1, opLong4, opInt, opLong, opBinFloat, opFloat:
			step = u.scalar
		case opShortBinUnicode, opBinUnicode, opBinUnicode8, opShortBinString, opBinString, opShortBinBytes, opBinBytes, opBinBytes8, opUnicode, opString:
			step = u.text
		case opEmptyTuple, opTuple, opTuple1, opTuple2, opTuple3, opEmptyList, opEmptySet, opList, opFrozenSet, opAppend, opAppends, opAddItems, opEmptyDict, opDict, opSetItem, opSetItems:
			step = u.container
		case opGlobal, opStackGlobal, opReduce, opNewObj, opBuild, opBinPersID:
			step = u.object
		case opPut, opBinPut, opLongBinPut, opMemoize, opGet, opBinGet, opLongBinGet:
			step = u.memoOp
		default:
			return nil, fmt.Errorf("pickle opcode 0x%02x at byte %d not supported", op, u.pos-1)
		}
		if err := step(op); err != nil {
			return nil, err
		}
	}
}

// stackOp runs the opcodes that move the stack and the marks, and the framing.
func (u *unpickler) stackOp(op byte) error {
	switch op {
	case opProto:
		p, err := u.take(1)
		if err != nil {
			return err
		}
		if p[0] > 5 {
			return fmt.Errorf("pickle protocol %d not supported", p[0])
		}
	case opFrame: // a length hint only
		if _, err := u.take(8); err != nil {
			return err
		}
	case opMark:
		u.marks = append(u.marks, u.stack)
		u.stack = nil
	case opPop:
		if _, err := u.pop(); err != nil {
			return err
		}
	case opPopMark:
		if _, err := u.popMark(); err != nil {
			return err
		}
	case opDup:
		v, err := u.top()
		if err != nil {
			return err
		}
		u.push(v)
	}
	return nil
}

// scalar pushes None, a bool, an integer or a float.
func (u *unpickler) scalar(op byte) error {
	switch op {
	case opNone:
		u.push(nil)
	case opNewTrue:
		u.push(true)
	case opNewFalse:
		u.push(false)
	case opBinInt, opBinInt1, opBinInt2: // 4 bytes signed, 1 or 2 unsigned
		v, err := u.uint(lenOf(op))
		if err != nil {
			return err
		}
		if op == opBinInt {
			v = uint64(int64(int32(uint32(v))))
		}
		u.push(int64(v))
	case opLong1, opLong4: // two's complement of a 1- or 4-byte length
		b, err := u.sized(lenOf(op))
		if err != nil {
			return err
		}
		u.push(decodeLong(b))
	case opInt, opLong: // as text
		s, err := u.line()
		if err != nil {
			return err
		}
		s = strings.TrimSuffix(s, "L")
		switch s {
		case "01":
			u.push(true)
		case "00":
			u.push(false)
		default:
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("pickle integer %q: %w", s, err)
			}
			u.push(v)
		}
	case opBinFloat: // big-endian
		b, err := u.take(8)
		if err != nil {
			return err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opFloat:
		s, err := u.line()
		if err != nil {
			return err
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("pickle float %q: %w", s, err)
		}
		u.push(v)
	}
	return nil
}

// text pushes a string or bytes.
func (u *unpickler) text(op byte) error {
	switch op {
	case opShortBinUnicode, opBinUnicode, opBinUnicode8, opShortBinString, opBinString: // BINSTRING: Python 2 str
		b, err := u.sized(lenOf(op))
		if err != nil {
			return err
		}
		u.push(string(b))
	case opShortBinBytes, opBinBytes, opBinBytes8:
		b, err := u.sized(lenOf(op))
		if err != nil {
			return err
		}
		u.push(append([]byte{}, b...))
	case opUnicode: // raw-unicode-escape
		s, err := u.line()
		if err != nil {
			return err
		}
		u.push(rawUnicodeEscape(s))
	case opString: // quoted
		s, err := u.line()
		if err != nil {
			return err
		}
		if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
			return fmt.Errorf("pickle STRING %q is not quoted", s)
		}
		u.push(s[1 : len(s)-1])
	}
	return nil
}

// container builds and fills tuples, lists (sets too) and dicts.
func (u *unpickler) container(op byte) error {
	switch op {
	case opEmptyTuple:
		u.push(pyTuple{})
	case opTuple, opTuple1, opTuple2, opTuple3:
		n := 0
		if op != opTuple {
			n = int(op-opTuple1) + 1
		}
		items, err := u.operands(op != opTuple, n)
		if err != nil {
			return err
		}
		u.push(pyTuple(append([]any{}, items...)))
	case opEmptyList, opEmptySet: // sets kept as lists
		u.push(&pyList{})
	case opList, opFrozenSet:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(&pyList{items: append([]any{}, items...)})
	case opAppend, opAppends, opAddItems:
		items, err := u.operands(op == opAppend, 1)
		if err != nil {
			return err
		}
		l, err := u.top()
		if err != nil {
			return err
		}
		pl, ok := l.(*pyList)
		if !ok {
			name := "APPENDS"
			if op == opAppend {
				name = "APPEND"
			}
			return fmt.Errorf("pickle %s to %T", name, l)
		}
		pl.items = append(pl.items, items...)
	case opEmptyDict:
		u.push(newDict())
	case opDict:
		items, err := u.popMark()
		if err != nil {
			return err
		}
		d := newDict()
		if err := u.setItems(d, items); err != nil {
			return err
		}
		u.push(d)
	case opSetItem, opSetItems:
		kv, err := u.operands(op == opSetItem, 2)
		if err != nil {
			return err
		}
		d, err := u.top()
		if err != nil {
			return err
		}
		return u.setItems(d, kv)
	}
	return nil
}

// operands pops the operands of a container opcode: the top n items (in
// stack order) when single, else the items since the last MARK.
func (u *unpickler) operands(single bool, n int) ([]any, error) {
	if !single {
		return u.popMark()
	}
	if len(u.stack) < n {
		return nil, errors.New("pickle stack underflow")
	}
	items := append([]any{}, u.stack[len(u.stack)-n:]...)
	u.stack = u.stack[:len(u.stack)-n]
	return items, nil
}

// object resolves whitelisted globals, calls them, sets object state and resolves persistent ids.
func (u *unpickler) object(op byte) error {
	switch op {
	case opGlobal: // module\nname\n
		mod, err := u.line()
		if err != nil {
			return err
		}
		name, err := u.line()
		if err != nil {
			return err
		}
		g, err := u.global(mod, name)
		if err != nil {
			return err
		}
		u.push(g)
	case opStackGlobal:
		mn, err := u.operands(true, 2) // module, name
		if err != nil {
			return err
		}
		ms, ok1 := mn[0].(string)
		ns, ok2 := mn[1].(string)
		if !ok1 || !ok2 {
			return errors.New("pickle STACK_GLOBAL without strings")
		}
		g, err := u.global(ms, ns)
		if err != nil {
			return err
		}
		u.push(g)
	case opReduce, opNewObj:
		fa, err := u.operands(true, 2) // callable, arguments
		if err != nil {
			return err
		}
		t, ok := fa[1].(pyTuple)
		if !ok {
			return fmt.Errorf("pickle call arguments are %T, not a tuple", fa[1])
		}
		v, err := u.call(fa[0], t)
		if err != nil {
			return err
		}
		u.push(v)
	case opBuild:
		state, err := u.pop()
		if err != nil {
			return err
		}
		obj, err := u.top()
		if err != nil {
			return err
		}
		d, ok := obj.(*pyDict)
		if !ok {
			return fmt.Errorf("pickle BUILD on %T not supported", obj)
		}
		d.attrs = state
	case opBinPersID:
		pid, err := u.pop()
		if err != nil {
			return err
		}
		if u.persistent == nil {
			return errors.New("pickle has a persistent id where none is expected")
		}
		v, err := u.persistent(pid)
		if err != nil {
			return err
		}
		u.push(v)
	}
	return nil
}

// memoOp stores the top of the stack in the memo or pushes a memo entry.
func (u *unpickler) memoOp(op byte) error {
	if op == opMemoize {
		return u.memoPut(uint64(len(u.memo)))
	}
	var i uint64
	var err error
	switch op {
	case opPut, opGet: // the index as text
		var s string
		if s, err = u.line(); err != nil {
			return err
		}
		if i, err = strconv.ParseUint(s, 10, 31); err != nil {
			what := "PUT"
			if op == opGet {
				what = "GET"
			}
			return fmt.Errorf("pickle %s %q", what, s)
		}
	default:
		if i, err = u.uint(lenOf(op)); err != nil {
			return err
		}
	}
	if op == opPut || op == opBinPut || op == opLongBinPut {
		return u.memoPut(i)
	}
	return u.memoGet(i)
}

// rawUnicodeEscape decodes Python's raw-unicode-escape: bytes are Latin-1
// code points, except \uXXXX and \UXXXXXXXX escapes.
func rawUnicodeEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n <= len(s) {
				if r, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32); err == nil && r <= 0x10ffff {
					b.WriteRune(rune(r))
					i += 1 + n
					continue
				}
			}
		}
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// lenOf is the size of the length, index or integer field of op.
func lenOf(op byte) int {
	switch op {
	case opShortBinUnicode, opShortBinString, opShortBinBytes, opBinPut, opBinGet, opBinInt1, opLong1:
		return 1
	case opBinInt2:
		return 2
	case opBinUnicode8, opBinBytes8:
		return 8
	}
	return 4 // opBinUnicode, opBinString, opBinBytes, opLongBinPut, opLongBinGet, opBinInt, opLong4
}
