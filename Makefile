# posprobe — see README.md. `make serve` runs the demo, `make test` runs every test.
GO        ?= go
GOROOT    := $(shell $(GO) env GOROOT)
# The native build stays on the go.mod toolchain (Go 1.26); the WebAssembly
# builds (site, test-wasm, bench-wasm) use Go 1.27 with GOEXPERIMENT=simd for
# the SIMD128 kernels (WASM_SIMD=0 builds the scalar path). GOTOOLCHAIN makes
# the go command fetch that release from the module proxy once (~10 s).
WASM_TOOLCHAIN ?= go1.27.3
WASM_SIMD ?= 1
WASM_GO    = GOTOOLCHAIN=$(WASM_TOOLCHAIN) GOEXPERIMENT=$(if $(filter 1,$(WASM_SIMD)),simd,) GOOS=js GOARCH=wasm $(GO)
# wasm_exec.js and go_js_wasm_exec must come from the GOROOT that built the wasm
# (recursive variables: evaluated only by the targets that use them).
WASM_GOROOT = $(shell GOTOOLCHAIN=$(WASM_TOOLCHAIN) $(GO) env GOROOT)
WASMEXEC   = $(WASM_GOROOT)/lib/wasm
ENCODERS  ?= vgg16 resnet18 resnet50 squeezenet1.1 mobilenetv2
PORT      ?= 8080
# brotli quality of site/dist's .br copies: 11 is smallest (~2 min of CPU for the modules)
BROTLI    ?= 11
# A count, not a duration: Go 1.26's fuzz coordinator can report its own -fuzztime
# deadline as a failure (golang/go#75804); 60000 calls take 3-8 s per parser here.
FUZZTIME  ?= 60000x
# Packages that never import ebiten: they run natively, and in node under wasm.
PURE_PKGS := ./core/... ./wasm/demo/... ./wasm/probe/...
FUZZERS   := FuzzReadNpy FuzzParsePth FuzzUnpickle FuzzParseSafetensors FuzzReadTFJS FuzzParse FuzzKerasTopology

.PHONY: all build deps test vet lint test-native test-wasm test-wasm-scalar test-fuzz test-desktop test-e2e \
        site serve desktop reproduce reproduce-quick reproduce-beyond bench bench-wasm bench-compare weights clean

all: build

build:
	$(GO) build -o bin/posprobe ./cmd/posprobe

# ---- the demo -------------------------------------------------------------
# site/dist is a static folder that any static file server can serve: the
# page, app.wasm (the UI) and worker.wasm (inference in Web Workers) under
# content-hashed names, wasm_exec.js from the same GOROOT, the photo, our
# readouts and the committed SqueezeNet 1.1 weights, with .br/.gz copies.
site: build
	$(WASM_GO) build -trimpath -ldflags="-s -w" -o build/wasm/app.wasm ./wasm
	scripts/wasm-worker.sh build/wasm/worker.wasm $(WASM_GO) # tensor without protobuf: 3.62 -> 1.80 MB brotli
	bin/posprobe site --out site/dist --modules build/wasm --goroot "$(WASM_GOROOT)" --brotli $(BROTLI)

serve: site
	bin/posprobe serve --dir site/dist --port $(PORT)

desktop:
	CGO_ENABLED=1 $(GO) build -o bin/posprobe-desktop ./wasm

# ---- tests ------------------------------------------------------------------
# The Debian packages the tests need: installed when root (or passwordless
# sudo), else the exact apt-get line and a stop.
deps:
	scripts/install-deps.sh

vet:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./...
	$(WASM_GO) vet ./core/...

# gofmt, staticcheck (native and wasm builds; the version is pinned) and a
# go.mod/go.sum that `go mod tidy` would leave as they are.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofmt -l:"; echo "$$out"; exit 1; }
	GOBIN="$(CURDIR)/bin" $(GO) install $(STATICCHECK)
	bin/staticcheck ./...
	GOOS=js GOARCH=wasm bin/staticcheck ./...
	$(GO) mod tidy -diff

test-native:
	$(GO) test -count=1 $(PURE_PKGS) ./internal/... ./cmd/...

# The site's build (Go 1.27, SIMD), then the scalar path as Go 1.26 builds it.
test-wasm:
	PATH="$(WASMEXEC):$$PATH" $(WASM_GO) test -count=1 -short $(PURE_PKGS)

test-wasm-scalar:
	PATH="$(GOROOT)/lib/wasm:$$PATH" GOOS=js GOARCH=wasm $(GO) test -count=1 -short $(PURE_PKGS)

# Bounded fuzzing of every parser (seed corpora run in test-native too).
test-fuzz:
	@for f in $(FUZZERS); do \
	  echo "fuzz $$f, $(FUZZTIME) calls"; \
	  $(GO) test ./core/weights -run '^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) -parallel=1 || exit 1; \
	done
	$(GO) test ./core/readout -run '^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) -parallel=1
	$(GO) test ./core/imageio -run '^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) -parallel=1
	$(GO) test ./wasm/demo -run '^$$' -fuzz='^FuzzReadManifest$$' -fuzztime=$(FUZZTIME) -parallel=1
	$(GO) test ./core/onnx -run '^$$' -fuzz='^FuzzParseModel$$' -fuzztime=$(FUZZTIME) -parallel=1

test-desktop:
	CGO_ENABLED=1 $(GO) build -o bin/posprobe-desktop ./wasm
	scripts/desktop_smoke.sh bin/posprobe-desktop

# The browser tests need the site, not its smallest .br copies: quality 5
# takes seconds where 11 takes minutes on the modules.
test-e2e: BROTLI = 5
test-e2e: site
	cd e2e && npm ci --no-audit --no-fund
	cd e2e && node drag.test.js
	cd e2e && node site.test.js

test: deps vet lint test-native test-wasm test-wasm-scalar test-fuzz test-desktop test-e2e

# ---- the paper's tables -----------------------------------------------------
reproduce: build
	@test -n "$(POSPROBE_DATA)" || { echo "make reproduce: set POSPROBE_DATA (e.g. ../shared/data)"; exit 1; }
	bin/posprobe reproduce --data "$(POSPROBE_DATA)" --out results --readouts weights/readouts

reproduce-quick: build
	bin/posprobe reproduce --quick --data "$(POSPROBE_DATA)" --out build/reproduce-quick

# The follow-up studies (posprobe study): results/beyond.md and results/beyond/.
# Studies whose results/beyond/NAME.json has the same settings are reused;
# add STUDY_FLAGS=--rerun to train everything again.
reproduce-beyond: build
	@test -n "$(POSPROBE_DATA)" || { echo "make reproduce-beyond: set POSPROBE_DATA (e.g. ../shared/data)"; exit 1; }
	bin/posprobe study all --out results $(STUDY_FLAGS)

# ---- performance ------------------------------------------------------------
bench: build
	bin/posprobe bench --encoder all

# posprobe bench --json of the wasm build with the site's flags, in node, one
# JSON array per encoder (ENCODERS="..." picks them; WASM_SIMD=0: scalar).
# --recycle: the demo's worker hands each pass's taps back (wasm/probe), so
# a pass allocates nothing new; bench_compare.sh times both ways.
bench-wasm:
	@mkdir -p build
	$(WASM_GO) build -trimpath -ldflags="-s -w" -o build/posprobe.wasm ./cmd/posprobe
	@for e in $(ENCODERS); do \
	  "$(WASMEXEC)/go_js_wasm_exec" build/posprobe.wasm bench --encoder "$$e" --reps 3 --recycle --json || exit 1; \
	done

bench-compare: build
	WASM_TOOLCHAIN=$(WASM_TOOLCHAIN) scripts/bench_compare.sh

# ---- weights ----------------------------------------------------------------
weights: build
	bin/posprobe weights list

clean:
	rm -rf bin site/dist build
