#!/usr/bin/env bash
# Builds worker.wasm (the demo's inference engine) into $1 against a
# build-only copy of gorgonia.org/tensor without its protobuf serialization
# (Dense.PBEncode/PBDecode, which posprobe never calls). That code links the
# protobuf runtime, whose reflect.Type.MethodByName calls make Go's linker
# keep every exported method of every reachable type (tensor.Dtype embeds
# reflect.Type): 27.6 MB of worker.wasm instead of 9.5 MB, 3.62 MB brotli
# instead of 1.80 (Go 1.27, SIMD). go.mod stays as it is: build/worker.mod replaces the
# module for this build only. If the copy cannot be made (the pinned
# version's file changed shape), it warns and builds with the module as is.
# The rest of the arguments are the go command, with its environment first:
#   scripts/wasm-worker.sh build/wasm/worker.wasm GOOS=js GOARCH=wasm go
set -euo pipefail
out=${1:?usage: scripts/wasm-worker.sh OUT.wasm [NAME=VALUE...] GO}
shift
[ $# -gt 0 ] || set -- GOOS=js GOARCH=wasm go
goargs=("$@")
go_() { env "${goargs[@]}" "$@"; }
build() { go_ build "$@" -trimpath -ldflags="-s -w" -o "$out" ./wasm/worker; }

lean() {
  local src dst=build/tensor-lean
  src=$(go_ list -m -f '{{.Dir}}' gorgonia.org/tensor) && [ -n "$src" ] || return 1
  rm -rf "$dst" && mkdir -p build && cp -R "$src" "$dst" && chmod -R u+w "$dst" || return 1
  # The protobuf section is the tail of dense_io.go, after this marker.
  grep -q '^/\* PB SERIALIZATION \*/' "$dst/dense_io.go" || return 1
  awk '/^\/\* PB SERIALIZATION \*\//{exit} {print}' "$src/dense_io.go" |
    grep -v '"gorgonia.org/tensor/internal/serialization/pb"' >"$dst/dense_io.go"
  # Nothing else may import it, or the protobuf runtime stays linked.
  ! grep -l 'serialization/pb"' "$dst"/*.go | grep -v '_test\.go$' >/dev/null || return 1
  cp go.mod build/worker.mod && cp go.sum build/worker.sum &&
    go_ mod edit -modfile=build/worker.mod -replace "gorgonia.org/tensor=$PWD/$dst"
}

if lean && build -modfile=build/worker.mod; then
  exit 0
fi
echo "scripts/wasm-worker.sh: warning: could not build against a tensor copy without protobuf; building with gorgonia.org/tensor as is (worker.wasm about 3.6 MB brotli instead of 1.8)" >&2
build
