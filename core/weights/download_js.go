//go:build js

package weights

import (
	"context"
	"fmt"
	"time"
)

// Progress is told how far the download of one file has got (see download.go).
type Progress func(file string, done, size int64)

// Downloader is not built into js/wasm: the browser fetches an encoder's
// weights from the site, and net/http would add its client, TLS and HTTP/2 to
// every module.
type Downloader struct {
	Progress     Progress
	StallTimeout time.Duration
}

// DefaultStallTimeout is how long a download may receive nothing.
const DefaultStallTimeout = time.Minute

// Fetch refuses: there is no download in js/wasm.
func (d *Downloader) Fetch(_ context.Context, e *Entry, _ string) error {
	return fmt.Errorf("%s: downloads are not built into js/wasm; the site serves the weights", e.Name)
}
