package nn

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Arena hands out the output tensors of one forward pass and takes back those
// the pass no longer needs, so that a pass reuses its own dead intermediates
// and repeated passes over inputs of the same size reuse the memory of the
// previous pass instead of allocating it again.
//
// The layers' ...In variants (Conv2D.ForwardIn, MaxPool2DIn, ConcatIn, ...)
// take their output from an Arena; a nil *Arena allocates every tensor fresh,
// exactly as the plain variants do. Conv2D.ForwardIn also keeps its scratch
// (padded planes, im2col columns) in the arena.
//
// Ownership: a tensor from New belongs to the arena until the pass ends. The
// pass gives dead tensors back with Release (optional: it only lowers the
// peak) and ends with Reset(keep...): the tensors in keep (the pass's
// results) leave the arena for good and belong to the caller, every other
// tensor handed out during the pass returns to the free list and must not be
// used any more. Recycle hands a result back once its user is done with it.
//
// Buffers are reused only for tensors of exactly the same number of values,
// so a result never holds more memory than its shape needs. Free buffers that
// a whole pass did not use are dropped at its Reset, so an arena holds no more
// than the last pass needed (plus what was recycled since).
//
// An Arena is not safe for concurrent use: give each concurrent pass its own.
type Arena struct {
	free    map[int][][]float32    // by length
	owned   map[*float32][]float32 // buffers handed out during this pass, by first element
	used    map[*float32]bool      // buffers taken or recycled during this pass (kept by Reset)
	isFree  map[*float32]bool      // buffers in free
	scratch [2][]float32           // conv scratch: padded planes, im2col columns
}

// NewArena returns an empty arena.
func NewArena() *Arena {
	return &Arena{free: map[int][][]float32{}, owned: map[*float32][]float32{}, used: map[*float32]bool{}, isFree: map[*float32]bool{}}
}

// New returns an n-value tensor of the given shape whose contents are
// unspecified (a reused buffer keeps old values): every layer writes all of
// its output. On a nil arena it is a fresh zeroed tensor, like New.
func (a *Arena) New(shape ...int) *tensor.Dense {
	if a == nil {
		return New(shape...)
	}
	n := 1
	for _, s := range shape {
		n *= s
	}
	if n <= 0 {
		return New(shape...)
	}
	var buf []float32
	if l := a.free[n]; len(l) > 0 {
		buf = l[len(l)-1]
		l[len(l)-1] = nil
		a.free[n] = l[:len(l)-1]
		delete(a.isFree, &buf[0])
		a.used[&buf[0]] = true
	} else {
		buf = make([]float32, n)
		a.used[&buf[0]] = true
	}
	a.owned[&buf[0]] = buf
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(buf))
}

// Release gives tensors the pass no longer needs back to the arena; their
// memory may be handed out again by the next New. Tensors the arena did not
// hand out in this pass (the input, nil) are ignored.
func (a *Arena) Release(ts ...*tensor.Dense) {
	if a == nil {
		return
	}
	for _, t := range ts {
		if t == nil {
			continue
		}
		d := Data(t)
		if len(d) == 0 {
			continue
		}
		p := &d[:1][0]
		b, ok := a.owned[p]
		if !ok {
			continue
		}
		delete(a.owned, p)
		a.push(b)
	}
}

// push adds b to the free list unless it is there already.
func (a *Arena) push(b []float32) {
	if a.isFree[&b[0]] {
		return
	}
	a.isFree[&b[0]] = true
	a.free[len(b)] = append(a.free[len(b)], b)
}

// Reset ends a pass: the tensors in keep leave the arena (the caller owns
// them from now on); every other tensor handed out since the last Reset
// returns to the free list; free buffers no New of this pass took are
// dropped.
func (a *Arena) Reset(keep ...*tensor.Dense) {
	if a == nil {
		return
	}
	for _, t := range keep {
		if t == nil {
			continue
		}
		if d := Data(t); len(d) > 0 {
			delete(a.owned, &d[:1][0])
		}
	}
	for _, b := range a.owned {
		a.push(b)
	}
	clear(a.owned)
	for n, l := range a.free {
		kept := l[:0]
		for _, b := range l {
			if a.used[&b[0]] {
				kept = append(kept, b)
			} else {
				delete(a.isFree, &b[0])
			}
		}
		clear(l[len(kept):])
		if len(kept) == 0 {
			delete(a.free, n)
		} else {
			a.free[n] = kept
		}
	}
	clear(a.used)
}

// Recycle gives the arena tensors that an earlier Reset handed to the caller
// (the results of a pass), once the caller no longer uses them: the next pass
// may overwrite them. Tensors it owns or holds already, and nil, are ignored;
// the caller must not recycle a tensor it still uses.
func (a *Arena) Recycle(ts ...*tensor.Dense) {
	if a == nil {
		return
	}
	for _, t := range ts {
		if t == nil {
			continue
		}
		d := Data(t)
		if len(d) == 0 {
			continue
		}
		p := &d[:1][0]
		if _, ok := a.owned[p]; ok {
			continue
		}
		a.push(d[:len(d):len(d)])
		a.used[p] = true // survives the next Reset even if that pass has no use for it
	}
}

// Copy returns a copy of x from the arena.
func (a *Arena) Copy(x *tensor.Dense) *tensor.Dense {
	y := a.New(x.Shape()...)
	copy(Data(y), Data(x))
	return y
}

// Scratch slots of an arena.
const (
	scratchPad = iota // padded input planes
	scratchCol        // im2col columns
)

// buf returns scratch slot i with at least n values (contents unspecified).
// On a nil arena it comes from the shared pool: pass p to putBuf when done.
func (a *Arena) buf(i, n int) (b []float32, p *[]float32) {
	if a == nil {
		p = getBuf(n)
		return *p, p
	}
	if cap(a.scratch[i]) < n {
		a.scratch[i] = make([]float32, n)
	}
	return a.scratch[i][:n], nil
}

// Owned is the number of tensors the arena handed out in this pass and still
// owns (for tests and diagnostics).
func (a *Arena) Owned() int {
	if a == nil {
		return 0
	}
	return len(a.owned)
}

// FreeValues is the number of float32 values in the free list (for tests and
// diagnostics).
func (a *Arena) FreeValues() int {
	if a == nil {
		return 0
	}
	s := 0
	for n, l := range a.free {
		s += n * len(l)
	}
	return s
}

func (a *Arena) String() string {
	return fmt.Sprintf("nn.Arena{owned %d, free %d values}", a.Owned(), a.FreeValues())
}
