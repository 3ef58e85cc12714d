package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// ref64 is an independent float64 reference: C (+)= A·B, plus the bound
// sum|a||b| (+|c|) that scales the allowed rounding error of each element.
func ref64(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) (want, scale []float64) {
	want = make([]float64, m*n)
	scale = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			if acc {
				s = float64(c[i*ldc+j])
				sa = math.Abs(s)
			}
			for p := 0; p < k; p++ {
				x := float64(a[i*lda+p]) * float64(b[p*ldb+j])
				s += x
				sa += math.Abs(x)
			}
			want[i*n+j], scale[i*n+j] = s, sa
		}
	}
	return
}

func randSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

const tol = 1e-4

// checkCase runs Sgemm on the current path with padded strides and compares
// with ref64; it also checks that C's padding columns are left alone.
func checkCase(t *testing.T, r *rand.Rand, m, n, k, pad int, acc bool) {
	t.Helper()
	lda, ldb, ldc := k+pad, n+2*pad, n+3*pad
	a := randSlice(r, m*lda)
	b := randSlice(r, k*ldb)
	c := randSlice(r, m*ldc)
	c0 := append([]float32(nil), c...)
	want, scale := ref64(m, n, k, a, lda, b, ldb, c, ldc, acc)
	Sgemm(m, n, k, a, lda, b, ldb, c, ldc, acc)
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			got := float64(c[i*ldc+j])
			if j >= n {
				if c[i*ldc+j] != c0[i*ldc+j] {
					t.Fatalf("%s m=%d n=%d k=%d: padding C[%d,%d] changed", Path(), m, n, k, i, j)
				}
				continue
			}
			w, s := want[i*n+j], scale[i*n+j]
			if math.Abs(got-w) > tol*s+1e-30 || math.IsNaN(got) {
				t.Fatalf("%s m=%d n=%d k=%d pad=%d acc=%v threads=%d: C[%d,%d]=%g want %g (scale %g)",
					Path(), m, n, k, pad, acc, Threads(), i, j, got, w, s)
			}
		}
	}
}

func forEachPath(t *testing.T, f func(t *testing.T)) {
	defer SetPath("")
	for _, name := range Paths() {
		if err := SetPath(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}

// TestOddSizes covers every m, n, k in 1..70 along each axis with the others
// random, strides wider than the matrices, accumulate on and off.
func TestOddSizes(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for s := 1; s <= 70; s++ {
			for _, acc := range []bool{false, true} {
				checkCase(t, r, s, 1+r.IntN(70), 1+r.IntN(70), 1+r.IntN(3), acc)
				checkCase(t, r, 1+r.IntN(70), s, 1+r.IntN(70), 1+r.IntN(3), acc)
				checkCase(t, r, 1+r.IntN(70), 1+r.IntN(70), s, 1+r.IntN(3), acc)
			}
		}
	})
}

// TestBlocking crosses the cache-block and tile boundaries and the task
// split, for several thread counts.
func TestBlocking(t *testing.T) {
	defer SetThreads(0)
	shapes := [][3]int{{1, 1, 1}, {17, 1000, 300}, {64, 530, 513}, {70, 97, 600}, {9, 2000, 27}, {130, 49, 260}}
	if testing.Short() {
		shapes = shapes[:3]
	}
	forEachPath(t, func(t *testing.T) {
		if Path() == "naive" {
			t.Skip("reference")
		}
		r := rand.New(rand.NewPCG(3, 4))
		for _, th := range []int{1, 2, 3} {
			SetThreads(th)
			for _, s := range shapes {
				checkCase(t, r, s[0], s[1], s[2], 1, th == 2)
			}
		}
	})
}

// TestZeroK: k = 0 gives C = 0, or leaves C alone when accumulating.
func TestZeroK(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	Sgemm(2, 2, 0, nil, 0, nil, 2, c, 2, true)
	if c[0] != 1 || c[3] != 4 {
		t.Fatalf("accumulate with k=0 changed C: %v", c)
	}
	Sgemm(2, 2, 0, nil, 0, nil, 2, c, 2, false)
	for _, v := range c {
		if v != 0 {
			t.Fatalf("k=0 without accumulate: C=%v, want zeros", c)
		}
	}
}

func TestShortSlicePanicsWithName(t *testing.T) {
	defer func() {
		msg := fmt.Sprint(recover())
		if msg != "gemm: b has 5 values, a 2x3 matrix with stride 3 needs 6" {
			t.Fatalf("panic message %q", msg)
		}
	}()
	Sgemm(2, 3, 2, make([]float32, 4), 2, make([]float32, 5), 3, make([]float32, 6), 3, false)
}

func TestSetPath(t *testing.T) {
	defer SetPath("")
	if err := SetPath("no-such-kernel"); err == nil {
		t.Fatal("SetPath accepted an unknown name")
	}
	if err := SetPath("naive"); err != nil || Path() != "naive" {
		t.Fatalf("SetPath(naive): %v, path %s", err, Path())
	}
	if err := SetPath("auto"); err != nil || Path() != Paths()[0] {
		t.Fatalf("SetPath(auto): %v, path %s, want %s", err, Path(), Paths()[0])
	}
}

func TestFlops(t *testing.T) {
	f0 := Flops()
	Sgemm(3, 5, 7, make([]float32, 21), 7, make([]float32, 35), 5, make([]float32, 15), 5, false)
	if got, want := Flops()-f0, int64(2*3*5*7); got != want {
		t.Fatalf("Flops grew by %d, want %d", got, want)
	}
}
