package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

var serveFlags struct {
	dir  string
	port int
	host string
}

// serveLimits bound what one client can hold of the server.
type serveLimits struct {
	ReadHeader, Read, Write, Idle time.Duration
	Conns                         int // open connections at once; more wait in the kernel's queue
}

var defaultServeLimits = serveLimits{
	ReadHeader: 10 * time.Second,
	Read:       30 * time.Second,
	Write:      60 * time.Second, // a 25 MB module over a slow link; localhost takes < 1 s
	Idle:       60 * time.Second,
	Conns:      128,
}

var serveCmd = &cobra.Command{
	Use:   "serve",
	Short: "Serve the built demo site (posprobe site) on localhost",
	Long: `serve serves a built demo site folder over HTTP on 127.0.0.1 with
application/wasm for .wasm files (needed by WebAssembly streaming). Files
with a content hash in their name (app.0123456789.wasm, written by 'posprobe
site') are sent with Cache-Control: public, max-age=31536000, immutable: a
rebuild gives them new names, so they never go stale, and the second
inference worker reads the weights from the browser's cache instead of the
network. Everything else (the page, site.json, readouts, the photo) is sent
with Cache-Control: no-cache: the browser revalidates it on every load, so a
rebuilt site is picked up on reload. When the
browser accepts brotli or gzip and the site has a precompressed copy
(file.br, file.gz, written by 'posprobe site'), that copy is sent with
Content-Encoding.

It is a development server: only regular files inside --dir are served (no
directory listings, no dotfiles, no symlinks out of the folder), requests and
responses have time limits, idle connections close after 60 s and at most
128 connections are open at once.`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		if _, err := os.Stat(filepath.Join(serveFlags.dir, "index.html")); err != nil {
			return fmt.Errorf("%s has no index.html: build the site first (make site): %w", serveFlags.dir, err)
		}
		h, err := siteHandler(serveFlags.dir)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(serveFlags.host, strconv.Itoa(serveFlags.port)))
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "posprobe demo at http://%s/ (serving %s; Ctrl-C stops)\n", ln.Addr(), serveFlags.dir)
		srv := newSiteServer(h, defaultServeLimits)
		ctx, stop := interruptible(cmd.Context())
		defer stop()
		go func() {
			<-ctx.Done()
			shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(shut)
		}()
		if err := srv.Serve(limitListener(ln, defaultServeLimits.Conns)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	},
}

func newSiteServer(h http.Handler, l serveLimits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeader,
		ReadTimeout:       l.Read,
		WriteTimeout:      l.Write,
		IdleTimeout:       l.Idle,
		MaxHeaderBytes:    64 << 10,
	}
}

// limitListener caps the connections open at once: Accept waits for a slot,
// so idle keep-alive clients cannot use up the process's descriptors.
func limitListener(ln net.Listener, n int) net.Listener {
	return &capListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{})}
}

type capListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *capListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &capConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *capListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type capConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *capConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// siteHandler serves the regular files under dir with the headers the demo
// needs, and their precompressed copies where the client accepts them.
func siteHandler(dir string) (http.Handler, error) {
	root, err := os.OpenRoot(dir) // refuses paths and symlinks that leave dir
	if err != nil {
		return nil, fmt.Errorf("serve --dir: %w", err)
	}
	// The platform's MIME table may lack these; the browser refuses
	// instantiateStreaming without application/wasm.
	mime.AddExtensionType(".wasm", "application/wasm")
	mime.AddExtensionType(".js", "text/javascript; charset=utf-8")
	mime.AddExtensionType(".safetensors", "application/octet-stream")
	mime.AddExtensionType(".readout", "application/octet-stream")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := siteFileName(root, r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.Add("Vary", "Accept-Encoding")
		if contentHashed(path.Base(name)) {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		send, enc := name, ""
		for _, e := range []struct{ token, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
			if accepts(r.Header.Get("Accept-Encoding"), e.token) && regular(root, name+e.ext) {
				send, enc = name+e.ext, e.token
				break
			}
		}
		f, err := root.Open(send)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		if enc != "" {
			h.Set("Content-Encoding", enc)
			// ServeContent leaves the length out when a Content-Encoding is set.
			h.Set("Content-Length", strconv.FormatInt(st.Size(), 10))
			if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
				h.Set("Content-Type", ct)
			}
			r = r.Clone(r.Context())
			r.Header.Del("Range") // ranges of the encoded body would confuse a decoder
		}
		// ServeContent names the type by the original name's extension and
		// sets Content-Length to the size of what is sent.
		http.ServeContent(w, r, path.Base(name), st.ModTime(), f)
	}), nil
}

// siteFileName maps a URL path to a regular file inside root: "/" and
// folders to their index.html; no dotfiles, no .. segments.
func siteFileName(root *os.Root, urlPath string) (string, bool) {
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if name == "" {
		name = "."
	}
	for _, seg := range strings.Split(name, "/") {
		if seg != "." && strings.HasPrefix(seg, ".") {
			return "", false
		}
	}
	st, err := root.Stat(name)
	if err != nil {
		return "", false
	}
	if st.IsDir() {
		name = path.Join(name, "index.html")
		if !regular(root, name) {
			return "", false // never a listing
		}
		return name, true
	}
	return name, st.Mode().IsRegular()
}

// regular reports whether name is a regular file inside root (a symlink
// resolving inside root counts; Stat refuses one that leaves it).
func regular(root *os.Root, name string) bool {
	st, err := root.Stat(name)
	return err == nil && st.Mode().Type()&fs.ModeType == 0
}

// contentHashed reports whether a file name carries hashedName's content
// hash (app.0123456789.wasm), so its content never changes under that name.
func contentHashed(name string) bool {
	return isHashed(name) && name != "app.wasm" && name != "worker.wasm"
}

// accepts reports whether an Accept-Encoding header allows token (q > 0).
func accepts(header, token string) bool {
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(part, ";")
		name := strings.ToLower(strings.TrimSpace(fields[0]))
		if name != token && name != "*" {
			continue
		}
		q := 1.0
		for _, p := range fields[1:] {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		if name == token || q > 0 {
			return q > 0
		}
	}
	return false
}

func init() {
	serveCmd.Flags().StringVar(&serveFlags.dir, "dir", "site/dist", "built site folder")
	serveCmd.Flags().IntVar(&serveFlags.port, "port", 8080, "TCP port (0 picks a free one)")
	serveCmd.Flags().StringVar(&serveFlags.host, "host", "127.0.0.1", "address to listen on")
	rootCmd.AddCommand(serveCmd)
}
