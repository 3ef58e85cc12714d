//go:build !amd64

package gemm

func registerPlatform() {}
