package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/sitemodel"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/internal/atomicfile"
)

var siteFlags struct {
	out, src, readouts, goroot string
}

// siteEncoders are the pretrained encoders the demo fetches, converted to one
// safetensors file each.
var siteEncoders = []string{"squeezenet1.1"}

// siteManifest is site.json, read by the app and the page.
type siteManifest struct {
	Photo    string            `json:"photo"`
	Encoders map[string]string `json:"encoders"`
	Readouts []string          `json:"readouts"`
	Note     string            `json:"note,omitempty"`
	Models   []sitemodel.Model `json:"models,omitempty"` // site --model (site_model.go)
}

var siteCmd = &cobra.Command{
	Use:   "site",
	Short: "Assemble the static demo site (page, wasm_exec.js, photo, readouts, encoder weights)",
	Long: `site assembles the static folder the demo is served from: the page sources
(site/*), wasm_exec.js from the Go installation that builds app.wasm, the
readouts from weights/readouts, and each pretrained encoder's weights from the
data folder converted to one safetensors file. app.wasm itself is built by
  GOOS=js GOARCH=wasm go build -o site/dist/app.wasm ./wasm
  GOOS=js GOARCH=wasm go build -o site/dist/worker.wasm ./wasm/worker
(make site does both). Without a data folder only the random-init encoder
(generated in the browser from its seed) and the encoder-free readout work;
site.json says so and the page shows it.`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		return buildSite(cmd.OutOrStdout(), siteFlags.src, siteFlags.out, siteFlags.readouts, siteFlags.goroot, dataDir())
	},
}

func init() {
	siteCmd.Flags().StringVar(&siteFlags.out, "out", "site/dist", "output folder")
	siteCmd.Flags().StringVar(&siteFlags.src, "src", "site", "page sources (index.html, app.html, style.css, photo/)")
	siteCmd.Flags().StringVar(&siteFlags.readouts, "readouts", "weights/readouts", "trained readout files")
	siteCmd.Flags().StringVar(&siteFlags.goroot, "goroot", "", "Go installation whose lib/wasm/wasm_exec.js matches app.wasm (default: go env GOROOT)")
	rootCmd.AddCommand(siteCmd)
}

func buildSite(log io.Writer, src, out, readouts, goroot, data string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	absOut, _ := filepath.Abs(out)
	// Page sources, without the output folder when it lives inside them.
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if abs, _ := filepath.Abs(p); abs == absOut {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(out, rel), 0o755)
		}
		return copyFile(p, filepath.Join(out, rel))
	})
	if err != nil {
		return fmt.Errorf("site sources: %w", err)
	}

	if goroot == "" {
		goroot = goEnvGOROOT()
	}
	wasmExec := filepath.Join(goroot, "lib", "wasm", "wasm_exec.js")
	if err := copyFile(wasmExec, filepath.Join(out, "wasm_exec.js")); err != nil {
		return fmt.Errorf("wasm_exec.js (pass --goroot): %w", err)
	}

	man := siteManifest{Photo: "photo/coffee.png", Encoders: map[string]string{}, Readouts: []string{}}
	if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(man.Photo))); err != nil {
		return fmt.Errorf("default photo: %w", err)
	}
	var missing []string

	entries, err := os.ReadDir(readouts)
	switch {
	case err == nil:
		if err := os.MkdirAll(filepath.Join(out, "readouts"), 0o755); err != nil {
			return err
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), readout.Ext) {
				continue // README.md and the like stay home
			}
			if err := copyFile(filepath.Join(readouts, e.Name()), filepath.Join(out, "readouts", e.Name())); err != nil {
				return err
			}
			man.Readouts = append(man.Readouts, "readouts/"+e.Name())
		}
	case os.IsNotExist(err):
	default:
		return fmt.Errorf("readouts: %w", err)
	}
	if len(man.Readouts) == 0 {
		missing = append(missing, "no trained readouts (weights/readouts is empty)")
	}
	sort.Strings(man.Readouts)

	if data == "" {
		missing = append(missing, "no pretrained encoder weights (built without POSPROBE_DATA): only the random-init and no-encoder models work")
	} else {
		if err := os.MkdirAll(filepath.Join(out, "weights"), 0o755); err != nil {
			return err
		}
		for _, name := range siteEncoders {
			rel := "weights/" + name + ".safetensors"
			n, err := writeEncoderSafetensors(name, data, filepath.Join(out, filepath.FromSlash(rel)))
			if err != nil {
				return err
			}
			man.Encoders[name] = rel
			fmt.Fprintf(log, "%s: %s (%s)\n", name, rel, weights.HumanBytes(n))
		}
	}
	if err := addSiteModel(log, out, readouts, &man); err != nil {
		return err
	}
	if len(missing) > 0 {
		man.Note = "This build has " + strings.Join(missing, "; ") + "."
	}

	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(out, "site.json"), append(b, '\n')); err != nil {
		return err
	}
	for _, w := range []struct{ file, pkg string }{{"app.wasm", "./wasm"}, {"worker.wasm", "./wasm/worker"}} {
		if _, err := os.Stat(filepath.Join(out, w.file)); err != nil {
			fmt.Fprintf(log, "warning: %s/%s is missing; build it with GOOS=js GOARCH=wasm go build -o %s/%s %s\n", out, w.file, out, w.file, w.pkg)
		}
	}
	fmt.Fprintf(log, "site assembled in %s: %d readouts, %d encoders\n", out, len(man.Readouts), len(man.Encoders))
	if man.Note != "" {
		fmt.Fprintln(log, "note:", man.Note)
	}
	return nil
}

// writeEncoderSafetensors converts an encoder's weights from the data folder
// into one safetensors file and returns its size.
func writeEncoderSafetensors(name, data, dst string) (int64, error) {
	p, err := weights.Locate(name, "", data)
	if err != nil {
		return 0, err
	}
	set, err := weights.Load(p)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	if err := weights.WriteSafetensors(&buf, set); err != nil {
		return 0, fmt.Errorf("%s: %w", dst, err)
	}
	return int64(buf.Len()), writeFileAtomic(dst, buf.Bytes())
}

func goEnvGOROOT() string {
	if b, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s
		}
	}
	return runtime.GOROOT()
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writeFileAtomic(dst, b)
}

// writeFileAtomic writes through a temporary file so an interrupted build
// leaves no half-written file.
func writeFileAtomic(dst string, b []byte) error {
	return atomicfile.WriteFile(dst, b, 0o644)
}
