package nn

import (
	"fmt"
	"slices"

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
// peak) and ends with Reset(results): the results leave the arena for good
// and belong to the caller, every other tensor handed out during the pass
// returns to the free list and must not be used any more. Recycle hands
// results back once their user is done with them.
//
// Memory: an intermediate takes the smallest free buffer that holds it
// (best fit), so dead maps of any size are reused. A result always has memory
// of exactly its size: New remembers which requests of a pass (by their order)
// were results and serves them next pass from recycled results of the same
// size or fresh memory; a result that still landed in a bigger buffer (first
// pass, or a pass whose sequence changed) is copied out by Reset. Free
// buffers that a whole pass did not use are dropped at its Reset, so an arena
// holds no more than the last pass needed (plus what was recycled since).
//
// An Arena is not safe for concurrent use: give each concurrent pass its own.
type Arena struct {
	free    [][]float32        // buffers for intermediates
	spare   [][]float32        // recycled results, for the results of the next pass
	held    map[*float32]bool  // buffers in free or spare
	owned   map[*float32]lease // handed out during this pass, by first element
	used    map[*float32]bool  // taken, allocated or recycled during this pass (kept by Reset)
	seq     int                // requests so far in this pass
	results map[int]int        // request index -> length: the results of the last pass
	scratch [3][]float32       // conv scratch: padded planes, im2col columns, column phases
}

// lease is a buffer handed out and the index of its request in the pass.
type lease struct {
	buf []float32
	seq int
}

// NewArena returns an empty arena.
func NewArena() *Arena {
	return &Arena{held: map[*float32]bool{}, owned: map[*float32]lease{}, used: map[*float32]bool{}, results: map[int]int{}}
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
	idx := a.seq
	a.seq++
	var buf []float32
	if m, ok := a.results[idx]; ok && m == n {
		buf = take(&a.spare, n, true)
	} else {
		buf = take(&a.free, n, false)
	}
	if buf == nil {
		buf = make([]float32, n)
	} else {
		delete(a.held, &buf[0])
	}
	a.used[&buf[0]] = true
	a.owned[&buf[0]] = lease{buf, idx}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(buf[:n:n]))
}

// take removes and returns the smallest buffer of *l with at least n values
// (exactly n when exact), or nil.
func take(l *[][]float32, n int, exact bool) []float32 {
	best := -1
	for i, b := range *l {
		if len(b) < n || (exact && len(b) != n) {
			continue
		}
		if best < 0 || len(b) < len((*l)[best]) {
			best = i
			if len(b) == n {
				break
			}
		}
	}
	if best < 0 {
		return nil
	}
	s := *l
	b := s[best]
	s[best] = s[len(s)-1]
	s[len(s)-1] = nil
	*l = s[:len(s)-1]
	return b
}

// push adds b to *l unless the arena holds it already.
func (a *Arena) push(l *[][]float32, b []float32) {
	if a.held[&b[0]] {
		return
	}
	a.held[&b[0]] = true
	*l = append(*l, b)
}

// Release gives tensors the pass no longer needs back to the arena; their
// memory may be handed out again by the next New. Tensors the arena did not
// hand out in this pass (the input, nil) are ignored.
func (a *Arena) Release(ts ...*tensor.Dense) {
	if a == nil {
		return
	}
	for _, t := range ts {
		p, _ := bufKey(t)
		if p == nil {
			continue
		}
		l, ok := a.owned[p]
		if !ok {
			continue
		}
		delete(a.owned, p)
		a.push(&a.free, l.buf)
	}
}

// Reset ends a pass. The tensors in results leave the arena: the caller owns
// them from now on (a result held in a bigger buffer is replaced, in results,
// by a copy of exactly its size). Every other tensor handed out since the last
// Reset returns to the free list; free buffers no New of this pass took are
// dropped.
func (a *Arena) Reset(results []*tensor.Dense) {
	if a == nil {
		return
	}
	clear(a.results)
	var copies map[*tensor.Dense]*tensor.Dense
	for i, t := range results {
		if t == nil {
			continue
		}
		if c, ok := copies[t]; ok {
			results[i] = c
			continue
		}
		d := Data(t)
		if len(d) == 0 {
			continue
		}
		l, ok := a.owned[&d[:1][0]]
		if !ok {
			continue
		}
		delete(a.owned, &d[0])
		a.results[l.seq] = len(d)
		if len(l.buf) > len(d) {
			c := tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(append([]float32(nil), d...)))
			if copies == nil {
				copies = map[*tensor.Dense]*tensor.Dense{}
			}
			copies[t] = c
			results[i] = c
			a.push(&a.free, l.buf)
		}
	}
	// In request order, so that passes are repeatable (map order is random).
	rest := make([]lease, 0, len(a.owned))
	for _, l := range a.owned {
		rest = append(rest, l)
	}
	slices.SortFunc(rest, func(x, y lease) int { return x.seq - y.seq })
	for _, l := range rest {
		a.push(&a.free, l.buf)
	}
	clear(a.owned)
	for _, l := range []*[][]float32{&a.free, &a.spare} {
		kept := (*l)[:0]
		for _, b := range *l {
			if a.used[&b[0]] {
				kept = append(kept, b)
			} else {
				delete(a.held, &b[0])
			}
		}
		clear((*l)[len(kept):])
		*l = kept
	}
	clear(a.used)
	a.seq = 0
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
		p, d := bufKey(t)
		if p == nil {
			continue
		}
		if _, ok := a.owned[p]; ok {
			continue
		}
		a.push(&a.spare, d[:len(d):len(d)])
		a.used[p] = true // survives the next Reset even if that pass has no use for it
	}
}

// bufKey returns the address of t's first value, which identifies its buffer
// in the arena's maps, and its data; nil for a nil or empty tensor.
func bufKey(t *tensor.Dense) (*float32, []float32) {
	if t == nil {
		return nil, nil
	}
	d := Data(t)
	if len(d) == 0 {
		return nil, nil
	}
	return &d[:1][0], d
}

// Copy returns a copy of x from the arena.
func (a *Arena) Copy(x *tensor.Dense) *tensor.Dense {
	y := a.New(x.Shape()...)
	copy(Data(y), Data(x))
	return y
}

// Scratch slots of an arena.
const (
	scratchPad   = iota // padded input planes
	scratchCol          // im2col columns
	scratchPhase        // column phases of a strided conv's input
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

// FreeValues is the number of float32 values the arena holds for later
// passes, free and recycled (for tests and diagnostics).
func (a *Arena) FreeValues() int {
	if a == nil {
		return 0
	}
	s := 0
	for _, l := range [][][]float32{a.free, a.spare} {
		for _, b := range l {
			s += len(b)
		}
	}
	return s
}

func (a *Arena) String() string {
	return fmt.Sprintf("nn.Arena{owned %d, free %d values}", a.Owned(), a.FreeValues())
}
