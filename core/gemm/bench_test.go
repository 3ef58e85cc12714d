package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/posprobe/posprobe/internal/proc"
)

// VGG16-at-224 conv GEMM shapes (m = out channels, k = in channels·9,
// n = output pixels) plus a small ResNet-like one.
var benchShapes = [][3]int{
	{64, 12544, 576}, {128, 3136, 1152}, {256, 784, 2304}, {512, 196, 4608}, {64, 50176, 27},
}

// BenchmarkSgemm reports GFLOP/s per path and shape:
// go test -run - -bench Sgemm ./core/gemm/
func BenchmarkSgemm(b *testing.B) {
	defer SetPath("")
	r := rand.New(rand.NewPCG(5, 6))
	for _, name := range Paths() {
		if name == "naive" {
			continue
		}
		for _, s := range benchShapes {
			m, n, k := s[0], s[1], s[2]
			a, bb, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
			b.Run(fmt.Sprintf("%s/%dx%dx%d", name, m, n, k), func(b *testing.B) {
				if err := SetPath(name); err != nil {
					b.Fatal(err)
				}
				cpu0 := proc.CPUSeconds()
				for b.Loop() {
					Sgemm(m, n, k, a, k, bb, n, c, n, false)
				}
				flop := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
				b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu := proc.CPUSeconds() - cpu0; cpu > 0 {
					b.ReportMetric(flop/cpu/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}

// BenchmarkConv3x3 times VGG16-at-224 3×3 layers (out, in, size) through Conv
// (packed im2col) and through an explicit im2col + Sgemm, on the current path.
func BenchmarkConv3x3(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, l := range [][3]int{{64, 3, 224}, {64, 64, 224}, {128, 128, 112}, {256, 256, 56}, {512, 512, 28}, {512, 512, 14}} {
		m, c, sz := l[0], l[1], l[2]
		hp := sz + 2
		k, n := c*9, sz*sz
		w, in, out := randSlice(r, m*k), randSlice(r, c*hp*hp), make([]float32, m*n)
		flop := 2 * float64(m) * float64(n) * float64(k)
		b.Run(fmt.Sprintf("packed/%dx%dx%d", m, c, sz), func(b *testing.B) {
			cpu0 := proc.CPUSeconds()
			for b.Loop() {
				Conv(m, w, k, in, c, hp, hp, 3, 3, 1, out, n, false)
			}
			b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := proc.CPUSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(flop*float64(b.N)/cpu/1e9, "GFLOP/cpu-s")
			}
		})
		b.Run(fmt.Sprintf("im2col/%dx%dx%d", m, c, sz), func(b *testing.B) {
			cols := make([]float32, k*n)
			cv := convB{in: in, h: hp, w: hp, kh: 3, kw: 3, s: 1, ow: sz}
			cpu0 := proc.CPUSeconds()
			for b.Loop() {
				for q := 0; q < k; q++ {
					cv.row(cols[q*n:(q+1)*n], q, 0)
				}
				Sgemm(m, n, k, w, k, cols, n, out, n, false)
			}
			b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := proc.CPUSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(flop*float64(b.N)/cpu/1e9, "GFLOP/cpu-s")
			}
		})
	}
}
