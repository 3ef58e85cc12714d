package readout

import "github.com/posprobe/posprobe/core/gemm"

// The convolutions are computed as one GEMM per image without im2col:
// Z[(ij,o), q] = sum_c W[o,c,i,j] X[c,q] over all input pixels q, then each
// output pixel sums the K*K entries Z[(ij,o), q(y+i-p, x+j-p)]. For the
// C->1 layer Z is only K*K x H*W, so the cached features are read in place.
// The weight gradient is X · Gᵀ with G the output gradient scattered back
// onto input pixels, and the input gradient is Wᵀ · G.

// workspace holds per-goroutine scratch buffers.
type workspace struct {
	wr, z, gs, gsT []float32
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	b = b[:n]
	return b
}

// rearranged returns W as [(ij,o), c] (forward) — row (ij*OutC+o).
func (c *conv) rearranged(dst []float32) []float32 {
	kk := c.K * c.K
	dst = grow(dst, kk*c.OutC*c.InC)
	for o := 0; o < c.OutC; o++ {
		for ci := 0; ci < c.InC; ci++ {
			w := c.W[(o*c.InC+ci)*kk : (o*c.InC+ci+1)*kk]
			for ij, v := range w {
				dst[(ij*c.OutC+o)*c.InC+ci] = v
			}
		}
	}
	return dst
}

// forward computes out [OutC, Ho*Wo] = conv(x [InC, h*w]) + bias.
// wr, if non-nil, is c.rearranged() (shared across a batch).
func (c *conv) forward(x []float32, h, w int, out []float32, ws *workspace) {
	c.forwardWr(c.rearranged(ws.wr), x, h, w, out, ws)
}

func (c *conv) forwardWr(wr, x []float32, h, w int, out []float32, ws *workspace) {
	kk, hw := c.K*c.K, h*w
	ws.z = grow(ws.z, kk*c.OutC*hw)
	z := ws.z
	gemm.Sgemm(kk*c.OutC, hw, c.InC, wr, c.InC, x, hw, z, hw, false)
	c.gather(z, h, w, out)
}

// gather sums the GEMM output z [(ij,o), h*w] into out [OutC, Ho*Wo] + bias.
func (c *conv) gather(z []float32, h, w int, out []float32) {
	hw := h * w
	ho, wo := h+2*c.Pad-c.K+1, w+2*c.Pad-c.K+1
	for o := 0; o < c.OutC; o++ {
		dst := out[o*ho*wo : (o+1)*ho*wo]
		for j := range dst {
			dst[j] = c.B[o]
		}
		for i := 0; i < c.K; i++ {
			for j := 0; j < c.K; j++ {
				zr := z[((i*c.K+j)*c.OutC+o)*hw : ((i*c.K+j)*c.OutC+o+1)*hw]
				for y := 0; y < ho; y++ {
					sy := y + i - c.Pad
					if sy < 0 || sy >= h {
						continue
					}
					x0, x1 := max(0, c.Pad-j), min(wo, w+c.Pad-j) // sx = x+j-Pad in [0,w)
					row := dst[y*wo : (y+1)*wo]
					base := sy*w + j - c.Pad
					for xx := x0; xx < x1; xx++ {
						row[xx] += zr[base+xx]
					}
				}
			}
		}
	}
}

// scatter writes the output gradient g [OutC, Ho*Wo] onto input pixels:
// gsT[q, (ij,o)] (transposed=true) or gs[(ij,o), q].
func (c *conv) scatter(g []float32, h, w int, dst []float32, transposed bool) {
	kk, hw := c.K*c.K, h*w
	ho, wo := h+2*c.Pad-c.K+1, w+2*c.Pad-c.K+1
	clear(dst[:kk*c.OutC*hw])
	cols := kk * c.OutC
	for o := 0; o < c.OutC; o++ {
		gr := g[o*ho*wo : (o+1)*ho*wo]
		for i := 0; i < c.K; i++ {
			for j := 0; j < c.K; j++ {
				col := (i*c.K+j)*c.OutC + o
				for y := 0; y < ho; y++ {
					sy := y + i - c.Pad
					if sy < 0 || sy >= h {
						continue
					}
					x0, x1 := max(0, c.Pad-j), min(wo, w+c.Pad-j)
					for xx := x0; xx < x1; xx++ {
						q := sy*w + xx + j - c.Pad
						if transposed {
							dst[q*cols+col] = gr[y*wo+xx]
						} else {
							dst[col*hw+q] = gr[y*wo+xx]
						}
					}
				}
			}
		}
	}
}

// backward accumulates the gradients for one image: dWT [InC, (ij,o)] +=
// x · gsT, dB += sum g, and, when dx is non-nil, sets dx [InC, h*w] =
// wT · gs with wT = W as [c, (ij,o)].
func (c *conv) backward(x, g []float32, h, w int, dWT, dB []float32, wT, dx []float32, ws *workspace) {
	kk, hw := c.K*c.K, h*w
	ho, wo := h+2*c.Pad-c.K+1, w+2*c.Pad-c.K+1
	cols := kk * c.OutC
	for o := 0; o < c.OutC; o++ {
		s := float32(0)
		for _, v := range g[o*ho*wo : (o+1)*ho*wo] {
			s += v
		}
		dB[o] += s
	}
	ws.gsT = grow(ws.gsT, cols*hw)
	c.scatter(g, h, w, ws.gsT, true)
	gemm.Sgemm(c.InC, cols, hw, x, hw, ws.gsT, cols, dWT, cols, true)
	if dx != nil {
		ws.gs = grow(ws.gs, cols*hw)
		c.scatter(g, h, w, ws.gs, false)
		gemm.Sgemm(c.InC, hw, cols, wT, cols, ws.gs, hw, dx, hw, false)
	}
}

// transposed returns W as [c, (ij,o)], the layout of dWT.
func (c *conv) transposed(dst []float32) []float32 {
	kk := c.K * c.K
	cols := kk * c.OutC
	dst = grow(dst, c.InC*cols)
	for o := 0; o < c.OutC; o++ {
		for ci := 0; ci < c.InC; ci++ {
			for ij := 0; ij < kk; ij++ {
				dst[ci*cols+ij*c.OutC+o] = c.W[(o*c.InC+ci)*kk+ij]
			}
		}
	}
	return dst
}

// addGradFromT adds dWT [c, (ij,o)] into dW [o, c, ij].
func (c *conv) addGradFromT(dW, dWT []float32) {
	kk := c.K * c.K
	cols := kk * c.OutC
	for o := 0; o < c.OutC; o++ {
		for ci := 0; ci < c.InC; ci++ {
			for ij := 0; ij < kk; ij++ {
				dW[(o*c.InC+ci)*kk+ij] += dWT[ci*cols+ij*c.OutC+o]
			}
		}
	}
}
