# posprobe — see README.md. `make serve` runs the demo, `make test` runs every test.
GO        ?= go
GOROOT    := $(shell $(GO) env GOROOT)
WASMEXEC  := $(GOROOT)/lib/wasm
PORT      ?= 8080
# brotli quality of site/dist's .br copies: 11 is smallest (~2 min of CPU for the modules)
BROTLI    ?= 11
# A count, not a duration: Go 1.26's fuzz coordinator can report its own -fuzztime
# deadline as a failure (golang/go#75804); 60000 calls take 3-8 s per parser here.
FUZZTIME  ?= 60000x
# Packages that never import ebiten: they run natively, and in node under wasm.
PURE_PKGS := ./core/... ./wasm/demo/... ./wasm/probe/...
FUZZERS   := FuzzReadNpy FuzzParsePth FuzzUnpickle FuzzParseSafetensors FuzzReadTFJS FuzzParse FuzzKerasTopology

.PHONY: all build deps test vet lint test-native test-wasm test-fuzz test-desktop test-e2e \
        site serve desktop reproduce reproduce-quick reproduce-beyond bench bench-compare weights clean

all: build

build:
	$(GO) build -o bin/posprobe ./cmd/posprobe

# ---- the demo -------------------------------------------------------------
# site/dist is a static folder that any static file server can serve: the
# page, app.wasm (the UI) and worker.wasm (inference in Web Workers) under
# content-hashed names, wasm_exec.js from the same GOROOT, the photo, our
# readouts and the committed SqueezeNet 1.1 weights, with .br/.gz copies.
site: build
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o build/wasm/app.wasm ./wasm
	GO="$(GO)" scripts/wasm-worker.sh build/wasm/worker.wasm # tensor without protobuf: 3.44 -> 1.58 MB brotli
	bin/posprobe site --out site/dist --modules build/wasm --goroot "$(GOROOT)" --brotli $(BROTLI)

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

test-wasm:
	PATH="$(WASMEXEC):$$PATH" GOOS=js GOARCH=wasm $(GO) test -count=1 -short $(PURE_PKGS)

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

test-e2e: site
	cd e2e && npm ci --no-audit --no-fund
	cd e2e && node drag.test.js
	cd e2e && node site.test.js

test: deps vet lint test-native test-wasm test-fuzz test-desktop test-e2e

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

bench-compare: build
	scripts/bench_compare.sh

# ---- weights ----------------------------------------------------------------
weights: build
	bin/posprobe weights list

clean:
	rm -rf bin site/dist build
