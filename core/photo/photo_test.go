package photo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/hostile"
)

// TestBombsRefusedBeforeDecoding builds images whose headers declare random
// sizes over the budget; each must be refused by name, without the pixel
// memory being allocated.
func TestBombsRefusedBeforeDecoding(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), 11))
	for i := 0; i < 30; i++ {
		format := []string{"png", "jpeg", "gif"}[i%3]
		w, h := 8000+r.IntN(57000), 8000+r.IntN(57000) // 64-4225 MP
		if format == "png" && i%2 == 0 {
			w, h = 100000+r.IntN(1<<30), 100000+r.IntN(1<<30)
		}
		b := hostile.Bomb(format, w, h)
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != w || cfg.Height != h {
			t.Fatalf("%s bomb: header says %dx%d (%v), want %dx%d", format, cfg.Width, cfg.Height, err, w, h)
		}
		name := fmt.Sprintf("bomb%d.%s", i, format)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Decode(bytes.NewReader(b), name)
		runtime.ReadMemStats(&after)
		var be *BudgetError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "--max-pixels") {
			t.Fatalf("%s %dx%d: err %v, want a budget error naming it", name, w, h, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("%s: %d bytes allocated before refusing", name, grew)
		}
	}
}

func TestBudgetCanBeRaised(t *testing.T) {
	defer SetMaxPixels(DefaultMaxPixels)
	b := hostile.Small("png", 40, 30)
	SetMaxPixels(40*30 - 1)
	if _, err := Decode(bytes.NewReader(b), "p.png"); err == nil {
		t.Fatal("1200 pixels decoded under a 1199-pixel budget")
	}
	SetMaxPixels(40 * 30)
	img, err := Decode(bytes.NewReader(b), "p.png")
	if err != nil || img.Bounds().Dx() != 40 {
		t.Fatalf("at the budget: %v", err)
	}
}

func TestTruncatedImagesNamed(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), 12))
	for _, format := range []string{"png", "jpeg", "gif"} {
		b := hostile.Small(format, 50+r.IntN(50), 50+r.IntN(50))
		for _, n := range []int{0, 1, 7, 20, len(b) / 2, len(b) - 1 - r.IntN(4)} {
			name := fmt.Sprintf("cut%d.%s", n, format)
			if _, err := Decode(bytes.NewReader(b[:n]), name); err == nil || !strings.Contains(err.Error(), name) {
				if format != "png" && err == nil && n >= len(b)-4 {
					continue // Go's JPEG and GIF decoders tolerate a missing trailer
				}
				t.Errorf("%s: err %v, want one naming it", name, err)
			}
		}
	}
}
