//go:build js || wasip1

package gemm

func cpuSeconds() float64 { return 0 }
