//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posprobe/posprobe/core/encoder"
	"github.com/posprobe/posprobe/core/nn"
	"github.com/posprobe/posprobe/core/posmap"
	"github.com/posprobe/posprobe/core/readout"
	"github.com/posprobe/posprobe/core/weights"
	"github.com/posprobe/posprobe/internal/hostile"
)

// The hostile-input suite runs the built posprobe binary as a user would,
// on inputs made at test time with random sizes, names and corruptions
// (issue 11, items 1-6 and 8-10). Every case names what it expects: the
// exit code, what the one error line (or skip warning) must say, and then
// always no panic trace, at most hostileMaxRSS of memory, and an answer
// within hostileTimeout.
const (
	hostileMaxRSS  = 1536 << 20 // bytes
	hostileTimeout = 60 * time.Second
)

type hostileRun struct {
	rc             int
	stdout, stderr string
	rss            int64 // peak resident set, bytes
	took           time.Duration
}

// buildPosprobe builds the binary once per test run.
func buildPosprobe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "posprobe")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runHostile(t *testing.T, bin, dir string, env []string, args ...string) hostileRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hostileTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	// GOMEMLIMIT makes the collector work hard before the limit; the peak
	// RSS is checked after the run.
	cmd.Env = append(append(os.Environ(), "GOMEMLIMIT=1400MiB", "POSPROBE_DATA="), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	r := hostileRun{stdout: so.String(), stderr: se.String(), took: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("posprobe %s: no answer within %v (hangs?)", strings.Join(args, " "), hostileTimeout)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.rc = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rss = ru.Maxrss * 1024
	}
	return r
}

type hostileCase struct {
	name string
	args []string
	env  []string
	rc   int      // expected exit code
	want []string // in the error line (rc 1) or in stderr (rc 0)
	not  []string // must not appear in stderr
	then func(t *testing.T)
}

// writeBomb writes an image whose header declares a random size over the
// default budget and returns its name.
func writeBomb(t *testing.T, r *rand.Rand, dir string) string {
	format := []string{"png", "jpeg", "gif"}[r.IntN(3)]
	w, h := 7100+r.IntN(58000), 7100+r.IntN(58000)
	if format == "png" && r.IntN(2) == 0 {
		w, h = 70000+r.IntN(1<<20), 70000+r.IntN(1<<20)
	}
	ext := map[string]string{"png": ".png", "jpeg": ".jpg", "gif": ".png"}[format] // a GIF named .png is decoded too
	p := filepath.Join(dir, fmt.Sprintf("bomb-%d-%dx%d%s", r.IntN(1000), w, h, ext))
	if err := os.WriteFile(p, hostile.Bomb(format, w, h), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// safetensorsWithHeaderByte is a safetensors file whose header length
// starts (little-endian) with the byte lo.
func safetensorsWithHeaderByte(t *testing.T, s *weights.Set, lo byte) []byte {
	var b bytes.Buffer
	if err := weights.WriteSafetensors(&b, s); err != nil {
		t.Fatal(err)
	}
	st := b.Bytes()
	h := binary.LittleEndian.Uint64(st)
	js := bytes.TrimRight(st[8:8+h], " ")
	n := len(js) + (int(lo)-len(js)%256+256)%256
	out := binary.LittleEndian.AppendUint64(nil, uint64(n))
	out = append(out, js...)
	out = append(out, bytes.Repeat([]byte(" "), n-len(js))...)
	return append(out, st[8+h:]...)
}

// hostileWeights writes a Keras topology with an empty inbound node, and
// safetensors whose header length starts with 0x80 or another random byte,
// the last with NaN or Inf in a randomly named tensor.
func hostileWeights(t *testing.T, r *rand.Rand, dir string) (kdir, st80, stAny, nanW, tname string) {
	kdir = filepath.Join(dir, "darknet")
	os.MkdirAll(kdir, 0o755)
	os.WriteFile(filepath.Join(kdir, "model.json"), []byte(`{"format":"layers-model","modelTopology":{"model_config":{"class_name":"Model","config":{"layers":[`+
		`{"class_name":"InputLayer","config":{"name":"in","batch_input_shape":[null,224,224,3]},"inbound_nodes":[]},`+
		`{"class_name":"Conv2D","config":{"name":"conv2d_1","filters":16,"kernel_size":[3,3],"padding":"same"},"inbound_nodes":[[[]]]}]}}},"weightsManifest":[]}`), 0o644)
	set := weights.NewSet("x")
	tname = fmt.Sprintf("features.%d.weight", r.IntN(13))
	set.Add(tname, nn.FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	st80 = filepath.Join(dir, "h80.safetensors")
	os.WriteFile(st80, safetensorsWithHeaderByte(t, set, 0x80), 0o644)
	stAny = filepath.Join(dir, "hany.safetensors")
	os.WriteFile(stAny, safetensorsWithHeaderByte(t, set, byte(r.IntN(256))), 0o644)
	bad := nn.Data(set.Tensors[tname])
	bad[r.IntN(len(bad))] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[r.IntN(3)]
	nanW = filepath.Join(dir, "nan.safetensors")
	os.WriteFile(nanW, safetensorsWithHeaderByte(t, set, byte(r.IntN(256))), 0o644)
	return kdir, st80, stAny, nanW, tname
}

// fakeInstallTools writes dpkg-query, id, sudo and apt-get of a user without
// root or sudo, with a package missing, and returns their folder.
func fakeInstallTools(dir string) string {
	fake := filepath.Join(dir, "fakebin")
	os.MkdirAll(fake, 0o755)
	os.WriteFile(filepath.Join(fake, "dpkg-query"), []byte("#!/bin/sh\n[ \"$3\" = libxrandr-dev ] && exit 1\necho 'install ok installed'\n"), 0o755)
	os.WriteFile(filepath.Join(fake, "id"), []byte("#!/bin/sh\necho 1000\n"), 0o755)
	os.WriteFile(filepath.Join(fake, "sudo"), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	os.WriteFile(filepath.Join(fake, "apt-get"), []byte("#!/bin/sh\necho apt-get ran >&2\nexit 9\n"), 0o755)
	return fake
}

func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildPosprobe(t)
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 11))

	// Good photos, a folder with hostile files among them, trained readouts.
	imgs := filepath.Join(dir, "imgs")
	os.MkdirAll(imgs, 0o755)
	for i := 0; i < 4; i++ {
		os.WriteFile(filepath.Join(imgs, fmt.Sprintf("p%d.png", i)), hostile.Small("png", 30+r.IntN(40), 30+r.IntN(40)), 0o644)
	}
	good := filepath.Join(imgs, "p0.png")
	mixed := filepath.Join(dir, "mixed")
	os.MkdirAll(mixed, 0o755)
	for i := 0; i < 3; i++ {
		os.WriteFile(filepath.Join(mixed, fmt.Sprintf("g%d.jpg", i)), hostile.Small("jpeg", 32+r.IntN(30), 32+r.IntN(30)), 0o644)
	}
	bombIn := writeBomb(t, r, mixed)
	fifoIn := filepath.Join(mixed, fmt.Sprintf("fifo%d.jpg", r.IntN(100)))
	if err := syscall.Mkfifo(fifoIn, 0o644); err != nil {
		t.Fatal(err)
	}
	cut := hostile.Small("png", 50, 50)
	truncated := filepath.Join(mixed, "truncated.png")
	os.WriteFile(truncated, cut[:8+r.IntN(len(cut)-9)], 0o644)

	ro := filepath.Join(dir, "ro")
	lr := 0.01 + r.Float64()/10
	for _, init := range []string{"imagenet", "random"} {
		res := runHostile(t, bin, dir, nil, "train", "--encoder", "none", "--init", init, "--target", "H", "--epochs", "2",
			"--batch", "2", "--lr", fmt.Sprint(lr), "--images", imgs, "--out", ro+"/")
		if res.rc != 0 {
			t.Fatalf("training the readouts: rc %d\n%s", res.rc, res.stderr)
		}
	}
	roFile := filepath.Join(ro, readout.FileName("none", encoder.InitImageNet, nn.PadZero, posmap.H))
	if rd, err := loadReadoutFile(roFile); err != nil || rd.Meta.Training.LR != lr || rd.Meta.Training.Momentum != 0.9 || rd.Meta.Training.Batch != 2 {
		t.Errorf("readout's recipe: %+v, %v", rd.Meta.Training, err)
	}

	bomb := writeBomb(t, r, dir)
	fifo := filepath.Join(dir, "x.jpg")
	syscall.Mkfifo(fifo, 0o644)
	victim := filepath.Join(dir, "victim.txt")
	os.WriteFile(victim, []byte("keep"), 0o644)
	planted := filepath.Join(dir, "planted")
	os.MkdirAll(planted, 0o755)
	os.Symlink(victim, filepath.Join(planted, "H_pred.png"))
	aFile := filepath.Join(dir, "a-file")
	os.WriteFile(aFile, []byte("x"), 0o644)

	kdir, st80, stAny, nanW, tname := hostileWeights(t, r, dir)

	fake := fakeInstallTools(dir)
	script, _ := filepath.Abs("../../scripts/install-deps.sh")

	eval := func(extra ...string) []string {
		return append([]string{"eval", "--encoder", "none", "--target", "H", "--readouts", ro}, extra...)
	}
	predict := func(extra ...string) []string {
		return append([]string{"predict", "--encoder", "none", "--target", "H", "--readouts", ro}, extra...)
	}
	size := fmt.Sprint(maxInputSize + 1 + r.IntN(200000))
	cases := []hostileCase{
		// 1. Image bombs, alone and in a folder of good photos.
		{name: "1 predict bomb", args: predict("--image", bomb, "--out", filepath.Join(dir, "p1")), rc: 1, want: []string{bomb, "pixels", "--max-pixels"}},
		{name: "1 features bomb", args: []string{"features", "--encoder", "none", "--image", bomb, "--out", filepath.Join(dir, "f1")}, rc: 1, want: []string{bomb, "--max-pixels"}},
		{name: "1 eval folder with bomb, FIFO, truncated", args: eval("--images", mixed), rc: 0,
			want: []string{bombIn, fifoIn, truncated, "3 unreadable skipped"}},
		{name: "1 train folder with bomb", args: []string{"train", "--encoder", "none", "--target", "V", "--epochs", "1", "--images", mixed, "--out", filepath.Join(dir, "t1.readout")},
			rc: 0, want: []string{bombIn, "3 unreadable skipped"}},
		{name: "1 budget raised", args: []string{"features", "--encoder", "none", "--max-pixels", "100", "--image", good, "--out", filepath.Join(dir, "f2")}, rc: 1,
			want: []string{good, "over the limit of 100"}},
		{name: "1 budget out of range", args: []string{"features", "--max-pixels", "0", "--encoder", "none", "--image", good, "--out", filepath.Join(dir, "f2")}, rc: 1,
			want: []string{"--max-pixels 0"}},
		// 2. --size.
		{name: "2 bench size 0", args: []string{"bench", "--encoder", "squeezenet1.1", "--size", "0"}, rc: 1, want: []string{"--size 0"}},
		{name: "2 bench size negative", args: []string{"bench", "--encoder", "squeezenet1.1", "--size", fmt.Sprint(-1 - r.IntN(1000))}, rc: 1, want: []string{"--size -"}},
		{name: "2 features size huge", args: []string{"features", "--encoder", "vgg16", "--init", "random", "--size", size, "--image", good, "--out", filepath.Join(dir, "f3")},
			rc: 1, want: []string{"--size " + size, "1 to 2048"}},
		// 3. Keras topology.
		{name: "3 keras empty inbound", args: []string{"features", "--encoder", "darknet-tiny", "--weights", kdir, "--image", good, "--out", filepath.Join(dir, "f4")},
			rc: 1, want: []string{"model.json", "conv2d_1", "not a simple chain"}},
		// 4. safetensors whose header length starts with 0x80.
		{name: "4 convert 0x80 safetensors", args: []string{"weights", "convert", "--encoder", "squeezenet1.1", "--weights", st80, "--out", filepath.Join(dir, "c80.safetensors")},
			rc: 0, then: func(t *testing.T) {
				if s, err := weights.Load(filepath.Join(dir, "c80.safetensors")); err != nil || s.Tensors[tname] == nil {
					t.Errorf("converted file: %v", err)
				}
			}},
		{name: "4 convert random-byte safetensors", args: []string{"weights", "convert", "--encoder", "squeezenet1.1", "--weights", stAny, "--out", filepath.Join(dir, "cany.safetensors")}, rc: 0},
		// 5. Non-finite weights.
		{name: "5 NaN weights", args: []string{"features", "--encoder", "squeezenet1.1", "--weights", nanW, "--image", good, "--out", filepath.Join(dir, "f5")},
			rc: 1, want: []string{nanW, tname, "non-finite"}},
		{name: "5 NaN weights convert", args: []string{"weights", "convert", "--encoder", "squeezenet1.1", "--weights", nanW, "--out", filepath.Join(dir, "c5.safetensors")},
			rc: 1, want: []string{nanW, tname}},
		// 6. Readouts trained on other features.
		{name: "6 normalize mismatch", args: eval("--images", imgs, "--normalize"), rc: 1, want: []string{roFile, "normalize true (readout: false)", "--force"}},
		{name: "6 seed mismatch", args: eval("--images", imgs, "--init", "random", "--seed", fmt.Sprint(1+r.IntN(99))), rc: 1, want: []string{"seed", "(readout: 0)"}},
		{name: "6 forced", args: eval("--images", imgs, "--normalize", "--force"), rc: 0, want: []string{"warning", "normalize"}},
		// 8. Files.
		{name: "8 predict symlink", args: predict("--image", good, "--out", planted), rc: 1, want: []string{"H_pred.png", "symbolic link"},
			then: func(t *testing.T) {
				if b, _ := os.ReadFile(victim); string(b) != "keep" {
					t.Errorf("the link's target was overwritten: %q", b)
				}
			}},
		{name: "8 FIFO image", args: predict("--image", fifo, "--out", filepath.Join(dir, "p8")), rc: 1, want: []string{fifo, "not a regular file"}},
		{name: "8 FIFO features", args: []string{"features", "--encoder", "none", "--image", fifo, "--out", filepath.Join(dir, "f8")}, rc: 1, want: []string{fifo, "not a regular file"}},
		{name: "8 FIFO readout", args: eval("--images", imgs, "--readout", fifo), rc: 1, want: []string{fifo, "not a regular file"}},
		{name: "8 train bad --out first", args: []string{"train", "--encoder", "none", "--target", "H", "--images", imgs, "--out", filepath.Join(aFile, "sub") + "/"},
			rc: 1, want: []string{"--out", aFile}, not: []string{"features:"}},
		{name: "8 train bad --test-images first", args: []string{"train", "--encoder", "none", "--target", "H", "--images", imgs, "--test-images", filepath.Join(dir, "nope"), "--out", filepath.Join(dir, "t8") + "/"},
			rc: 1, want: []string{"--test-images", "nope"}, not: []string{"features:"}},
		// 9. Messages.
		{name: "9 empty --images", args: eval("--images", ""), rc: 1, want: []string{"--images is empty"}},
		{name: "9 directory --readout", args: eval("--images", imgs, "--readout", ro), rc: 1, want: []string{ro, "is a directory"}},
		{name: "9 --target H,H", args: eval("--images", imgs, "--target", "H,H"), rc: 1, want: []string{"--target H,H", "twice"}},
		{name: "9 --target empty", args: eval("--images", imgs, "--target", ""), rc: 1, want: []string{"--target is empty"}},
		{name: "9 bench names encoder once", args: []string{"bench", "--encoder", "vgg16", "--size", fmt.Sprint(2 + r.IntN(10)), "--reps", "1", "--warmup", "0"}, rc: 1,
			want: []string{"vgg16: input"}, not: []string{"vgg16: vgg16"}},
		{name: "9 --threads -1", args: []string{"bench", "--threads", "-1"}, rc: 1, want: []string{"--threads -1"}},
		{name: "9 --lr 0", args: []string{"train", "--encoder", "none", "--images", imgs, "--out", "x", "--lr", "0"}, rc: 1, want: []string{"--lr 0", "above 0"}},
		{name: "9 --lr NaN", args: []string{"train", "--encoder", "none", "--images", imgs, "--out", "x", "--lr", "NaN"}, rc: 1, want: []string{"--lr NaN"}},
		{name: "9 --epochs 0", args: []string{"train", "--encoder", "none", "--images", imgs, "--out", "x", "--epochs", "0"}, rc: 1, want: []string{"--epochs 0"}},
		{name: "9 --batch huge", args: []string{"train", "--encoder", "none", "--images", imgs, "--out", "x", "--batch", "99999999"}, rc: 1, want: []string{"--batch 99999999"}},
		{name: "9 --top 0", args: []string{"classify", "--encoder", "none", "--image", good, "--top", "0"}, rc: 1, want: []string{"--top 0"}},
		// 10. make test's first step on a machine it cannot set up.
		{name: "10 install-deps without root", args: nil, env: []string{"PATH=" + fake + ":" + os.Getenv("PATH")}, rc: 1,
			want: []string{"apt-get install -y --no-install-recommends libxrandr-dev"}, not: []string{"apt-get ran"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkHostile(t, bin, dir, script, c) })
	}
	checkHostileSignals(t, bin, dir, imgs, good, lr, r)
}

// checkHostile runs one hostile case: the exit code, one error line and no
// trace, the wanted words, and the peak memory.
func checkHostile(t *testing.T, bin, dir, script string, c hostileCase) {
	var res hostileRun
	if c.args == nil {
		res = runScript(t, script, c.env)
	} else {
		res = runHostile(t, bin, dir, c.env, c.args...)
	}
	all := res.stdout + res.stderr
	if res.rc != c.rc {
		t.Fatalf("exit code %d, want %d\n%s", res.rc, c.rc, all)
	}
	for _, bad := range []string{"panic:", "goroutine ", "fatal error", "runtime."} {
		if strings.Contains(all, bad) {
			t.Fatalf("trace in the output (%q):\n%s", bad, all)
		}
	}
	msg := strings.TrimSpace(res.stderr)
	if c.rc == 1 && c.args != nil {
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "posprobe: ") {
			t.Errorf("want one error line, got:\n%s", msg)
		}
	}
	for _, w := range c.want {
		if !strings.Contains(res.stderr, w) && !(c.rc == 0 && strings.Contains(res.stdout, w)) {
			t.Errorf("output lacks %q:\n%s", w, all)
		}
	}
	for _, n := range c.not {
		if strings.Contains(all, n) {
			t.Errorf("output holds %q:\n%s", n, all)
		}
	}
	if res.rss > hostileMaxRSS {
		t.Errorf("peak RSS %d MB, over %d MB", res.rss>>20, hostileMaxRSS>>20)
	}
	if c.then != nil {
		c.then(t)
	}
	t.Logf("rc %d in %.2f s, peak RSS %d MB", res.rc, res.took.Seconds(), res.rss>>20)
}

// checkHostileSignals: 8. SIGTERM and Ctrl-C leave no temporary file, and a
// checkpoint of an interrupted training records its recipe.
func checkHostileSignals(t *testing.T, bin, dir, imgs, good string, lr float64, r *rand.Rand) {
	// 8. SIGTERM at a random moment of features' writes leaves no temporary
	// file (checked below with the rest).
	for i := 0; i < 4; i++ {
		cmd := exec.Command(bin, "features", "--encoder", "none", "--size", "1024", "--image", good, "--out", filepath.Join(dir, "sigterm"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(r.IntN(200)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	// 8. A checkpoint of an interrupted training records its recipe.
	ck := filepath.Join(dir, "ck", "h.readout")
	cmd := exec.Command(bin, "train", "--encoder", "none", "--target", "H", "--epochs", "10000", "--batch", "3",
		"--lr", fmt.Sprint(lr), "--images", imgs, "--out", ck)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(hostileTimeout); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(ck); err == nil {
			break
		}
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if rd, err := loadReadoutFile(ck); err != nil {
		t.Errorf("checkpoint: %v", err)
	} else if tr := rd.Meta.Training; tr.EpochsDone < 1 || tr.EpochsDone >= 10000 || tr.LR != lr || tr.Batch != 3 || tr.Momentum != 0.9 || tr.WeightDecay != 1e-4 {
		t.Errorf("checkpoint's recipe: %+v", tr)
	}
	// No temporary file is left anywhere.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func runScript(t *testing.T, script string, env []string) hostileRun {
	t.Helper()
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := hostileRun{stdout: so.String(), stderr: se.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.rc = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}
