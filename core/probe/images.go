package probe

import (
	"image"

	"gorgonia.org/tensor"

	"github.com/posprobe/posprobe/core/imageio"
	"github.com/posprobe/posprobe/core/posmap"
)

// Images is a set of photos on disk or one synthetic image.
type Images struct {
	Name  string      // folder, or black / white / noise
	Paths []string    // photos; nil for a synthetic set
	Image image.Image // the synthetic image
	Src   string      // where the synthetic image came from
}

// Folder lists the photos of dir (subfolders too when recursive); at most
// limit of them when limit > 0, the first in sorted order.
func Folder(dir string, recursive bool, limit int) (*Images, error) {
	paths, err := imageio.ListImages(dir, recursive)
	if err != nil {
		return nil, err
	}
	if limit > 0 && len(paths) > limit {
		paths = paths[:limit]
	}
	return &Images{Name: dir, Paths: paths}, nil
}

// Synthetic returns the black, white or noise input; dataDir may hold the
// reference noise PNG (see posmap.Synthetic).
func Synthetic(name, dataDir string) (*Images, error) {
	img, src, err := posmap.Synthetic(name, InputSize, posmap.DataFS(dataDir))
	if err != nil {
		return nil, err
	}
	return &Images{Name: name, Image: img, Src: src}, nil
}

// Len is the number of images.
func (s *Images) Len() int {
	if s.Paths == nil {
		return 1
	}
	return len(s.Paths)
}

// Load returns image i as [1,3,224,224] in [0,1].
func (s *Images) Load(i int) (*tensor.Dense, error) {
	if s.Paths == nil {
		return imageio.ToTensor(s.Image, InputSize), nil
	}
	return imageio.LoadTensor(s.Paths[i], InputSize)
}
