package nn

import (
	"runtime"
	"sync"
)

// minParallelWork is the element count below which spawning goroutines costs
// more than it saves.
const minParallelWork = 1 << 15

// parallelFor runs f over [0, n) split into contiguous chunks, one goroutine per
// chunk, when there is more than one P and enough work (work = total elements
// touched). On js/wasm GOMAXPROCS is 1, so it always runs inline there.
func parallelFor(n, work int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 || work < minParallelWork {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		lo, hi := i*n/workers, (i+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// scratch buffers (im2col columns, padded planes) are recycled between calls.
var bufPool sync.Pool

// getBuf returns a buffer of length n with unspecified contents.
func getBuf(n int) *[]float32 {
	if v, ok := bufPool.Get().(*[]float32); ok && cap(*v) >= n {
		*v = (*v)[:n]
		return v
	}
	b := make([]float32, n)
	return &b
}

func putBuf(b *[]float32) { bufPool.Put(b) }
