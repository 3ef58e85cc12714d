package metric

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ranksSort is the comparison-sort Ranks the radix sort replaced: the
// reference its ranks must equal exactly.
func ranksSort(v []float32) []float64 {
	idx := make([]int32, len(v))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		switch va, vb := v[a], v[b]; {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return 0
	})
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

func TestRanksMatchSort(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string][]float32{
		"empty":   {},
		"one":     {3},
		"zeros":   {0, negZero, 0, negZero, 1, -1, negZero},
		"ties":    {10, 20, 10, 30, 20, 20, -5, -5, 0},
		"extreme": {math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), 0, negZero},
		"const":   {0.5, 0.5, 0.5, 0.5},
	}
	for _, n := range []int{2, 17, 1000, 224 * 224} {
		u := make([]float32, n) // uniform in [-1,1): distinct mostly
		q := make([]float32, n) // few levels, many ties, +-0
		s := make([]float32, n) // sigmoid-like range (0,1), differ in low bits only
		w := make([]float32, n) // wide exponents and signs
		for i := range u {
			u[i] = float32(2*rng.Float64() - 1)
			q[i] = float32(rng.IntN(7)-3) / 2
			if q[i] == 0 && rng.IntN(2) == 0 {
				q[i] = negZero
			}
			s[i] = 0.5 + float32(rng.IntN(64))*1e-7
			w[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30)))
		}
		cases["uniform"+string(rune('a'+len(cases)))] = u
		cases["levels"+string(rune('a'+len(cases)))] = q
		cases["narrow"+string(rune('a'+len(cases)))] = s
		cases["wide"+string(rune('a'+len(cases)))] = w
	}
	for name, v := range cases {
		got, want := Ranks(v), ranksSort(v)
		if len(got) != len(want) {
			t.Fatalf("%s: %d ranks, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s (n=%d): rank of v[%d]=%v is %v, want %v", name, len(v), i, v[i], got[i], want[i])
			}
		}
	}
}

func BenchmarkRanks224(b *testing.B) {
	n := 224 * 224
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.Sin(float64(i)))
	}
	b.Run("radix", func(b *testing.B) {
		for b.Loop() {
			Ranks(v)
		}
	})
	b.Run("sort", func(b *testing.B) {
		for b.Loop() {
			ranksSort(v)
		}
	})
}
