package gemm

import (
	"runtime"
	"sync"
)

// stock is a free list of scratch memory. Unlike a sync.Pool it keeps its
// items across garbage collections and whichever P a goroutine runs on, so
// steady repeated products allocate nothing; it keeps at most stockMax()
// items (the most that concurrent calls put back), dropping the rest.
type stock[T any] struct {
	mu    sync.Mutex
	items []T
}

func stockMax() int { return 2*runtime.GOMAXPROCS(0) + 2 }

// get pops an item; ok is false when the stock is empty.
func (s *stock[T]) get() (x T, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.items); n > 0 {
		x = s.items[n-1]
		var zero T
		s.items[n-1] = zero
		s.items = s.items[:n-1]
		return x, true
	}
	return x, false
}

func (s *stock[T]) put(x T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) < stockMax() {
		s.items = append(s.items, x)
	}
}
