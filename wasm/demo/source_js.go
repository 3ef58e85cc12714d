//go:build js

package demo

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"syscall/js"
)

// HTTPSource reads site files relative to a base URL (the page's, or the
// worker script's: both sit at the site root) with the browser's fetch:
// net/http would link its client, TLS and HTTP/2 into every module (about
// 3 MB of app.wasm and worker.wasm) for what fetch does anyway.
type HTTPSource struct{ Base *url.URL }

// NewHTTPSource parses base (location.href).
func NewHTTPSource(base string) (HTTPSource, error) {
	u, err := url.Parse(base)
	if err != nil {
		return HTTPSource{}, err
	}
	return HTTPSource{Base: u}, nil
}

// Read fetches path; progress gets the bytes so far and the total (-1 when
// the server compressed the body, whose Content-Length is then not the
// size read).
func (s HTTPSource) Read(path string, progress func(done, total int64)) ([]byte, error) {
	u := s.Base.ResolveReference(&url.URL{Path: path})
	resp, err := await(js.Global().Call("fetch", u.String()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("%s: %d %s", path, resp.Get("status").Int(), resp.Get("statusText").String())
	}
	total := int64(-1)
	h := resp.Get("headers")
	if h.Call("get", "content-encoding").IsNull() {
		if cl := h.Call("get", "content-length"); !cl.IsNull() {
			if n, err := strconv.ParseInt(cl.String(), 10, 64); err == nil && n >= 0 {
				total = n
			}
		}
	}
	b, err := readBody(resp, total, progress)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// readBody reads a Response's body chunk by chunk, for the progress bar.
func readBody(resp js.Value, total int64, progress func(done, total int64)) ([]byte, error) {
	body := resp.Get("body")
	if body.IsNull() || body.IsUndefined() { // no streams: all at once
		ab, err := await(resp.Call("arrayBuffer"))
		if err != nil {
			return nil, err
		}
		arr := js.Global().Get("Uint8Array").New(ab)
		buf := make([]byte, arr.Length())
		js.CopyBytesToGo(buf, arr)
		if progress != nil {
			progress(int64(len(buf)), total)
		}
		return buf, nil
	}
	rd := body.Call("getReader")
	buf := make([]byte, 0, max(total, 0))
	for {
		r, err := await(rd.Call("read"))
		if err != nil {
			return nil, err
		}
		if r.Get("done").Bool() {
			return buf, nil
		}
		chunk := r.Get("value")
		n := chunk.Length()
		buf = append(buf, make([]byte, n)...)
		js.CopyBytesToGo(buf[len(buf)-n:], chunk)
		if progress != nil {
			progress(int64(len(buf)), total)
		}
	}
}

// await blocks the calling goroutine until promise p settles.
func await(p js.Value) (js.Value, error) {
	done := make(chan js.Value, 1)
	fail := make(chan error, 1)
	then := js.FuncOf(func(_ js.Value, a []js.Value) any { done <- a[0]; return nil })
	catch := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "promise rejected"
		if len(a) > 0 && a[0].Truthy() {
			msg = a[0].Call("toString").String()
		}
		fail <- errors.New(msg)
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	select {
	case v := <-done:
		return v, nil
	case err := <-fail:
		return js.Value{}, err
	}
}
