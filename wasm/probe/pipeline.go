package probe

import (
	"fmt"
	"image"
	"math"
	"reflect"
	"sync"

	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/metric"
	"github.com/posprobe/posprobe/core/metric/score"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/wasm/demo"
)

// Pipeline wires the demo's pipeline to the core packages: Pillow-exact
// resampling of the crop, the reference ground-truth maps, Spearman and MAE.
func Pipeline() demo.Pipeline {
	truth := map[string]*metric.Ranked{}
	truthMaps := map[string][]float32{}
	get := func(target string, size int) ([]float32, error) {
		if m, ok := truthMaps[target]; ok && size == demo.MapSize {
			return m, nil
		}
		t, err := posmap.ParseTarget(target)
		if err != nil {
			return nil, err
		}
		m := posmap.Map(t, size, posmap.Options{})
		if size == demo.MapSize {
			truthMaps[target] = m
			truth[target] = metric.NewRanked(m)
		}
		return m, nil
	}
	// Ranks of the ground truth are computed once per target: the worker
	// goroutine is the only caller of Score, the UI only calls Truth before
	// the first prediction, so no lock is needed beyond this warm-up.
	for _, t := range demo.Targets {
		get(t, demo.MapSize)
	}
	rc := &rgbCache{}
	return demo.Pipeline{
		Resample: rc.resample,
		Truth:    get,
		Score: func(target string, pred, gt []float32, rank bool) score.Score {
			s := score.Score{MAE: metric.MAE(pred, gt), SPC: math.NaN()}
			if !rank {
				return s
			}
			if r := truth[target]; r != nil && len(gt) == demo.MapSize*demo.MapSize {
				s.SPC = r.Spearman(pred)
			} else {
				s.SPC = metric.Spearman(pred, gt)
			}
			return s
		},
	}
}

// cachedPixels is the largest photo (width x height) whose RGB conversion
// rgbCache keeps: 12 MB.
const cachedPixels = 4 << 20

// rgbCache converts the photo being cropped to RGB once instead of every
// crop (a JPEG's YCbCr conversion was a fifth of the resampling while
// dragging); results are those of imageio.ToTensor on the crop. A photo is
// known by its pointer (the demo never changes one in place).
type rgbCache struct {
	mu  sync.Mutex
	img image.Image
	pix []uint8
	w   int
}

// resample returns rect r of img as [3,size,size] in [0,1].
func (c *rgbCache) resample(img image.Image, r image.Rectangle, size int) ([]float32, error) {
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return nil, fmt.Errorf("photo type %T cannot be cropped", img)
	}
	b := img.Bounds()
	r = r.Intersect(b)
	if r.Dx() < 2 || r.Dy() < 2 {
		return nil, fmt.Errorf("crop %v is empty", r)
	}
	if b.Dx()*b.Dy() > cachedPixels || reflect.TypeOf(img).Kind() != reflect.Pointer {
		return nn.Data(imageio.ToTensor(sub.SubImage(r), size)), nil
	}
	c.mu.Lock()
	if c.img != img {
		c.img, c.pix = img, nil // the old photo's pixels go first
		c.pix, c.w, _ = imageio.RGB(img)
	}
	pix, w := c.pix, c.w // never written once made
	c.mu.Unlock()
	return nn.Data(imageio.CropToTensor(pix, w, r.Sub(b.Min), size)), nil
}
