//go:build !js

package main

import (
	"github.com/posprobe/posprobe/wasm/demo"

	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

var (
	siteFlag  = flag.String("site", "site/dist", "built site folder (posprobe site) to read weights and readouts from")
	photoFlag = flag.String("photo", "", "photo to open instead of the default one")
	modelFlag = flag.String("model", "", "model to start with: sq-zero, sq-none, pixels, sq-random")
	dataFlag  = flag.String("data", "", "data folder with encoder weights (default $POSPROBE_DATA)")
	logFlag   = flag.Bool("log", true, "log crop and prediction events on stdout (the desktop smoke test reads them)")
)

// dirSource reads site files from the built site folder, falling back to the
// sources in the repository (site/photo, weights/readouts) so the desktop
// app runs without `make site`.
type dirSource struct{ dirs []string }

func newSource() (demo.Source, error) {
	return dirSource{dirs: []string{*siteFlag, "site", "weights"}}, nil
}

func queryParam(name string) string {
	switch name {
	case "model":
		return *modelFlag
	case "photo":
		return *photoFlag
	}
	return ""
}

func (s dirSource) Read(path string, progress func(done, total int64)) ([]byte, error) {
	if path == "" || strings.Contains(path, "..") {
		return nil, fmt.Errorf("%s: bad path", path)
	}
	var first error
	for _, d := range s.dirs {
		b, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(path)))
		if err == nil {
			if progress != nil {
				progress(int64(len(b)), int64(len(b)))
			}
			return b, nil
		}
		if first == nil || !errors.Is(err, fs.ErrNotExist) {
			first = err
		}
	}
	return nil, first
}

func dataDir() string {
	if *dataFlag != "" {
		return *dataFlag
	}
	return os.Getenv("POSPROBE_DATA")
}
