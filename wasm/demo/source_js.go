//go:build js

package demo

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// HTTPSource reads site files over HTTP relative to a base URL (the page's,
// or the worker script's: both sit at the site root).
type HTTPSource struct{ Base *url.URL }

// NewHTTPSource parses base (location.href).
func NewHTTPSource(base string) (HTTPSource, error) {
	u, err := url.Parse(base)
	if err != nil {
		return HTTPSource{}, err
	}
	return HTTPSource{Base: u}, nil
}

func (s HTTPSource) Read(path string, progress func(done, total int64)) ([]byte, error) {
	u := s.Base.ResolveReference(&url.URL{Path: path})
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
