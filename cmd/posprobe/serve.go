package main

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

var serveFlags struct {
	dir  string
	port int
	host string
}

var serveCmd = &cobra.Command{
	Use:   "serve",
	Short: "Serve the built demo site (posprobe site) on localhost",
	Long: `serve serves a built demo site folder over HTTP on 127.0.0.1 with
application/wasm for .wasm files (needed by WebAssembly streaming) and
Cache-Control: no-store, so a rebuilt app is picked up on reload.`,
	Args: cobra.NoArgs,
	RunE: func(cmd *cobra.Command, _ []string) error {
		if _, err := os.Stat(filepath.Join(serveFlags.dir, "index.html")); err != nil {
			return fmt.Errorf("%s has no index.html: build the site first (make site): %w", serveFlags.dir, err)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(serveFlags.host, strconv.Itoa(serveFlags.port)))
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "posprobe demo at http://%s/ (serving %s; Ctrl-C stops)\n", ln.Addr(), serveFlags.dir)
		srv := &http.Server{Handler: siteHandler(serveFlags.dir), ReadHeaderTimeout: 10 * time.Second}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
		defer stop()
		go func() {
			<-ctx.Done()
			shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(shut)
		}()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	},
}

// siteHandler serves dir with the headers the demo needs.
func siteHandler(dir string) http.Handler {
	// The platform's MIME table may lack these; the browser refuses
	// instantiateStreaming without application/wasm.
	mime.AddExtensionType(".wasm", "application/wasm")
	mime.AddExtensionType(".js", "text/javascript; charset=utf-8")
	mime.AddExtensionType(".safetensors", "application/octet-stream")
	fs := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fs.ServeHTTP(w, r)
	})
}

func init() {
	serveCmd.Flags().StringVar(&serveFlags.dir, "dir", "site/dist", "built site folder")
	serveCmd.Flags().IntVar(&serveFlags.port, "port", 8080, "TCP port (0 picks a free one)")
	serveCmd.Flags().StringVar(&serveFlags.host, "host", "127.0.0.1", "address to listen on")
	rootCmd.AddCommand(serveCmd)
}
