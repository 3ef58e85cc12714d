package weights

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/posprobe/posprobe/internal/testfiles"
)

// The encoders core/encoder registers besides "none" (docs/architecture.md).
var knownEncoders = []string{"vgg16", "resnet18", "resnet50", "resnet152", "squeezenet1.1", "mobilenetv2", "resnet50v2", "darknet-tiny"}

func TestDefaultManifestListsEveryEncoder(t *testing.T) {
	m, err := DefaultManifest()
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Names(); !slices.Equal(got, knownEncoders) {
		t.Fatalf("manifest encoders %v, want %v", got, knownEncoders)
	}
	for _, e := range m.Encoders {
		if e.Licence == "" || e.Source == "" || e.Architecture == "" {
			t.Errorf("%s: licence, source and architecture must all be stated", e.Name)
		}
		if e.Format == FormatPth {
			// torchvision names its checkpoints <arch>-<first 8 hex of sha256>.pth.
			f := e.Files[0]
			base := strings.TrimSuffix(f.Path, ".pth")
			if h := base[strings.LastIndex(base, "-")+1:]; h != f.SHA256Prefix {
				t.Errorf("%s: sha256_prefix %q, file name says %q", e.Name, f.SHA256Prefix, h)
			}
			if u := e.FileURLs(f)[0]; u != "https://download.pytorch.org/models/"+f.Path {
				t.Errorf("%s: URL %s", e.Name, u)
			}
		}
	}
}

// readUpstreamManifest reads the "bytes sha256 path" lines of the data
// folder's MANIFEST files, which were written when the data was fetched.
func readUpstreamManifest(t *testing.T, p string) map[string]File {
	t.Helper()
	fh, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	out := map[string]File{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 || len(fs[1]) != 64 {
			continue
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			continue
		}
		out[fs[2]] = File{Path: fs[2], Size: n, SHA256: fs[1]}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no file lines", p)
	}
	return out
}

// TestManifestMatchesData hashes the data folder's copies against the
// manifest, and the manifest against the MANIFEST files written when the data
// was fetched (an independent record).
func TestManifestMatchesData(t *testing.T) {
	data := testfiles.DataDir(t)
	m, err := DefaultManifest()
	if err != nil {
		t.Fatal(err)
	}
	wroot := filepath.Join(data, "weights")
	webnn := readUpstreamManifest(t, filepath.Join(wroot, "WEBNN-MANIFEST.md"))
	darknet := readUpstreamManifest(t, filepath.Join(wroot, "darknet-tiny", "MANIFEST.md"))
	upstreamDir := map[string]string{"squeezenet1.1": "squeezenet1.1_nchw", "mobilenetv2": "mobilenetv2_nchw", "resnet50v2": "resnet50v2_nchw"}
	checked := 0
	for _, e := range m.Encoders {
		root := filepath.Join(wroot, e.Dir)
		if _, err := os.Stat(root); err != nil {
			if e.Format != FormatPth {
				t.Errorf("%s: no copy in %s", e.Name, root)
			}
			continue
		}
		for _, c := range Verify(root, e) {
			checked++
			if c.Err != nil {
				t.Errorf("%s: %v", e.Name, c.Err)
			}
			var up File
			var ok bool
			if e.Name == "darknet-tiny" {
				up, ok = darknet[c.File.Path]
			} else {
				up, ok = webnn[upstreamDir[e.Name]+"/"+c.File.Path]
			}
			if !ok || up.Size != c.File.Size || up.SHA256 != c.File.SHA256 {
				t.Errorf("%s: %s: manifest %d %s, data MANIFEST %+v", e.Name, c.File.Path, c.File.Size, c.File.SHA256, up)
			}
		}
		// Every weight file of the copy is in the manifest.
		listed := map[string]bool{}
		for _, f := range e.Files {
			listed[f.Path] = true
		}
		if e.Format == FormatNpyDir {
			names, err := filepath.Glob(filepath.Join(root, "weights", "*.npy"))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				if rel := "weights/" + filepath.Base(n); !listed[rel] {
					t.Errorf("%s: %s is in the data folder but not in the manifest", e.Name, rel)
				}
			}
		}
	}
	if checked < 400 {
		t.Errorf("checked only %d files", checked)
	}
}

func TestParseManifestRefusals(t *testing.T) {
	const sha = "d839d71cc03b17f54b5ed953305830857a9ddb565591ca61813d7eed50c63aff"
	entry := func(fields string) string {
		return `{"version":1,"encoders":[{"name":"toy","architecture":"a","licence":"l","source":"s",` + fields + `}]}`
	}
	good := `"format":"npy-dir","dir":"toy","load":"weights","urls":["https://x/"],"files":[{"path":"weights/a.npy","size":3,"sha256":"` + sha + `"}]`
	if _, err := ParseManifest([]byte(entry(good)), "m.json"); err != nil {
		t.Fatalf("good manifest refused: %v", err)
	}
	for _, tc := range []struct{ name, json, want string }{
		{"not json", `{"version":1,`, "m.json"},
		{"unknown field", entry(good + `,"colour":"red"`), "colour"},
		{"version", `{"version":2,"encoders":[]}`, "version 2"},
		{"duplicate", strings.Replace(entry(good), `"encoders":[`, `"encoders":[{"name":"toy",`+good+`},`, 1), "toy listed twice"},
		{"format", entry(strings.Replace(good, "npy-dir", "onnx", 1)), `unknown format "onnx"`},
		{"escape", entry(strings.Replace(good, "weights/a.npy", "../a.npy", 1)), "../a.npy"},
		{"absolute", entry(strings.Replace(good, "weights/a.npy", "/etc/a.npy", 1)), "/etc/a.npy"},
		{"dir", entry(strings.Replace(good, `"dir":"toy"`, `"dir":"a/b"`, 1)), `dir "a/b"`},
		{"short sha", entry(strings.Replace(good, sha, sha[:60], 1)), "not 64 hex"},
		{"upper sha", entry(strings.Replace(good, sha, strings.ToUpper(sha), 1)), "not 64 hex"},
		{"no digest", entry(strings.Replace(good, `"sha256":"`+sha+`"`, `"sha256_prefix":"d839"`, 1)), "at least 8"},
		{"load", entry(strings.Replace(good, `"load":"weights"`, `"load":"model.json"`, 1)), "none of its files"},
		{"url", entry(strings.Replace(good, "https://x/", "file:///x/", 1)), "not http"},
		{"no url", entry(strings.Replace(good, `"urls":["https://x/"]`, `"urls":[]`, 1)), "no URL"},
		{"no files", entry(`"format":"pth","dir":"toy","load":"a.pth","urls":["https://x/"],"files":[]`), "no files"},
	} {
		_, err := ParseManifest([]byte(tc.json), "m.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "m.json") {
			t.Errorf("%s: error %v, want one naming m.json and %q", tc.name, err, tc.want)
		}
	}
}

func TestLookupUnknownNamesTheKnown(t *testing.T) {
	m, err := DefaultManifest()
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Lookup("alexnet")
	if err == nil || !strings.Contains(err.Error(), "alexnet") || !strings.Contains(err.Error(), "squeezenet1.1") {
		t.Fatalf("error %v", err)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 4950256: "5.0 MB", 553433881: "553.4 MB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
