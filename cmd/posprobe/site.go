package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/sitemodel"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/internal/atomicfile"
	manifestdata "github.com/posprobe/posprobe/weights"
)

// siteOptions are the inputs of buildSite.
type siteOptions struct {
	src      string // page sources (index.html, app.html, style.css, worker.js, photo/)
	out      string // the static folder written
	readouts string // trained readout files
	modules  string // folder holding app.wasm and worker.wasm
	goroot   string // Go installation whose lib/wasm/wasm_exec.js matches the modules
	data     string // data folder, for encoders without a committed weight file
	brotli   int    // brotli quality of the .br copies (0-11)
}

var siteFlags siteOptions

// siteEncoders are the pretrained encoders the demo fetches, one safetensors
// file each.
var siteEncoders = []string{"squeezenet1.1"}

// siteManifest is site.json, read by the app and the page. All paths are
// relative to the site root.
type siteManifest struct {
	Photo    string              `json:"photo"`
	Encoders map[string]string   `json:"encoders"`
	Readouts []string            `json:"readouts"`
	Files    map[string]siteFile `json:"files"`
	Note     string              `json:"note,omitempty"`
	Models   []sitemodel.Model   `json:"models,omitempty"` // site --model (site_model.go)
}

// siteFile is one content-hashed file: its path, raw size and the sizes of
// its precompressed copies (path + ".gz", ".br"; 0 when none was written).
type siteFile struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	GZ    int64  `json:"gz"`
	BR    int64  `json:"br"`
}

var siteCmd = &cobra.Command{
	Use:   "site",
	Short: "Assemble the static demo site (page, modules, wasm_exec.js, photo, readouts, encoder weights)",
	Long: `site assembles the static folder the demo is served from: the page sources
(site/*), app.wasm and worker.wasm from --modules, wasm_exec.js from the Go
installation that built them, the readouts from weights/readouts, and each
pretrained encoder's weights: the copy committed under weights/ (SqueezeNet
1.1, float16), else converted from the data folder. The modules are built by
  GOOS=js GOARCH=wasm go build -o build/wasm/app.wasm ./wasm
  GOOS=js GOARCH=wasm go build -o build/wasm/worker.wasm ./wasm/worker
(make site does both). The modules, wasm_exec.js and the weights get
content-hashed names (app.<10 hex of sha256>.wasm), recorded in site.json, so
a redeploy never mixes an old app with a new worker. Every compressible file
of 1 kB or more gets precompressed .gz and .br copies beside it, which
'posprobe serve' (and most static hosts) send when the browser accepts them.
Every URL is relative: any static file server can serve the folder.`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		o := siteFlags
		o.data = dataDir()
		return buildSite(cmd.OutOrStdout(), o)
	},
}

func init() {
	f := siteCmd.Flags()
	f.StringVar(&siteFlags.out, "out", "site/dist", "output folder")
	f.StringVar(&siteFlags.src, "src", "site", "page sources (index.html, app.html, style.css, worker.js, photo/)")
	f.StringVar(&siteFlags.readouts, "readouts", "weights/readouts", "trained readout files")
	f.StringVar(&siteFlags.modules, "modules", "build/wasm", "folder with app.wasm and worker.wasm (GOOS=js GOARCH=wasm builds of ./wasm and ./wasm/worker)")
	f.IntVar(&siteFlags.brotli, "brotli", 11, "brotli quality of the .br copies, 0-11 (11: smallest, about a minute for the modules)")
	f.StringVar(&siteFlags.goroot, "goroot", "", "Go installation whose lib/wasm/wasm_exec.js matches the modules (default: go env GOROOT)")
	rootCmd.AddCommand(siteCmd)
}

func buildSite(log io.Writer, o siteOptions) error {
	if o.brotli < 0 || o.brotli > 11 {
		return fmt.Errorf("--brotli %d: want a quality from 0 to 11", o.brotli)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := removeHashed(o.out); err != nil { // first: a source may look hashed
		return err
	}
	if err := copySources(o.src, o.out); err != nil {
		return fmt.Errorf("site sources: %w", err)
	}
	man := siteManifest{Photo: "photo/coffee.jpg", Encoders: map[string]string{}, Readouts: []string{}, Files: map[string]siteFile{}}
	if _, err := os.Stat(filepath.Join(o.out, filepath.FromSlash(man.Photo))); err != nil {
		return fmt.Errorf("default photo: %w", err)
	}

	// The modules and the matching wasm_exec.js, under content-hashed names.
	for _, m := range []struct{ file, pkg string }{{"app.wasm", "./wasm"}, {"worker.wasm", "./wasm/worker"}} {
		b, err := os.ReadFile(filepath.Join(o.modules, m.file))
		if err != nil {
			return fmt.Errorf("%s: build it first with GOOS=js GOARCH=wasm go build -o %s %s (or make site)",
				filepath.Join(o.modules, m.file), filepath.Join(o.modules, m.file), m.pkg)
		}
		if man.Files[m.file], err = writeHashed(o.out, m.file, b); err != nil {
			return err
		}
	}
	goroot := o.goroot
	if goroot == "" {
		goroot = goEnvGOROOT()
	}
	exec, err := os.ReadFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("wasm_exec.js (pass --goroot): %w", err)
	}
	if man.Files["wasm_exec.js"], err = writeHashed(o.out, "wasm_exec.js", exec); err != nil {
		return err
	}
	// A plain copy too, for a page that loads it before reading site.json.
	if err := writeFileAtomic(filepath.Join(o.out, "wasm_exec.js"), exec); err != nil {
		return err
	}

	var missing []string
	if man.Readouts, err = copyReadouts(o.readouts, o.out); err != nil {
		return err
	}
	if len(man.Readouts) == 0 {
		missing = append(missing, "no trained readouts (weights/readouts is empty)")
	}
	for _, name := range siteEncoders {
		b, err := encoderSafetensors(name, o.data)
		if err != nil {
			missing = append(missing, fmt.Sprintf("no pretrained %s weights (%v): only the random-init and no-encoder models work", name, err))
			continue
		}
		f, err := writeHashed(o.out, "weights/"+name+".safetensors", b)
		if err != nil {
			return err
		}
		man.Encoders[name] = f.Path
		man.Files["weights/"+name+".safetensors"] = f
	}
	if err := addSiteModel(log, o.out, o.readouts, &man); err != nil {
		return err
	}
	if len(missing) > 0 {
		man.Note = "This build has " + strings.Join(missing, "; ") + "."
	}

	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(o.out, "site.json"), append(b, '\n')); err != nil {
		return err
	}
	sizes, err := precompress(o.out, o.brotli)
	if err != nil {
		return err
	}
	for k, f := range man.Files { // the sizes of the compressed copies
		s := sizes[f.Path]
		f.GZ, f.BR = s.GZ, s.BR
		man.Files[k] = f
	}
	b, _ = json.MarshalIndent(man, "", "  ")
	if err := writeFileAtomic(filepath.Join(o.out, "site.json"), append(b, '\n')); err != nil {
		return err
	}
	if _, err := precompressFile(filepath.Join(o.out, "site.json"), o.brotli); err != nil {
		return err
	}
	printSiteSizes(log, o.out, man, sizes)
	if man.Note != "" {
		fmt.Fprintln(log, "note:", man.Note)
	}
	return nil
}

// copySources copies the page sources into out, without out itself when it
// lives inside them.
func copySources(src, out string) error {
	absOut, _ := filepath.Abs(out)
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
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
}

// copyReadouts copies the readout files into out/readouts and returns their
// site paths, sorted.
func copyReadouts(dir, out string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("readouts: %w", err)
	}
	list := []string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), readout.Ext) {
			continue // README.md and the like stay home
		}
		if err := copyFile(filepath.Join(dir, e.Name()), filepath.Join(out, "readouts", e.Name())); err != nil {
			return nil, err
		}
		list = append(list, "readouts/"+e.Name())
	}
	sort.Strings(list)
	return list, nil
}

// encoderSafetensors returns an encoder's weights for the site as one
// safetensors file, without the classifier tensors no tap depends on
// (encoder.HeadTensors; the worker puts zeros there): from the committed
// float16 copy when there is one (values unchanged), else converted from the
// data folder as float32.
func encoderSafetensors(name, data string) ([]byte, error) {
	var set *weights.Set
	dtype := "F32"
	for _, b := range manifestdata.Builtins {
		if d := manifestdata.BuiltinData(b); b.Encoder == name && d != nil {
			s, err := weights.ParseSafetensors(d, "weights/"+b.Path)
			if err != nil {
				return nil, err
			}
			set, dtype = s, "F16"
		}
	}
	if set == nil {
		if data == "" {
			return nil, fmt.Errorf("built without POSPROBE_DATA")
		}
		p, err := weights.Locate(name, "", data)
		if err != nil {
			return nil, err
		}
		if set, err = weights.Load(p); err != nil {
			return nil, err
		}
	}
	for t := range encoder.HeadTensors[name] {
		delete(set.Tensors, t)
	}
	var buf bytes.Buffer
	if err := weights.WriteSafetensorsAs(&buf, set, dtype); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// hashedName inserts the first 10 hex digits of b's sha256 before the
// extension: weights/x.safetensors -> weights/x.0123456789.safetensors.
func hashedName(name string, b []byte) string {
	sum := sha256.Sum256(b)
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:])[:10] + ext
}

// writeHashed writes b into out under its content-hashed name.
func writeHashed(out, name string, b []byte) (siteFile, error) {
	rel := hashedName(name, b)
	if err := writeFileAtomic(filepath.Join(out, filepath.FromSlash(rel)), b); err != nil {
		return siteFile{}, err
	}
	return siteFile{Path: rel, Bytes: int64(len(b))}, nil
}

// isHashed reports whether a file name carries a content hash (hashedName's
// form, possibly with .gz or .br), or is a module of the unhashed layout: the
// files a new build replaces.
func isHashed(name string) bool {
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".br")
	if name == "app.wasm" || name == "worker.wasm" {
		return true
	}
	parts := strings.Split(name, ".")
	if len(parts) < 3 {
		return false
	}
	h := parts[len(parts)-2]
	return len(h) == 10 && strings.Trim(h, "0123456789abcdef") == ""
}

// removeHashed deletes the hashed files of an earlier build in out and in
// out/weights, so the folder holds one build only.
func removeHashed(out string) error {
	for _, dir := range []string{out, filepath.Join(out, "weights")} {
		entries, err := os.ReadDir(dir)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && isHashed(e.Name()) {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func goEnvGOROOT() string {
	if b, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s
		}
	}
	return "" // no go on PATH: the read below fails and asks for --goroot
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
