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
