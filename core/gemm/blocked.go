package gemm

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// kernel is a register-blocked micro-kernel and the cache-blocking driver
// around it. fn computes one full mr×nr tile of C (+)= A·B over kc steps from
// A rows a[r*lda+p] (unpacked: the mr rows are read in place) and a packed B
// panel b[p*nr+j]; load=false overwrites the tile instead of adding to it.
type kernel struct {
	mr, nr int
	fn     kernFunc
	// pack, if set, copies one full kc×nr panel of B (stride ldb) to
	// dst[p*nr+j]: cheaper than a copy call per row of nr values.
	pack func(dst, b []float32, ldb, kc int)
	// edges are narrower kernels (ascending nr) for the last, partial panel,
	// so that e.g. n = 196 does not compute 240 columns.
	edges []edgeKernel
	// strip, if set, does fn's work on panels consecutive full panels (B
	// panels kc·nr apart, C tiles nr apart) in one call per row strip.
	strip stripFunc
	// packA, if set, copies rows (<= mr) rows × kc of A (stride lda) to dst
	// in the kernel's layout, aStep values per k step, zero rows after rows;
	// fn then gets dst (its lda unused) instead of A in place.
	packA func(dst, a []float32, lda, rows, kc int)
	aStep int
}

type kernFunc func(kc int, a []float32, lda int, b []float32, c []float32, ldc int, load bool)

type stripFunc func(kc int, a []float32, lda int, b []float32, panels int, c []float32, ldc int, load bool)

type edgeKernel struct {
	nr int
	fn kernFunc
}

// panelKernel is the kernel and panel width for a panel with cols columns.
func (kn *kernel) panelKernel(cols int) (kernFunc, int) {
	for _, e := range kn.edges {
		if cols <= e.nr {
			return e.fn, e.nr
		}
	}
	return kn.fn, kn.nr
}

// Blocking: a kc×nc block of packed B stays in L2 while the mr-row strips of A
// (mr×kc, in L1) sweep over it.
const (
	kcBlock = 256
	ncBlock = 480
)

// scratch is one worker's reusable memory.
type scratch struct {
	bp, a, c []float32
}

var scratchStock stock[*scratch]

func getScratch(kn *kernel, nc int) *scratch {
	s, _ := scratchStock.get()
	if s == nil {
		s = &scratch{}
	}
	nb := kcBlock * ((nc + kn.nr - 1) / kn.nr * kn.nr)
	if cap(s.bp) < nb {
		s.bp = make([]float32, nb)
	}
	if na := max(kn.mr, kn.aStep) * kcBlock; cap(s.a) < na {
		s.a = make([]float32, na)
	}
	if cap(s.c) < kn.mr*kn.nr {
		s.c = make([]float32, kn.mr*kn.nr)
	}
	return s
}

// bSource packs blocks of the B operand (see packB for the layout).
type bSource interface {
	pack(kn *kernel, dst []float32, pc, kc, c0, nc int)
}

// matB is a row-major B matrix.
type matB struct {
	b   []float32
	ldb int
}

func (s matB) pack(kn *kernel, dst []float32, pc, kc, c0, nc int) {
	kn.packB(dst, s.b[pc*s.ldb+c0:], s.ldb, kc, nc)
}

func (kn *kernel) gemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	kn.run(m, n, k, a, lda, matB{b, ldb}, c, ldc, accumulate)
}

func (kn *kernel) run(m, n, k int, a []float32, lda int, b bSource, c []float32, ldc int, accumulate bool) {
	t := Threads()
	panels := (n + kn.nr - 1) / kn.nr
	// Column chunks of whole panels give independent tasks that share nothing.
	// With few panels (late layers: n = 14·14) the rows are split instead,
	// over one copy of B packed up front by all workers together.
	colPanels := min(ncBlock/kn.nr, (panels+t-1)/t)
	rowChunk := m
	var pre []float32
	if panels < 4*t && t > 1 && m > kn.mr {
		colPanels = panels
		rows := (m + t - 1) / t
		rowChunk = (rows + kn.mr - 1) / kn.mr * kn.mr
		buf := getPacked(k * panels * kn.nr)
		defer packedStock.put(buf)
		pre = *buf
		ks := kStep(k)
		parallel(t, (k+ks-1)/ks, func(_ *scratch, blk int) {
			pc := blk * ks
			kc := min(ks, k-pc)
			b.pack(kn, pre[pc*panels*kn.nr:(pc+kc)*panels*kn.nr], pc, kc, 0, n)
		}, nil)
	}
	colChunk := colPanels * kn.nr
	nCol := (n + colChunk - 1) / colChunk
	nRow := (m + rowChunk - 1) / rowChunk
	parallel(t, nCol*nRow, func(s *scratch, task int) {
		r0, c0 := (task/nCol)*rowChunk, (task%nCol)*colChunk
		kn.block(s, pre, r0, min(m, r0+rowChunk), c0, min(n, c0+colChunk), k, a, lda, b, c, ldc, accumulate)
	}, func() *scratch { return getScratch(kn, colChunk) })
}

// parallel runs do(task) for tasks [0, tasks) on up to t goroutines, each with
// its own scratch from get (nil if get is nil).
func parallel(t, tasks int, do func(s *scratch, task int), get func() *scratch) {
	workers := min(t, tasks)
	work := func(next *atomic.Int32) {
		var s *scratch
		if get != nil {
			s = get()
			defer scratchStock.put(s)
		}
		for {
			task := int(next.Add(1)) - 1
			if task >= tasks {
				return
			}
			do(s, task)
		}
	}
	var next atomic.Int32
	if workers <= 1 {
		work(&next)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(&next)
		}()
	}
	wg.Wait()
}

// kStep splits k into equal blocks of at most kcBlock: a short last block
// would pay the C load/store for little work.
func kStep(k int) int {
	nb := (k + kcBlock - 1) / kcBlock
	return (k + nb - 1) / nb
}

var packedStock stock[*[]float32]

// getPacked returns a buffer of n values (contents unspecified); one too
// small is replaced by a bigger one, so the stock grows to the largest size.
func getPacked(n int) *[]float32 {
	v, ok := packedStock.get()
	if !ok {
		v = new([]float32)
	}
	if cap(*v) < n {
		*v = make([]float32, n)
	}
	*v = (*v)[:n]
	return v
}

// block computes rows [r0,r1) × columns [c0,c1) of C.
// pre, if not nil, holds all of B packed (columns [c0,c1) = all of them).
func (kn *kernel) block(s *scratch, pre []float32, r0, r1, c0, c1, k int, a []float32, lda int, b bSource, c []float32, ldc int, accumulate bool) {
	mr, nr := kn.mr, kn.nr
	nc := c1 - c0
	panels := (nc + nr - 1) / nr
	kstep := kStep(k)
	for pc := 0; pc < k; pc += kstep {
		kc := min(kstep, k-pc)
		var bp []float32
		if pre != nil {
			bp = pre[pc*panels*nr : (pc+kc)*panels*nr]
		} else {
			bp = s.bp[:panels*kc*nr]
			b.pack(kn, bp, pc, kc, c0, nc)
		}
		load := accumulate || pc > 0
		for i := r0; i < r1; i += mr {
			kn.rowStrip(s, min(mr, r1-i), kc, a[i*lda+pc:], lda, bp, c0, c1, c[i*ldc:], ldc, load)
		}
	}
}

// rowStrip computes rows (<= mr) rows × columns [c0,c1) of C over one k
// block: A's rows in place (stride lda), B packed in bp.
func (kn *kernel) rowStrip(s *scratch, rows, kc int, a []float32, lda int, bp []float32, c0, c1 int, c []float32, ldc int, load bool) {
	mr, nr := kn.mr, kn.nr
	if kn.packA != nil {
		ap := s.a[:kn.aStep*kc]
		kn.packA(ap, a, lda, rows, kc)
		a, lda = ap, 0
	} else if rows < mr {
		// Too few rows left: a zero-padded copy keeps the kernel in bounds.
		ap := s.a[:mr*kc]
		clear(ap)
		for r := 0; r < rows; r++ {
			copy(ap[r*kc:(r+1)*kc], a[r*lda:])
		}
		a, lda = ap, kc
	}
	j := c0
	if full := (c1 - c0) / nr; kn.strip != nil && rows == mr && full > 0 {
		kn.strip(kc, a, lda, bp, full, c[c0:], ldc, load)
		j += full * nr
	}
	for ; j < c1; j += nr {
		cols := min(nr, c1-j)
		fn, pnr := kn.panelKernel(cols)
		bpan := bp[(j-c0)*kc : (j-c0)*kc+kc*pnr]
		if rows == mr && cols == pnr {
			fn(kc, a, lda, bpan, c[j:], ldc, load)
			continue
		}
		ct := s.c[:mr*pnr]
		fn(kc, a, lda, bpan, ct, pnr, false)
		for r := 0; r < rows; r++ {
			dst := c[r*ldc+j : r*ldc+j+cols]
			src := ct[r*pnr : r*pnr+cols]
			if load {
				for x, v := range src {
					dst[x] += v
				}
			} else {
				copy(dst, src)
			}
		}
	}
}

// packB copies a kc×nc block of B (stride ldb) into nr-wide panels
// dst[panel][p][j]; the last panel has its edge kernel's width, zero-padded.
func (kn *kernel) packB(dst, b []float32, ldb, kc, nc int) {
	if kn.pack != nil {
		// A copy call per nr values cost more than the copying (memmove was
		// ~15% of a wasm prediction with the generic kernel's 4).
		nr := kn.nr
		full := nc / nr * nr
		for j0 := 0; j0 < full; j0 += nr {
			kn.pack(dst[j0*kc:][:nr*kc], b[j0:], ldb, kc)
		}
		if full == nc {
			return
		}
		b, dst, nc = b[full:], dst[full*kc:], nc-full
	}
	for j0 := 0; j0 < nc; j0 += kn.nr {
		w := min(kn.nr, nc-j0)
		_, nr := kn.panelKernel(w)
		pan := dst[(j0/kn.nr)*kc*kn.nr:][:kc*nr]
		for p := 0; p < kc; p++ {
			row := pan[p*nr : (p+1)*nr]
			copy(row, b[p*ldb+j0:p*ldb+j0+w])
			if w < nr {
				clear(row[w:])
			}
		}
	}
}

// packPanel4 copies a kc×4 block of B (stride ldb) to dst[p*4+j].
func packPanel4(dst, b []float32, ldb, kc int) {
	_, _ = dst[4*kc-1], b[(kc-1)*ldb+3]
	d, s := unsafe.Pointer(&dst[0]), unsafe.Pointer(&b[0])
	st := uintptr(ldb) * 4
	for p := 0; p < kc; p++ {
		pd, ps := unsafe.Add(d, 16*p), unsafe.Add(s, uintptr(p)*st)
		*(*float32)(pd) = *(*float32)(ps)
		*(*float32)(unsafe.Add(pd, 4)) = *(*float32)(unsafe.Add(ps, 4))
		*(*float32)(unsafe.Add(pd, 8)) = *(*float32)(unsafe.Add(ps, 8))
		*(*float32)(unsafe.Add(pd, 12)) = *(*float32)(unsafe.Add(ps, 12))
	}
}
