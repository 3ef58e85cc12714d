//go:build js

package main

import (
	"github.com/posprobe/posprobe/wasm/probe"

	"fmt"
	"io"
	"net/http"
	"net/url"
	"syscall/js"
)

// httpSource reads site files over HTTP, relative to the page.
type httpSource struct{ base *url.URL }

func newSource() (probe.Source, error) {
	u, err := url.Parse(js.Global().Get("location").Get("href").String())
	if err != nil {
		return nil, err
	}
	return httpSource{base: u}, nil
}

// queryParam returns a parameter of the page URL (e.g. ?model=sq-none).
func queryParam(name string) string {
	u, err := url.Parse(js.Global().Get("location").Get("href").String())
	if err != nil {
		return ""
	}
	return u.Query().Get(name)
}

func (s httpSource) Read(path string, progress func(done, total int64)) ([]byte, error) {
	u := s.base.ResolveReference(&url.URL{Path: path})
	resp, err := http.Get(u.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", path, resp.Status)
	}
	return readAll(resp.Body, resp.ContentLength, progress)
}

// readAll reads r reporting progress every 256 KiB.
func readAll(r io.Reader, total int64, progress func(done, total int64)) ([]byte, error) {
	buf := make([]byte, 0, max(total, 0))
	chunk := make([]byte, 256<<10)
	for {
		n, err := r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if progress != nil {
			progress(int64(len(buf)), total)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// dataDir: the browser has no data folder; weights come from the site.
func dataDir() string { return "" }
