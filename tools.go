//go:build tools

// This file pins modules the project depends on before every package imports them.
package tools

import (
	_ "github.com/hajimehoshi/ebiten/v2"
	_ "github.com/klauspost/cpuid/v2"
	_ "github.com/nlpodyssey/gopickle/pickle"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/spf13/cobra"
	_ "go4.org/unsafe/assume-no-moving-gc"
	_ "golang.org/x/image/draw"
	_ "gonum.org/v1/gonum/stat"
	_ "gonum.org/v1/plot"
	_ "gorgonia.org/tensor"
)
