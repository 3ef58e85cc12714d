package cnn

import (
	"math"
	"runtime"
	"sync"
)

// chunks is how many parts a batch is split into; the parts' gradients are
// summed in a fixed order, so results do not depend on the worker count.
const chunks = 8

// BatchGrad is LossAndGrad over a batch, split over workers goroutines
// (0: GOMAXPROCS).
func (n *Net) BatchGrad(xs [][]float32, labels []int, workers int) (float64, [][]float32) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	B := len(xs)
	parts := min(chunks, B)
	losses := make([]float64, parts)
	gs := make([][][]float32, parts)
	scale := 1 / float32(B)
	parallel(parts, workers, func(p int) {
		lo, hi := p*B/parts, (p+1)*B/parts
		g := n.zeroGrads()
		var tr trace
		var sc scratch
		for i := lo; i < hi; i++ {
			n.forward(xs[i], &tr, &sc)
			losses[p] += n.backward(&tr, labels[i], scale, g, &sc)
		}
		gs[p] = g
	})
	loss := 0.0
	for p := range parts {
		loss += losses[p]
		if p == 0 {
			continue
		}
		for t, g := range gs[p] {
			for i, v := range g {
				gs[0][t][i] += v
			}
		}
	}
	return loss / float64(B), gs[0]
}

// Predict returns the argmax class and the cross-entropy of each image.
func (n *Net) Predict(xs [][]float32, labels []int, workers int) (pred []int, loss []float64) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pred = make([]int, len(xs))
	loss = make([]float64, len(xs))
	parts := min(workers*4, len(xs))
	parallel(parts, workers, func(p int) {
		var tr trace
		var sc scratch
		d := make([]float32, n.Classes)
		for i := p * len(xs) / parts; i < (p+1)*len(xs)/parts; i++ {
			n.forward(xs[i], &tr, &sc)
			best := 0
			for k, v := range tr.logits {
				if v > tr.logits[best] {
					best = k
				}
			}
			pred[i] = best
			if labels != nil {
				loss[i] = crossEntropy(tr.logits, labels[i], 1, d)
			}
		}
	})
	return pred, loss
}

func parallel(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// Adadelta is torch.optim.Adadelta (weight decay added to the gradient).
type Adadelta struct {
	LR, Rho, Eps, WeightDecay float64
	sq, acc                   [][]float32
}

// Step updates params in place from grads.
func (a *Adadelta) Step(params, grads [][]float32) {
	if a.sq == nil {
		for _, p := range params {
			a.sq = append(a.sq, make([]float32, len(p)))
			a.acc = append(a.acc, make([]float32, len(p)))
		}
	}
	rho, eps := a.Rho, a.Eps
	for t, p := range params {
		g, sq, acc := grads[t], a.sq[t], a.acc[t]
		for i, w := range p {
			d := float64(g[i]) + a.WeightDecay*float64(w)
			s := rho*float64(sq[i]) + (1-rho)*d*d
			delta := math.Sqrt(float64(acc[i])+eps) / math.Sqrt(s+eps) * d
			acc[i] = float32(rho*float64(acc[i]) + (1-rho)*delta*delta)
			sq[i] = float32(s)
			p[i] = float32(float64(w) - a.LR*delta)
		}
	}
}
