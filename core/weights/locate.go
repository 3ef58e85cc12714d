package weights

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	manifestdata "github.com/posprobe/posprobe/weights"
)

// DownloadEnv, set to 1, lets Locate download missing weights. Downloads are
// otherwise explicit (`posprobe weights fetch`, Options.Download), so tests
// and CI never touch the network by accident.
const DownloadEnv = "POSPROBE_DOWNLOAD"

// DownloadAllowed reports whether POSPROBE_DOWNLOAD=1.
func DownloadAllowed() bool { return os.Getenv(DownloadEnv) == "1" }

// Where says which step of the resolution order found an encoder's weights.
type Where string

const (
	WhereFlag     Where = "flag"     // the explicit path (--weights)
	WhereData     Where = "data"     // POSPROBE_DATA/weights/<dir>
	WhereCache    Where = "cache"    // the user cache, complete
	WhereBuiltin  Where = "builtin"  // the copy committed under weights/ (BuiltinPrefix + its path)
	WhereDownload Where = "download" // the user cache, just downloaded
	WhereMissing  Where = "missing"
)

// Options steer Resolve. The zero value looks in the default cache and never
// downloads.
type Options struct {
	Explicit   string      // explicit weight file or folder; used as given
	DataDir    string      // the data folder (POSPROBE_DATA); "" skips that step
	CacheDir   string      // cache root; "" = CacheDir()
	Download   bool        // allow the download step
	Downloader *Downloader // nil: a silent Downloader on http.DefaultClient
	Manifest   *Manifest   // nil: DefaultManifest()
}

// Found is where an encoder's weights are.
type Found struct {
	Path  string // what the format's loader takes (folder of .npy, model.json, .pth)
	Root  string // the encoder's folder holding the manifest's files ("" for an explicit file)
	Where Where
}

// Locate finds the weight file or folder of a known encoder, with downloads
// allowed only by POSPROBE_DOWNLOAD=1. See Resolve for the order.
func Locate(encoder, explicit, dataDir string) (string, error) {
	f, err := Resolve(context.Background(), encoder, Options{
		Explicit: explicit, DataDir: dataDir, Download: DownloadAllowed(),
	})
	return f.Path, err
}

// Resolve finds an encoder's weights, the same way for the CLI, the tables and
// the server: the explicit path, then dataDir/weights/<dir>, then the user
// cache (<CacheDir>/<encoder>/, complete with the manifest's sizes), then the
// copy committed under weights/ (SqueezeNet 1.1, float16; not in js/wasm
// builds), then, if o.Download, a verified download into the cache. An explicit folder that
// holds the manifest's layout resolves to its load path inside it. The error
// says where it looked and how to get the weights.
func Resolve(ctx context.Context, encoder string, o Options) (Found, error) {
	m := o.Manifest
	if m == nil {
		var err error
		if m, err = DefaultManifest(); err != nil {
			return Found{Where: WhereMissing}, err
		}
	}
	e, lookupErr := m.Lookup(encoder)
	if o.Explicit != "" {
		st, err := os.Stat(o.Explicit)
		if err != nil {
			return Found{Where: WhereMissing}, fmt.Errorf("weights for %s: %w", encoder, err)
		}
		if st.IsDir() && e != nil {
			if p := filepath.Join(o.Explicit, filepath.FromSlash(e.Load)); exists(p) {
				return Found{Path: p, Root: o.Explicit, Where: WhereFlag}, nil
			}
		}
		return Found{Path: o.Explicit, Where: WhereFlag}, nil
	}
	if lookupErr != nil {
		return Found{Where: WhereMissing}, fmt.Errorf("weights for %s: %w; pass --weights", encoder, lookupErr)
	}

	var looked []string
	if o.DataDir != "" {
		root := filepath.Join(o.DataDir, "weights", e.Dir)
		if p := filepath.Join(root, filepath.FromSlash(e.Load)); exists(p) {
			return Found{Path: p, Root: root, Where: WhereData}, nil
		}
		looked = append(looked, fmt.Sprintf("not in %s", root))
	} else {
		looked = append(looked, "no data folder (--data or POSPROBE_DATA)")
	}

	cacheRoot, err := o.CacheDir, error(nil)
	if cacheRoot == "" {
		cacheRoot, err = CacheDir()
	}
	if err != nil {
		looked = append(looked, err.Error())
	} else {
		root := EntryDir(cacheRoot, e)
		found := Found{Path: filepath.Join(root, filepath.FromSlash(e.Load)), Root: root, Where: WhereCache}
		have, _ := Present(root, e)
		if have == len(e.Files) {
			return found, nil
		}
		if p, ok := builtinPath(e.Name); ok {
			return Found{Path: p, Where: WhereBuiltin}, nil
		}
		if o.Download {
			d := o.Downloader
			if d == nil {
				d = &Downloader{}
			}
			if err := d.Fetch(ctx, e, root); err != nil {
				return Found{Where: WhereMissing}, fmt.Errorf("weights for %s: %w", encoder, err)
			}
			found.Where = WhereDownload
			return found, nil
		}
		looked = append(looked, fmt.Sprintf("cache %s has %d of %d files", root, have, len(e.Files)))
	}
	size, known := e.TotalSize()
	how := fmt.Sprintf("run `posprobe weights fetch %s`", e.Name)
	if known {
		how += fmt.Sprintf(" (%s)", HumanBytes(size))
	}
	return Found{Where: WhereMissing}, fmt.Errorf("weights for %s not found (%s); %s, set %s=1, or pass --weights",
		encoder, strings.Join(looked, "; "), how, DownloadEnv)
}

// BuiltinPrefix starts the path Resolve gives a committed weight file
// (WhereBuiltin): "builtin:weights/<path>". Load reads it from the program.
const BuiltinPrefix = "builtin:"

// builtinPath returns the BuiltinPrefix path of encoder's committed weight
// file, if this program carries one.
func builtinPath(encoder string) (string, bool) {
	for _, b := range manifestdata.Builtins {
		if b.Encoder == encoder && manifestdata.BuiltinData(b) != nil {
			return BuiltinPrefix + "weights/" + b.Path, true
		}
	}
	return "", false
}

// builtinData returns the bytes behind a BuiltinPrefix path.
func builtinData(p string) ([]byte, bool) {
	for _, b := range manifestdata.Builtins {
		if p == BuiltinPrefix+"weights/"+b.Path {
			d := manifestdata.BuiltinData(b)
			return d, d != nil
		}
	}
	return nil, false
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// HumanBytes formats n as "4.7 MB" (SI units, as download sizes are quoted).
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for q := n / unit; q >= unit; q /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
