//go:build !js

package main

import (
	"github.com/posprobe/posprobe/wasm/demo"
	"github.com/posprobe/posprobe/wasm/probe"
)

// localBackend runs the models in this process (native threads: the
// scheduler's goroutine keeps the window responsive).
type localBackend struct{ pipe demo.Pipeline }

func newBackend() backend { return localBackend{pipe: probe.Pipeline()} }

func (b localBackend) Truth(target string, size int) ([]float32, error) {
	return b.pipe.Truth(target, size)
}

func (b localBackend) Load(i int, src demo.Source, man demo.Manifest, progress func(float64, string)) (demo.Predictor, []string, error) {
	p, err := probe.LoadModel(demo.Models[i], src, man, dataDir(), progress)
	if err != nil {
		return nil, nil, err
	}
	return p, p.Missing, nil
}

func (localBackend) SetPhoto(int, []byte, string) {}

func (b localBackend) Runner() runner { return demo.NewScheduler(b.pipe.Run) }
