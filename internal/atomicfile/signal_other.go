//go:build !unix

package atomicfile

func watchSignals()   {}
func unwatchSignals() {}
