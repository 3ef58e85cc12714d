#!/usr/bin/env bash
# Desktop smoke test: the native demo starts under Xvfb, draws (the screenshot
# is not blank), and follows a mouse drag injected with xdotool (the crop
# moves: visible in its log lines and in the second screenshot).
# Needs: xvfb-run (xvfb, xauth), xdotool, ImageMagick (/usr/bin/import,
# /usr/bin/convert, /usr/bin/compare). Artifacts go to build/desktop-smoke/.
# Usage: scripts/desktop_smoke.sh [binary]   (default: bin/posprobe-desktop, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/desktop-smoke
if [[ ${1:-} != --inner ]]; then
  BIN=${1:-bin/posprobe-desktop}
  mkdir -p "$OUT"
  if [[ ! -x $BIN ]]; then
    go build -o "$BIN" ./wasm
  fi
fi
for tool in xvfb-run xdotool /usr/bin/import /usr/bin/convert /usr/bin/compare; do
  command -v "$tool" >/dev/null || { echo "desktop_smoke: $tool is missing (apt-get install xvfb xauth xdotool imagemagick)"; exit 2; }
done

# The part that needs the display runs inside xvfb-run.
inner() {
  set -euo pipefail
  local log=$OUT/app.log
  "$BIN" -model "${POSPROBE_SMOKE_MODEL:-sq-random}" >"$log" 2>"$OUT/app.stderr" &
  APP_PID=$!
  trap 'kill $APP_PID 2>/dev/null || true' EXIT
  wait_for() { # pattern, seconds
    for _ in $(seq $(($2 * 10))); do grep -q "$1" "$log" && return 0; kill -0 $APP_PID 2>/dev/null || break; sleep 0.1; done
    echo "FAIL: no '$1' in the app log after $2 s"; cat "$log" "$OUT/app.stderr"; return 1
  }
  wait_for '^VIEW ' 60
  local win
  win=$(xdotool search --sync --name 'posprobe' | head -1)
  eval "$(xdotool getwindowgeometry --shell "$win")" # X Y WIDTH HEIGHT
  # The first frames take seconds on a loaded machine (software GL): poll
  # until the window shows something, 30 s at most.
  local sd=0
  for _ in $(seq 30); do
    sleep 1
    /usr/bin/import -window root "$OUT/before.png"
    sd=$(/usr/bin/convert "$OUT/before.png" -colorspace gray -format '%[fx:standard_deviation]' info:)
    awk -v s="$sd" 'BEGIN { exit !(s > 0.05) }' && break
  done
  echo "window $WIDTH x $HEIGHT at $X,$Y; screenshot grey std-dev $sd"
  awk -v s="$sd" 'BEGIN { exit !(s > 0.05) }' || { echo "FAIL: the window looks blank (std-dev $sd) after 30 s"; return 1; }

  # Photo pixel -> screen pixel, from the app's VIEW line and the window's scale.
  read -r offx offy scale sw sh < <(sed -n 's/^VIEW offx=\(.*\) offy=\(.*\) scale=\(.*\) screen=\(.*\)x\(.*\)$/\1 \2 \3 \4 \5/p' "$log" | tail -1)
  read -r cx cy cw < <(sed -n 's/^CROP init x=\(.*\) y=\(.*\) w=\(.*\) h=.*$/\1 \2 \3/p' "$log" | tail -1)
  local dx=100 dy=50 # photo pixels
  to_screen() { awk -v px="$1" -v py="$2" -v ox="$offx" -v oy="$offy" -v s="$scale" -v W="$WIDTH" -v H="$HEIGHT" -v sw="$sw" -v sh="$sh" -v X="$X" -v Y="$Y" \
    'BEGIN { k = W/sw < H/sh ? W/sw : H/sh; mx = (W - k*sw)/2; my = (H - k*sh)/2; printf "%d %d\n", X + mx + k*(ox + px*s), Y + my + k*(oy + py*s) }'; }
  read -r ax ay < <(to_screen $((cx + cw / 2)) $((cy + cw / 2)))
  read -r bx by < <(to_screen $((cx + cw / 2 + dx)) $((cy + cw / 2 + dy)))
  echo "drag from $ax,$ay to $bx,$by (photo offset $dx,$dy)"
  xdotool mousemove "$ax" "$ay"; sleep 0.2
  xdotool mousedown 1
  wait_for '^CROP dragstart' 10 # the app samples the pointer once per frame
  for i in $(seq 1 10); do
    xdotool mousemove $((ax + (bx - ax) * i / 10)) $((ay + (by - ay) * i / 10)); sleep 0.05
  done
  sleep 1; xdotool mouseup 1 # a frame must see the last position before the release
  wait_for '^CROP dragend' 10
  sleep 1
  /usr/bin/import -window root "$OUT/after.png"
  local line nx ny
  line=$(grep '^CROP dragend' "$log" | tail -1)
  nx=$(sed -n 's/.* x=\([0-9.-]*\) .*/\1/p' <<<"$line"); ny=$(sed -n 's/.* y=\([0-9.-]*\) .*/\1/p' <<<"$line")
  echo "log: $line"
  awk -v a="$nx" -v b="$((cx + dx))" -v c="$ny" -v d="$((cy + dy))" 'BEGIN { e = a-b; f = c-d; exit !(e*e <= 9 && f*f <= 9) }' ||
    { echo "FAIL: crop at $nx,$ny after the drag, want $((cx + dx)),$((cy + dy)) (+-3)"; return 1; }
  local diff
  diff=$(/usr/bin/compare -metric AE "$OUT/before.png" "$OUT/after.png" null: 2>&1 || true)
  echo "screenshots differ in $diff pixels"
  [[ ${diff%% *} -gt 1000 ]] || { echo "FAIL: the screen did not change after the drag"; return 1; }
  echo "PASS desktop smoke (screenshots and log in $OUT)"
}
if [[ ${1:-} == --inner ]]; then
  BIN=$2
  inner
else
  # xvfb-run goes through sh, which drops exported bash functions: re-enter.
  xvfb-run -a -s "-screen 0 1400x860x24" "$0" --inner "$BIN"
fi
