// Package gemm computes single-precision matrix products for the conv layers.
// Everything is row-major: C[m×n] (+)= A[m×k] · B[k×n].
//
// Several kernel paths exist (see Paths); the fastest one the CPU supports is
// chosen at start-up and SetPath forces another one (tests, benchmarks).
package gemm

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// Sgemm computes C = A·B (accumulate=false) or C += A·B (accumulate=true) for
// row-major A (m×k, leading dimension lda), B (k×n, ldb) and C (m×n, ldc).
// Inconsistent sizes are programming errors and panic with a message naming
// the operand.
func Sgemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if m <= 0 || n <= 0 {
		return
	}
	check("c", c, m, n, ldc)
	if k <= 0 {
		if !accumulate {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	check("a", a, m, k, lda)
	check("b", b, k, n, ldb)
	flops.Add(2 * int64(m) * int64(n) * int64(k))
	cur.Load().run(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

func check(name string, x []float32, rows, cols, ld int) {
	if ld < cols {
		panic(fmt.Sprintf("gemm: leading dimension of %s is %d, less than its %d columns", name, ld, cols))
	}
	if need := (rows-1)*ld + cols; len(x) < need {
		panic(fmt.Sprintf("gemm: %s has %d values, a %dx%d matrix with stride %d needs %d", name, len(x), rows, cols, ld, need))
	}
}

// path is one implementation of C (+)= A·B on already checked operands.
type path struct {
	name string
	run  func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool)
	kn   *kernel // the blocked kernel behind run, if any (Conv packs through it)
}

// paths lists the implementations this CPU can run, fastest first; the
// platform files add theirs in init.
var (
	paths []*path
	cur   atomic.Pointer[path]
)

func register(p *path) {
	paths = append([]*path{p}, paths...)
	cur.Store(paths[0])
}

func init() {
	// Order: later registrations are preferred.
	register(&path{"naive", naive, nil})
	register(&path{"generic", genericKernel.gemm, genericKernel})
	registerPlatform()
}

// Paths names the kernel paths usable on this machine, preferred first.
func Paths() []string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = p.name
	}
	return names
}

// Path names the kernel path in use.
func Path() string { return cur.Load().name }

// SetPath selects a kernel path by name ("" or "auto" picks the preferred
// one). It is meant for tests and benchmarks; it is safe to call concurrently
// with Sgemm but changes the path for every caller.
func SetPath(name string) error {
	if name == "" || name == "auto" {
		cur.Store(paths[0])
		return nil
	}
	for _, p := range paths {
		if p.name == name {
			cur.Store(p)
			return nil
		}
	}
	return fmt.Errorf("gemm: unknown or unsupported kernel path %q (have %v)", name, Paths())
}

var flops atomic.Int64

// Flops is the number of floating-point operations (2·m·n·k per product)
// done by Sgemm and Conv since the program started; benchmarks take the
// difference of two readings.
func Flops() int64 { return flops.Load() }

var threads atomic.Int32

// SetThreads sets how many goroutines one Sgemm call may use; n <= 0 means
// GOMAXPROCS.
func SetThreads(n int) {
	if n < 0 {
		n = 0
	}
	threads.Store(int32(n))
}

// Threads is the number of goroutines one Sgemm call may use.
func Threads() int {
	if t := threads.Load(); t > 0 {
		return int(t)
	}
	return runtime.GOMAXPROCS(0)
}
