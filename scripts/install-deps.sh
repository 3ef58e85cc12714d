#!/usr/bin/env bash
# Installs the Debian packages `make test` needs (cgo headers for the desktop
# build and go vet, Xvfb for its smoke test, Chromium and node for the
# browser tests) when any is missing: as root, or through sudo without a
# password. Otherwise it stops at once with the exact apt-get line to run.
# `make test` and .ci/run both start here.
set -euo pipefail

pkgs=(gcc libc6-dev pkg-config make
  libgl1-mesa-dev libgl1-mesa-dri libx11-dev libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev
  xvfb xauth xdotool imagemagick chromium fonts-liberation)
# Commands that may come from outside Debian (nodesource, nvm): a command on
# PATH is enough.
declare -A cmd_pkgs=([node]=nodejs [npm]=npm)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: no dpkg-query: not a Debian system; install the equivalents of: ${pkgs[*]} nodejs npm" >&2
  exit 1
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for c in "${!cmd_pkgs[@]}"; do
  command -v "$c" >/dev/null 2>&1 || missing+=("${cmd_pkgs[$c]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "install-deps: missing Debian packages; as root run:" >&2
  echo "  apt-get update && $line" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
