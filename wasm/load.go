package main

import (
	"fmt"

	"github.com/posprobe/posprobe/wasm/demo"
)

// loadModel builds the predictor of model m: its encoder (weights from the
// site, or generated from the seed for random init) and one readout per
// target. progress gets a fraction in [0,1] and a message.
func loadModel(m demo.Model, src source, man manifest, progress func(float64, string)) (demo.Predictor, error) {
	return nil, fmt.Errorf("%s: the encoder and readout packages are not built into this app yet", m.Label)
}
