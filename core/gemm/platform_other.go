//go:build !amd64 && !(wasm && goexperiment.simd)

package gemm

func registerPlatform() {}
