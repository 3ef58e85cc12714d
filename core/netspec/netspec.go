// Package netspec names how an encoder is set up, its weights' init and
// its padding mode, as small types that marshal to the names files, flags
// and URLs use. It imports nothing heavy: the demo's UI module carries these
// types without the tensor code, and core/nn (PadMode) and core/encoder
// (Init) alias them.
package netspec

import (
	"fmt"
	"strings"
)

// PadMode is how a layer fills the border it pads, with the semantics of
// PyTorch's Conv2d padding_mode / F.pad mode.
type PadMode int

const (
	PadZero      PadMode = iota // zeros outside the input
	PadNone                     // no padding at all ("valid"), whatever the nominal padding
	PadReflect                  // mirror without repeating the edge: d c b | a b c d | c b a
	PadReplicate                // repeat the edge: a a a | a b c d | d d d
	PadCircular                 // wrap around: b c d | a b c d | a b c
	// PadFull is F-Conv (Kayhan & van Gemert, CVPR 2020): a conv that pads
	// at all pads k-1 zeros per side instead, so every input pixel meets
	// every kernel tap and a 3x3 conv grows its input by 2. nn.Pad2D treats
	// it as zeros.
	PadFull
)

var padNames = [...]string{"zero", "none", "reflect", "replicate", "circular", "full"}

func (m PadMode) String() string { return str(padNames[:], m, "PadMode") }

// Zeros reports whether m fills its border with zeros (zero and full).
func (m PadMode) Zeros() bool { return m == PadZero || m == PadFull }

// ParsePadMode reads a mode name as written by String ("zeros" is accepted too,
// as PyTorch spells it).
func ParsePadMode(s string) (PadMode, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "zeros" {
		return PadZero, nil
	}
	return parse[PadMode](padNames[:], s, "padding mode")
}

// MarshalText writes the mode's name; a value outside the list is an error.
func (m PadMode) MarshalText() ([]byte, error) { return marshal(padNames[:], m, "padding mode") }

// UnmarshalText reads a name ParsePadMode takes; "" is the default, zero.
func (m *PadMode) UnmarshalText(b []byte) error { return unmarshal(m, b, ParsePadMode) }

// Init is where an encoder's weights come from.
type Init int

const (
	InitImageNet Init = iota // the pretrained ImageNet weights (the default)
	InitRandom               // seeded random weights (math/rand/v2 PCG)
)

var initNames = [...]string{"imagenet", "random"}

func (i Init) String() string { return str(initNames[:], i, "Init") }

// ParseInit reads "imagenet" or "random" (any case).
func ParseInit(s string) (Init, error) {
	return parse[Init](initNames[:], s, "init")
}

// MarshalText writes the init's name; a value outside the list is an error.
func (i Init) MarshalText() ([]byte, error) { return marshal(initNames[:], i, "init") }

// UnmarshalText reads a name ParseInit takes; "" is the default, imagenet.
func (i *Init) UnmarshalText(b []byte) error { return unmarshal(i, b, ParseInit) }

// The enums share these: names[v] is value v's name.

func str[T ~int](names []string, v T, typ string) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, int(v))
}

func parse[T ~int](names []string, s, what string) (T, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, n := range names {
		if t == n {
			return T(i), nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q (want one of %s)", what, s, strings.Join(names, ", "))
}

func marshal[T ~int](names []string, v T, what string) ([]byte, error) {
	if v < 0 || int(v) >= len(names) {
		return nil, fmt.Errorf("invalid %s %d (want one of %s)", what, int(v), strings.Join(names, ", "))
	}
	return []byte(names[v]), nil
}

// unmarshal sets *v from b; "" leaves the default (the zero value), as
// files written before these fields were typed may hold it.
func unmarshal[T ~int](v *T, b []byte, parse func(string) (T, error)) error {
	if len(b) == 0 {
		*v = 0
		return nil
	}
	p, err := parse(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}
