package encoder

import (
	"slices"
	"sync"

	"github.com/posprobe/posprobe/core/nn"
	"gorgonia.org/tensor"
)

// Recycler is implemented by encoders that reuse memory between Forward
// calls (all but "none").
type Recycler interface {
	// Recycle hands taps that Forward returned back to the encoder once the
	// caller no longer uses them (nor anything sharing their memory): a later
	// Forward may overwrite them. It is optional; taps never recycled stay
	// valid for good.
	Recycle(taps []*tensor.Dense)
}

// Recycle calls enc.Recycle(taps) when enc is a Recycler and does nothing
// otherwise.
func Recycle(enc Encoder, taps []*tensor.Dense) {
	if r, ok := enc.(Recycler); ok {
		r.Recycle(taps)
	}
}

// workspace is an encoder's stock of arenas (see nn.Arena): each Forward
// takes one for itself and puts it back when done, so concurrent calls on one
// encoder never share memory, and sequential calls reuse the intermediates of
// the previous call. The returned taps leave the arena (Reset keeps them) and
// belong to the caller until Recycle hands them back.
type workspace struct {
	pool ArenaPool
}

// ArenaPool is a stock of arenas (see nn.Arena) for passes that may run
// concurrently: each takes one with Get and hands it back with Put.
type ArenaPool struct {
	mu   sync.Mutex
	free []*nn.Arena
}

// Get takes an arena from the stock, or makes one.
func (p *ArenaPool) Get() *nn.Arena {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		a := p.free[n-1]
		p.free = p.free[:n-1]
		return a
	}
	return nn.NewArena()
}

// Put hands a back to the stock.
func (p *ArenaPool) Put(a *nn.Arena) {
	p.mu.Lock()
	p.free = append(p.free, a)
	p.mu.Unlock()
}

// noReuse makes get return nil (fresh allocations, as before arenas): tests
// compare both.
var noReuse bool

func (w *workspace) get() *nn.Arena {
	if noReuse {
		return nil
	}
	return w.pool.Get()
}

// done ends the pass of a: taps leave the arena, everything else it handed
// out becomes reusable, and a goes back to the stock.
func (w *workspace) done(a *nn.Arena, taps []*tensor.Dense) {
	if a == nil {
		return
	}
	a.Reset(taps)
	w.pool.Put(a)
}

// Recycle implements Recycler.
func (w *workspace) Recycle(taps []*tensor.Dense) {
	a := w.get()
	if a == nil {
		return
	}
	a.Recycle(taps...)
	w.pool.Put(a)
}

// release gives ts back to a unless they are taps (taps leave the arena at
// the end of the pass). Tensors a did not hand out (the input) are ignored.
func release(a *nn.Arena, taps []*tensor.Dense, ts ...*tensor.Dense) {
	for _, t := range ts {
		if t != nil && !slices.Contains(taps, t) {
			a.Release(t)
		}
	}
}

// checkedIn checks that x is an input the network called name takes (see
// checkSize) and returns what the network sees (see prepareIn).
func checkedIn(a *nn.Arena, name string, x *tensor.Dense, sizes func(h, w int) ([][2]int, bool), normalize bool) (*tensor.Dense, error) {
	if err := checkSize(name, x, sizes); err != nil {
		return nil, err
	}
	return prepareIn(a, x, normalize)
}

// prepareIn returns the tensor the network sees: x itself, or a normalised
// copy from a when normalize is set. Networks must not modify the returned
// tensor when it is x.
func prepareIn(a *nn.Arena, x *tensor.Dense, normalize bool) (*tensor.Dense, error) {
	if !normalize {
		return x, nil
	}
	n, c, h, w, err := dims4(x)
	if err != nil {
		return nil, err
	}
	if c != 3 {
		return nil, errNormalizeChannels(c)
	}
	out := a.New(n, c, h, w)
	normalizeInto(nn.Data(out), nn.Data(x), n*c, h*w)
	return out, nil
}

// crop1In removes one pixel on every side, into a tensor from a: with
// padding none a 3×3 conv's output is the centre of its input, so skip paths
// are cut to match.
func crop1In(a *nn.Arena, x *tensor.Dense) *tensor.Dense {
	_, _, h, w := nn.Dims4(x)
	return nn.CenterCropIn(a, x, h-2, w-2)
}

// padToIn zero-pads x to h×w (centred, the odd pixel at the bottom/right),
// into a tensor from a: with full padding a 3×3 conv grows its input by 2,
// so skip paths are padded to match, as the F-Conv ResNet of Kayhan & van
// Gemert pads its identity.
func padToIn(a *nn.Arena, x *tensor.Dense, h, w int) *tensor.Dense {
	n, c, sh, sw := nn.Dims4(x)
	out := a.New(n, c, h, w)
	od, xd := nn.Data(out), nn.Data(x)
	clear(od)
	t, l := (h-sh)/2, (w-sw)/2
	for p := 0; p < n*c; p++ {
		for y := 0; y < sh; y++ {
			copy(od[(p*h+t+y)*w+l:][:sw], xd[(p*sh+y)*sw:][:sw])
		}
	}
	return out
}

// matchIn returns x cropped (PadNone) or zero-padded (PadFull) to h×w, or x
// itself when it already has that size.
func matchIn(a *nn.Arena, x *tensor.Dense, h, w int) *tensor.Dense {
	_, _, sh, sw := nn.Dims4(x)
	switch {
	case sh == h && sw == w:
		return x
	case sh < h && sw < w:
		return padToIn(a, x, h, w)
	}
	return nn.CenterCropIn(a, x, h, w)
}
