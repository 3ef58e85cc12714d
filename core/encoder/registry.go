package encoder

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Info describes a registered encoder for listings and help texts.
type Info struct {
	Summary string // one line, e.g. "VGG16 (torchvision), taps relu1_2..relu5_3"
	Taps    []Tap  // the taps of the standard network (Width 0)
	Weights string // where its ImageNet weights come from (URL or note)
}

type entry struct {
	info  Info
	build func(Options) (Encoder, error)
}

var (
	mu       sync.RWMutex
	registry = map[string]entry{}
)

// Register makes an encoder available to New under name. Families call it
// from init; registering a name twice is a programming error and panics.
func Register(name string, info Info, build func(Options) (Encoder, error)) {
	mu.Lock()
	defer mu.Unlock()
	if name == "" || build == nil {
		panic("encoder.Register: empty name or nil builder")
	}
	if _, dup := registry[name]; dup {
		panic("encoder.Register: " + name + " registered twice")
	}
	registry[name] = entry{info, build}
}

// New builds the encoder registered under name.
func New(name string, opts Options) (Encoder, error) {
	mu.RLock()
	e, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown encoder %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if _, err := opts.random(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if opts.Width < 0 {
		return nil, fmt.Errorf("%s: negative width %d", name, opts.Width)
	}
	if opts.Before != nil && name != "squeezenet1.1" {
		return nil, fmt.Errorf("%s: a layer-input transform (Before) is supported by squeezenet1.1 only", name)
	}
	return e.build(opts)
}

// Names lists the registered encoders in sorted order.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the Info registered under name.
func Lookup(name string) (Info, bool) {
	mu.RLock()
	defer mu.RUnlock()
	e, ok := registry[name]
	return e.info, ok
}
