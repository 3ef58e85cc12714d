package weights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	manifestdata "github.com/posprobe/posprobe/weights"
)

// Formats an Entry can have; Entry.Load names what the format's loader takes.
const (
	FormatNpyDir = "npy-dir" // Load is a folder of .npy files (LoadNpyDir)
	FormatTFJS   = "tfjs"    // Load is a TF.js model.json (LoadTFJS)
	FormatPth    = "pth"     // Load is a torch.save checkpoint (LoadPth)
)

// File is one file an encoder needs, at Path (slash-separated, relative to
// the encoder's folder). SHA256 is the full hex digest when known; otherwise
// SHA256Prefix holds the leading hex digits that are known (torchvision puts 8
// in its file names). Size is 0 when unknown.
type File struct {
	Path         string   `json:"path"`
	Size         int64    `json:"size,omitempty"`
	SHA256       string   `json:"sha256,omitempty"`
	SHA256Prefix string   `json:"sha256_prefix,omitempty"`
	URLs         []string `json:"urls,omitempty"` // own URLs, replacing the encoder's urls + Path
}

// Digest returns the hex digest (or the known prefix of it) a download of f
// must match.
func (f File) Digest() string {
	if f.SHA256 != "" {
		return f.SHA256
	}
	return f.SHA256Prefix
}

// Entry is one encoder's weights: what they are, where they come from, and
// every file with its checksum.
type Entry struct {
	Name         string   `json:"name"`         // encoder name, as core/encoder knows it
	Architecture string   `json:"architecture"` // the network and the naming of its tensors
	Format       string   `json:"format"`       // FormatNpyDir, FormatTFJS or FormatPth
	Dir          string   `json:"dir"`          // folder under POSPROBE_DATA/weights
	Load         string   `json:"load"`         // what to hand the loader, relative to the folder
	Licence      string   `json:"licence"`
	Source       string   `json:"source"` // page describing the upstream copy
	URLs         []string `json:"urls"`   // mirrors, tried in order; a file's URL is mirror + Path
	Files        []File   `json:"files"`
	Absent       []string `json:"absent,omitempty"` // upstream files the known copies lack (not needed)
	Note         string   `json:"note,omitempty"`
}

// FileURLs returns the URLs to try for f, in order.
func (e *Entry) FileURLs(f File) []string {
	if len(f.URLs) > 0 {
		return f.URLs
	}
	urls := make([]string, len(e.URLs))
	for i, u := range e.URLs {
		urls[i] = u + f.Path
	}
	return urls
}

// TotalSize returns the bytes of all files, and whether every size is known.
func (e *Entry) TotalSize() (int64, bool) {
	var n int64
	known := true
	for _, f := range e.Files {
		n += f.Size
		known = known && f.Size > 0
	}
	return n, known
}

// Manifest is the list of known encoder weights (weights/encoders.json).
type Manifest struct {
	Version  int      `json:"version"`
	Comment  string   `json:"comment,omitempty"`
	Encoders []*Entry `json:"encoders"`
}

// ParseManifest decodes and checks a manifest; source names it in errors.
func ParseManifest(data []byte, source string) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("%s: manifest version %d, want 1", source, m.Version)
	}
	seen := map[string]bool{}
	for i, e := range m.Encoders {
		if e == nil || e.Name == "" {
			return nil, fmt.Errorf("%s: encoder %d has no name", source, i)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("%s: encoder %s listed twice", source, e.Name)
		}
		seen[e.Name] = true
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("%s: encoder %s: %w", source, e.Name, err)
		}
	}
	return &m, nil
}

func (e *Entry) check() error {
	switch e.Format {
	case FormatNpyDir, FormatTFJS, FormatPth:
	default:
		return fmt.Errorf("unknown format %q", e.Format)
	}
	if !localName(e.Dir) || strings.Contains(e.Dir, "/") {
		return fmt.Errorf("dir %q is not a plain folder name", e.Dir)
	}
	if !localName(e.Load) {
		return fmt.Errorf("load %q is not a relative path inside the folder", e.Load)
	}
	if len(e.Files) == 0 {
		return fmt.Errorf("no files")
	}
	paths := map[string]bool{}
	loadFound := false
	for _, f := range e.Files {
		if !localName(f.Path) {
			return fmt.Errorf("file path %q is not a relative path inside the folder", f.Path)
		}
		if paths[f.Path] {
			return fmt.Errorf("file %s listed twice", f.Path)
		}
		paths[f.Path] = true
		if f.Path == e.Load || strings.HasPrefix(f.Path, e.Load+"/") {
			loadFound = true
		}
		if f.Size < 0 {
			return fmt.Errorf("file %s: negative size", f.Path)
		}
		switch {
		case f.SHA256 != "" && (len(f.SHA256) != 64 || !isHex(f.SHA256)):
			return fmt.Errorf("file %s: sha256 %q is not 64 hex digits", f.Path, f.SHA256)
		case f.SHA256 != "" && f.SHA256Prefix != "" && !strings.HasPrefix(f.SHA256, f.SHA256Prefix):
			return fmt.Errorf("file %s: sha256 and sha256_prefix disagree", f.Path)
		case f.SHA256 == "" && (len(f.SHA256Prefix) < 8 || !isHex(f.SHA256Prefix)):
			return fmt.Errorf("file %s: needs a sha256 or a sha256_prefix of at least 8 hex digits", f.Path)
		}
		if len(e.FileURLs(f)) == 0 {
			return fmt.Errorf("file %s: no URL", f.Path)
		}
		for _, u := range e.FileURLs(f) {
			if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
				return fmt.Errorf("file %s: URL %q is not http(s)", f.Path, u)
			}
		}
	}
	if !loadFound {
		return fmt.Errorf("load %q is none of its files", e.Load)
	}
	return nil
}

// localName reports whether p is a clean, relative, slash-separated path that
// stays inside its folder (a manifest must never write elsewhere).
func localName(p string) bool {
	return p != "" && p != "." && !strings.Contains(p, `\`) && path.Clean(p) == p &&
		!path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../")
}

// isHex reports whether s is lower-case hex digits only.
func isHex(s string) bool {
	return strings.Trim(s, "0123456789abcdef") == ""
}

// Lookup returns the entry for encoder name.
func (m *Manifest) Lookup(name string) (*Entry, error) {
	for _, e := range m.Encoders {
		if e.Name == name {
			return e, nil
		}
	}
	names := make([]string, len(m.Encoders))
	for i, e := range m.Encoders {
		names[i] = e.Name
	}
	return nil, fmt.Errorf("no weights known for encoder %q (known: %s)", name, strings.Join(names, ", "))
}

// Names returns the encoder names in manifest order.
func (m *Manifest) Names() []string {
	var names []string
	for _, e := range m.Encoders {
		names = append(names, e.Name)
	}
	return slices.Clip(names)
}

var defaultManifest = sync.OnceValues(func() (*Manifest, error) {
	return ParseManifest(manifestdata.EncodersJSON, "weights/encoders.json")
})

// DefaultManifest returns the manifest built into the program
// (weights/encoders.json).
func DefaultManifest() (*Manifest, error) { return defaultManifest() }
