# posprobe — see README.md. `make serve` runs the demo, `make test` runs every test.
GO        ?= go
GOROOT    := $(shell $(GO) env GOROOT)
WASMEXEC  := $(GOROOT)/lib/wasm
PORT      ?= 8080
# Packages that never import ebiten: they run natively, and in node under wasm.
CORE_PKGS := ./core/... ./cmd/...

.PHONY: all build test vet test-native test-wasm fuzz clean

all: build

build:
	$(GO) build -o bin/posprobe ./cmd/posprobe

vet:
	$(GO) vet $(CORE_PKGS)
	GOOS=js GOARCH=wasm $(GO) vet ./core/...

test-native:
	$(GO) test -count=1 $(CORE_PKGS)

test-wasm:
	PATH="$(WASMEXEC):$$PATH" GOOS=js GOARCH=wasm $(GO) test -count=1 ./core/...

test: vet test-native test-wasm

clean:
	rm -rf bin site/dist build
