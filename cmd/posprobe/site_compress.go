package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// compressExts are the file types worth precompressing (photos are already
// compressed).
var compressExts = map[string]bool{
	".wasm": true, ".js": true, ".json": true, ".html": true, ".css": true, ".svg": true,
	".safetensors": true, ".readout": true, ".txt": true,
}

// minCompress is the smallest file that gets compressed copies.
const minCompress = 1024

// encSizes are the sizes of a file and of its precompressed copies (0: none).
type encSizes struct{ Raw, GZ, BR int64 }

// precompress writes name.gz (gzip, best compression) and name.br (brotli of
// the given quality) beside every compressible file of 1 kB or more in out,
// keeping a copy only when it is smaller than the file, and removes copies whose
// file is gone. It returns the sizes by slash path relative to out.
func precompress(out string, quality int) (map[string]encSizes, error) {
	var files, orphans []string
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		switch ext := filepath.Ext(p); {
		case ext == ".gz" || ext == ".br":
			if _, err := os.Stat(strings.TrimSuffix(p, ext)); os.IsNotExist(err) {
				orphans = append(orphans, p)
			}
		case !strings.HasPrefix(d.Name(), "."):
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range orphans {
		if err := os.Remove(p); err != nil {
			return nil, err
		}
	}
	sizes := make(map[string]encSizes, len(files))
	var mu sync.Mutex
	var firstErr error
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range max(1, runtime.NumCPU()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				s, err := precompressFile(p, quality)
				rel, _ := filepath.Rel(out, p)
				mu.Lock()
				sizes[filepath.ToSlash(rel)] = s
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	// Largest first, so the big modules do not finish last on one core.
	sort.Slice(files, func(i, j int) bool { return fileSize(files[i]) > fileSize(files[j]) })
	for _, p := range files {
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	return sizes, firstErr
}

func fileSize(p string) int64 {
	if st, err := os.Stat(p); err == nil {
		return st.Size()
	}
	return 0
}

// precompressFile writes (or removes) p.gz and p.br; see precompress.
func precompressFile(p string, quality int) (encSizes, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return encSizes{}, err
	}
	s := encSizes{Raw: int64(len(b))}
	want := len(b) >= minCompress && compressExts[filepath.Ext(p)]
	for _, enc := range []struct {
		ext  string
		size *int64
		new  func(io.Writer) io.WriteCloser
	}{
		{".gz", &s.GZ, func(w io.Writer) io.WriteCloser { z, _ := gzip.NewWriterLevel(w, gzip.BestCompression); return z }},
		{".br", &s.BR, func(w io.Writer) io.WriteCloser {
			return brotli.NewWriterOptions(w, brotli.WriterOptions{Quality: quality, LGWin: 24})
		}},
	} {
		var buf bytes.Buffer
		if want {
			z := enc.new(&buf)
			if _, err := z.Write(b); err != nil {
				return s, fmt.Errorf("%s%s: %w", p, enc.ext, err)
			}
			if err := z.Close(); err != nil {
				return s, fmt.Errorf("%s%s: %w", p, enc.ext, err)
			}
		}
		if !want || buf.Len() >= len(b) {
			if err := os.Remove(p + enc.ext); err != nil && !os.IsNotExist(err) {
				return s, err
			}
			continue
		}
		if err := writeFileAtomic(p+enc.ext, buf.Bytes()); err != nil {
			return s, err
		}
		*enc.size = int64(buf.Len())
	}
	return s, nil
}

// defaultLoad lists the files the page fetches for the default view
// (pretrained SqueezeNet 1.1, zero padding): the page sources at the top
// level, the modules, wasm_exec.js, the weights, that model's readouts and
// the photo.
func defaultLoad(out string, man siteManifest) []string {
	var list []string
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		switch ext := path.Ext(e.Name()); {
		case !e.Type().IsRegular() || isHashed(e.Name()) || e.Name() == "wasm_exec.js":
		case ext == ".html" || ext == ".css" || ext == ".js" || e.Name() == "site.json":
			list = append(list, e.Name())
		}
	}
	for _, f := range man.Files {
		list = append(list, f.Path)
	}
	for _, r := range man.Readouts {
		if strings.HasPrefix(path.Base(r), "squeezenet1.1_imagenet_zero_") {
			list = append(list, r)
		}
	}
	list = append(list, man.Photo)
	sort.Strings(list)
	return list
}

// printSiteSizes prints the large files and the bytes of the default view:
// raw, and as sent when the browser takes gzip or brotli.
func printSiteSizes(log io.Writer, out string, man siteManifest, sizes map[string]encSizes) {
	tw := newTable(log, true)
	fmt.Fprintln(tw, "file\traw\tgzip\tbrotli\t")
	var raw, gz, br int64
	for _, p := range defaultLoad(out, man) {
		s, ok := sizes[p]
		if !ok {
			s = encSizes{Raw: fileSize(filepath.Join(out, filepath.FromSlash(p)))}
		}
		g, b := s.Raw, s.Raw
		if s.GZ > 0 {
			g = s.GZ
		}
		if s.BR > 0 {
			b = s.BR
		}
		raw, gz, br = raw+s.Raw, gz+g, br+b
		if s.Raw >= 100_000 {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", p, s.Raw, g, b)
		}
	}
	fmt.Fprintf(tw, "default view, all files\t%d\t%d\t%d\t\n", raw, gz, br)
	tw.Flush()
	fmt.Fprintf(log, "site assembled in %s: %d readouts, %d encoders; the default view transfers %s (%s gzip, %s brotli)\n",
		out, len(man.Readouts), len(man.Encoders), mb(raw), mb(gz), mb(br))
}

func mb(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }
