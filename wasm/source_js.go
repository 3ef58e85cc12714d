//go:build js

package main

import (
	"net/url"
	"syscall/js"

	"github.com/posprobe/posprobe/wasm/demo"
)

// newSource reads site files over HTTP, relative to the page.
func newSource() (demo.Source, error) {
	return demo.NewHTTPSource(js.Global().Get("location").Get("href").String())
}

// queryParam returns a parameter of the page URL (e.g. ?model=sq-none).
func queryParam(name string) string {
	u, err := url.Parse(js.Global().Get("location").Get("href").String())
	if err != nil {
		return ""
	}
	return u.Query().Get(name)
}

// dataDir: the browser has no data folder; weights come from the site.
func dataDir() string { return "" }
