package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/internal/atomicfile"
)

type weightsOptions struct {
	explicit string // --weights
	all      bool   // fetch --all
	encoder  string // convert --encoder
	out      string // convert --out
	download bool   // convert --download
	dtype    string // convert --dtype
}

var weightsFlags weightsOptions

var weightsCmd = &cobra.Command{
	Use:   "weights",
	Short: "List, fetch, verify and convert the pretrained encoder weights",
	Long: `Pretrained encoder weights are third-party files: posprobe never ships them,
it knows them. Its built-in manifest (weights/encoders.json) lists for every
encoder the files it needs with their size and sha256, where they come from
and under which licence.

Every command that needs weights finds them in this order:
  1. --weights PATH         a file or folder you name (a folder laid out like
                            the ones below is fine too)
  2. $POSPROBE_DATA/weights/<encoder>/   (or --data DIR): a local data folder
  3. the user cache         $POSPROBE_CACHE/<encoder>/, default
                            ` + cacheHint() + `
  4. a download into the cache, only when asked: 'posprobe weights fetch', or
     POSPROBE_DOWNLOAD=1 for the other commands. Each file is written to a
     temporary file, checked against the manifest (size and sha256) and only
     then renamed into place; a failed download leaves nothing behind.

With a data folder (or a filled cache) nothing touches the network.`,
	Example: `  posprobe weights list                     # what is where
  posprobe weights fetch squeezenet1.1      # 5 MB from the WebNN test-data repository
  posprobe weights verify                   # hash every copy found
  posprobe weights convert --encoder darknet-tiny --out darknet-tiny.safetensors`,
}

var weightsListCmd = &cobra.Command{
	Use:   "list [ENCODER...]",
	Short: "Show every known encoder, where its weights are, their size and licence",
	Long: `list shows, for each encoder of the manifest, where its weights were found
(flag, data, cache, or missing), how many of the manifest's files are there
(checked by size; 'verify' hashes them), the download size and the licence.
It never downloads.`,
	RunE: func(cmd *cobra.Command, args []string) error {
		m, entries, err := pickEntries(args)
		if err != nil {
			return err
		}
		tw := newTable(cmd.OutOrStdout(), false)
		fmt.Fprintln(tw, "ENCODER\tWHERE\tFILES\tSIZE\tLICENCE\tPATH")
		for _, e := range entries {
			f, _ := weights.Resolve(cmd.Context(), e.Name, resolveOptions(m, args))
			files := "-"
			if f.Root != "" {
				have, _ := weights.Present(f.Root, e)
				files = fmt.Sprintf("%d/%d", have, len(e.Files))
			}
			path := f.Path
			if f.Where == weights.WhereMissing {
				path = "posprobe weights fetch " + e.Name
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, f.Where, files, entrySize(e), shortLicence(e.Licence), path)
		}
		return tw.Flush()
	},
}

var weightsFetchCmd = &cobra.Command{
	Use:   "fetch ENCODER... | --all",
	Short: "Download encoder weights into the user cache, verified against the manifest",
	Long: `fetch downloads an encoder's files from the URLs in the manifest (mirrors are
tried in order) into the user cache, ` + cacheHint() + `
(override with POSPROBE_CACHE). Each file is written to a temporary file, its
size and sha256 checked, and only then renamed into place: a failed, corrupt or
interrupted (Ctrl-C) download leaves nothing behind, and running fetch again
continues with the files still missing. Files already in the cache are hashed
and kept when they match. Encoders found in --weights or the data folder are
not downloaded.`,
	Example: `  posprobe weights fetch squeezenet1.1 darknet-tiny
  POSPROBE_CACHE=/big/disk posprobe weights fetch vgg16
  posprobe weights fetch --all`,
	RunE: func(cmd *cobra.Command, args []string) error {
		if weightsFlags.all == (len(args) > 0) {
			return errors.New("name the encoders to fetch, or pass --all (see 'posprobe weights list')")
		}
		m, entries, err := pickEntries(args)
		if err != nil {
			return err
		}
		cacheRoot, err := weights.CacheDir()
		if err != nil {
			return err
		}
		ctx, stop := interruptible(cmd.Context())
		defer stop()
		out := cmd.OutOrStdout()
		for _, e := range entries {
			opts := resolveOptions(m, args)
			opts.CacheDir = cacheRoot
			// The committed float16 copy does not stand in for the original files.
			if f, err := weights.Resolve(ctx, e.Name, opts); err == nil && f.Where != weights.WhereCache && f.Where != weights.WhereBuiltin {
				fmt.Fprintf(out, "%s: in the %s folder %s; nothing to download\n", e.Name, f.Where, f.Root)
				continue
			}
			dir := weights.EntryDir(opts.CacheDir, e)
			start := time.Now()
			bar := newFetchBar(e, cmd.ErrOrStderr())
			err := (&weights.Downloader{Progress: bar.progress}).Fetch(ctx, e, dir)
			bar.finish()
			if err != nil {
				return err
			}
			_, n := weights.Present(dir, e)
			fmt.Fprintf(out, "%s: %d files, %s, verified, in %s (%.1fs)\n", e.Name, len(e.Files), weights.HumanBytes(n), dir, time.Since(start).Seconds())
		}
		return nil
	},
}

var weightsVerifyCmd = &cobra.Command{
	Use:   "verify [ENCODER...]",
	Short: "Hash the weight files found (flag, data folder, cache) and compare with the manifest",
	Long: `verify reads every file of every copy it finds (the --weights path, the data
folder and the cache, each when present) and compares size and sha256 with
the manifest. For torchvision checkpoints the manifest knows the first 8 hex
digits of the sha256 (they are in the file name); those are compared. It exits
non-zero when a file is missing from a copy or differs. Encoders with no copy
anywhere are reported and skipped.`,
	RunE: func(cmd *cobra.Command, args []string) error {
		m, entries, err := pickEntries(args)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		bad := 0
		for _, e := range entries {
			copies := copiesOf(m, e, args)
			if len(copies) == 0 {
				fmt.Fprintf(out, "%s: no copy (posprobe weights fetch %s)\n", e.Name, e.Name)
				continue
			}
			for _, c := range copies {
				checks := c.checks()
				nbad := 0
				for _, k := range checks {
					if k.Err != nil {
						nbad++
						fmt.Fprintf(out, "  %s\n", k.Err)
					}
				}
				if nbad == 0 {
					fmt.Fprintf(out, "%s (%s): %d files ok in %s\n", e.Name, c.where, len(checks), c.path)
				} else {
					fmt.Fprintf(out, "%s (%s): %d of %d files missing or different in %s\n", e.Name, c.where, nbad, len(checks), c.path)
					bad++
				}
			}
		}
		if bad > 0 {
			return fmt.Errorf("verify: %d copies do not match the manifest", bad)
		}
		return nil
	},
}

var weightsConvertCmd = &cobra.Command{
	Use:   "convert --encoder NAME --out FILE.safetensors",
	Short: "Write an encoder's weights as one safetensors file (what the web demo fetches)",
	Long: `convert loads an encoder's weights in their own format (.npy folder, TF.js
model, torchvision checkpoint), found in the usual order (--weights, data
folder, cache; --download or POSPROBE_DOWNLOAD=1 allows a download), and writes
them as a single safetensors file: one request for the browser instead of
dozens. Tensor names and shapes stay those of the source, as float32 (or
float16 with --dtype f16, rounded to nearest even: half the bytes). The file
is written through a temporary file and read back and compared before it is
renamed into place.`,
	Example: `  posprobe weights convert --encoder squeezenet1.1 --out site/dist/squeezenet1.1.safetensors
  posprobe weights convert --encoder resnet18 --weights ~/Downloads/resnet18-f37072fd.pth --out r18.safetensors`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		if weightsFlags.encoder == "" || weightsFlags.out == "" {
			return errors.New("convert needs --encoder NAME and --out FILE.safetensors")
		}
		m, err := weightsManifest()
		if err != nil {
			return err
		}
		ctx, stop := interruptible(cmd.Context())
		defer stop()
		opts := resolveOptions(m, []string{weightsFlags.encoder})
		opts.Download = weightsFlags.download || weights.DownloadAllowed()
		if e, err := m.Lookup(weightsFlags.encoder); err == nil && opts.Download {
			bar := newFetchBar(e, cmd.ErrOrStderr())
			defer bar.finish()
			opts.Downloader = &weights.Downloader{Progress: bar.progress}
		}
		f, err := weights.Resolve(ctx, weightsFlags.encoder, opts)
		if err != nil {
			return err
		}
		n, count, err := convertToSafetensors(f.Path, weightsFlags.out, strings.ToUpper(weightsFlags.dtype))
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %d tensors from %s (%s), %s\n", weightsFlags.out, count, f.Path, f.Where, weights.HumanBytes(n))
		return nil
	},
}

func init() {
	weightsCmd.PersistentFlags().StringVar(&weightsFlags.explicit, "weights", "", "weight file or folder for the one encoder named (step 1 of the order)")
	weightsFetchCmd.Flags().BoolVar(&weightsFlags.all, "all", false, "fetch every encoder of the manifest (about 1 GB)")
	weightsConvertCmd.Flags().StringVar(&weightsFlags.encoder, "encoder", "", "encoder name (see 'posprobe weights list')")
	weightsConvertCmd.Flags().StringVar(&weightsFlags.out, "out", "", "safetensors file to write")
	weightsConvertCmd.Flags().StringVar(&weightsFlags.dtype, "dtype", "f32", "stored value type: f32, or f16 (half the size)")
	weightsConvertCmd.Flags().BoolVar(&weightsFlags.download, "download", false, "download the weights into the cache if no copy is found")
	weightsCmd.AddCommand(weightsListCmd, weightsFetchCmd, weightsVerifyCmd, weightsConvertCmd)
	rootCmd.AddCommand(weightsCmd)
}

// weightsManifest is the manifest the commands use (tests replace it).
var weightsManifest = weights.DefaultManifest

// cacheHint says where the default cache is on this machine.
func cacheHint() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "posprobe")
	}
	return "<user cache folder>/posprobe"
}

// pickEntries returns the manifest entries named (all when none), in
// manifest order for "all" and argument order otherwise.
func pickEntries(names []string) (*weights.Manifest, []*weights.Entry, error) {
	m, err := weightsManifest()
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		if weightsFlags.explicit != "" {
			return nil, nil, errors.New("--weights applies to one encoder: name it")
		}
		return m, m.Encoders, nil
	}
	if weightsFlags.explicit != "" && len(names) != 1 {
		return nil, nil, errors.New("--weights applies to one encoder, not several")
	}
	var out []*weights.Entry
	for _, n := range names {
		e, err := m.Lookup(n)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, e)
	}
	return m, out, nil
}

// resolveOptions is the resolution order from the flags and environment,
// downloads off. --weights applies when exactly one encoder is named.
func resolveOptions(m *weights.Manifest, names []string) weights.Options {
	o := weights.Options{DataDir: dataDir(), Manifest: m}
	if len(names) == 1 {
		o.Explicit = weightsFlags.explicit
	}
	if d, err := weights.CacheDir(); err == nil {
		o.CacheDir = d
	}
	return o
}

type weightCopy struct {
	where  weights.Where
	path   string
	checks func() []weights.FileCheck
}

// copiesOf lists every copy of e that exists: --weights, data folder, cache.
func copiesOf(m *weights.Manifest, e *weights.Entry, names []string) []weightCopy {
	var out []weightCopy
	o := resolveOptions(m, names)
	if o.Explicit != "" {
		if st, err := os.Stat(o.Explicit); err == nil && !st.IsDir() && len(e.Files) == 1 {
			p, f := o.Explicit, e.Files[0]
			out = append(out, weightCopy{weights.WhereFlag, p, func() []weights.FileCheck {
				return []weights.FileCheck{{File: f, Path: p, Err: weights.CheckFile(p, f)}}
			}})
		} else if err == nil {
			out = append(out, folderCopy(weights.WhereFlag, o.Explicit, e))
		}
	}
	if o.DataDir != "" {
		if root := filepath.Join(o.DataDir, "weights", e.Dir); isDir(root) {
			out = append(out, folderCopy(weights.WhereData, root, e))
		}
	}
	if o.CacheDir != "" {
		if root := weights.EntryDir(o.CacheDir, e); isDir(root) {
			out = append(out, folderCopy(weights.WhereCache, root, e))
		}
	}
	return out
}

func folderCopy(w weights.Where, root string, e *weights.Entry) weightCopy {
	return weightCopy{w, root, func() []weights.FileCheck { return weights.Verify(root, e) }}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// entrySize is the download size, "?" when the manifest does not know it.
func entrySize(e *weights.Entry) string {
	n, known := e.TotalSize()
	if !known {
		return "?"
	}
	return weights.HumanBytes(n)
}

// shortLicence is the licence's identifier, without the explanation.
func shortLicence(l string) string {
	if i := strings.IndexAny(l, " (;"); i > 0 {
		return l[:i]
	}
	return l
}

// fetchBar shows one bar per encoder over all of its files.
type fetchBar struct {
	bar     *progressbar.ProgressBar
	done    map[string]int64 // bytes so far per file
	learned map[string]int64 // sizes the manifest lacks, from the server
	unknown bool             // the manifest lacks some size
}

// newFetchBar draws on w when it is a terminal (a bar is noise in logs).
func newFetchBar(e *weights.Entry, w io.Writer) *fetchBar {
	visible := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			visible = true
		}
	}
	return newFetchBarVisible(e, w, visible)
}

func newFetchBarVisible(e *weights.Entry, w io.Writer, visible bool) *fetchBar {
	total, known := e.TotalSize()
	if !known {
		total = -1
	}
	return &fetchBar{
		bar: progressbar.NewOptions64(total,
			progressbar.OptionSetDescription(e.Name),
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetVisibility(visible),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish()),
		done:    map[string]int64{},
		learned: map[string]int64{},
		unknown: !known,
	}
}

func (b *fetchBar) progress(file string, done, size int64) {
	if _, ok := b.learned[file]; b.unknown && size > 0 && !ok {
		// Sizes the manifest lacks come from the server (torchvision checkpoints).
		b.learned[file] = size
		var total int64
		for _, n := range b.learned {
			total += n
		}
		b.bar.ChangeMax64(total)
	}
	b.done[file] = done
	var sum int64
	for _, n := range b.done {
		sum += n
	}
	b.bar.Set64(sum)
}

func (b *fetchBar) finish() { b.bar.Finish() }

// convertToSafetensors loads the weights at src in their own format and
// writes them to dst as one safetensors file, read back and compared before
// the rename. It returns the file size and the number of tensors.
func convertToSafetensors(src, dst, dtype string) (int64, int, error) {
	if dtype == "" {
		dtype = "F32"
	}
	if dtype != "F32" && dtype != "F16" {
		return 0, 0, fmt.Errorf("--dtype %q: want f32 or f16", strings.ToLower(dtype))
	}
	set, err := weights.Load(src)
	if err != nil {
		return 0, 0, err
	}
	if dtype == "F16" {
		weights.RoundF16(set) // what the file reads back as, compared below
	}
	tmp, err := atomicfile.Create(dst, 0o644)
	if err != nil {
		return 0, 0, err
	}
	defer tmp.Abort() // no-op after the commit
	if err := weights.WriteSafetensorsAs(tmp, set, dtype); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", dst, err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", dst, err)
	}
	data, err := os.ReadFile(tmp.Name())
	if err != nil {
		return 0, 0, err
	}
	back, err := weights.ParseSafetensors(data, dst)
	if err != nil {
		return 0, 0, fmt.Errorf("reading back: %w", err)
	}
	if err := sameTensors(set, back); err != nil {
		return 0, 0, fmt.Errorf("%s: read back differs from %s: %w", dst, src, err)
	}
	if err := tmp.Commit(); err != nil {
		return 0, 0, err
	}
	return int64(len(data)), len(set.Tensors), nil
}

// sameTensors reports the first tensor whose name, shape or bits differ.
func sameTensors(a, b *weights.Set) error {
	if !slices.Equal(a.Names(), b.Names()) {
		return fmt.Errorf("tensor names differ (%d vs %d tensors)", len(a.Tensors), len(b.Tensors))
	}
	for name, t := range a.Tensors {
		u := b.Tensors[name]
		td, ud := weights.Values(t), weights.Values(u)
		if !slices.Equal(t.Shape(), u.Shape()) {
			return fmt.Errorf("tensor %q: shape %v vs %v", name, []int(t.Shape()), []int(u.Shape()))
		}
		if len(td) != len(ud) {
			return fmt.Errorf("tensor %q: %d vs %d values", name, len(td), len(ud))
		}
		for i, v := range td {
			if math.Float32bits(v) != math.Float32bits(ud[i]) {
				return fmt.Errorf("tensor %q: value %d is %g, read back %g", name, i, v, ud[i])
			}
		}
	}
	return nil
}
