package weights

import (
	"fmt"
	"os"
	"path/filepath"
)

// Locate finds the weight file or folder for a known encoder. Order: the
// explicit path, then dataDir/weights/<dir>. (The cache and download steps of
// the resolution order are added by the registry work.)
func Locate(encoder, explicit, dataDir string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("weights for %s: %w", encoder, err)
		}
		return explicit, nil
	}
	dir, ok := map[string]string{
		"squeezenet1.1": "squeezenet1.1",
		"mobilenetv2":   "mobilenetv2",
		"resnet50v2":    "resnet50v2",
		"darknet-tiny":  "darknet-tiny",
	}[encoder]
	if !ok {
		return "", fmt.Errorf("weights for %s: no local copy known; pass --weights", encoder)
	}
	if dataDir == "" {
		return "", fmt.Errorf("weights for %s: set --data or POSPROBE_DATA (e.g. ../shared/data) or pass --weights", encoder)
	}
	p := filepath.Join(dataDir, "weights", dir)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("weights for %s: %w", encoder, err)
	}
	return p, nil
}
