package demo

// Halve writes the means of the 2×2 blocks of a size×size map (size even)
// into dst, reallocated if short, and returns the (size/2)² values: the
// level a map drawn at under half its size is sampled from, the same that
// ebiten's mipmap would build on the GPU.
func Halve(dst, m []float32, size int) []float32 {
	h := size / 2
	if cap(dst) < h*h {
		dst = make([]float32, h*h)
	}
	dst = dst[:h*h]
	for y := 0; y < h; y++ {
		r0, r1 := m[2*y*size:], m[(2*y+1)*size:]
		for x := 0; x < h; x++ {
			dst[y*h+x] = (r0[2*x] + r0[2*x+1] + r1[2*x] + r1[2*x+1]) / 4
		}
	}
	return dst
}
