#!/usr/bin/env bash
# Runs `posprobe bench` compiled to js/wasm inside headless Chromium (Debian's
# /usr/bin/chromium, driven by playwright-core from npm) and prints its table.
# Usage: scripts/bench_chromium.sh [bench flags...], e.g. --encoder squeezenet1.1 --reps 5
set -euo pipefail
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$TMP"' EXIT
mkdir "$TMP/web"
GOOS=js GOARCH=wasm go build -o "$TMP/web/posprobe.wasm" ./cmd/posprobe
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$TMP/web/"
ARGS=$(printf '%s\n' bench "$@" | /usr/bin/python3 -c 'import json,sys; print(json.dumps(["posprobe"] + sys.stdin.read().split()))')
cat >"$TMP/web/index.html" <<HTML
<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<script src="wasm_exec.js"></script>
<script>
window.lines = [];
const log = console.log;
console.log = (...a) => { window.lines.push(a.join(" ")); log(...a); };
const go = new Go();
go.argv = $ARGS;
fetch("posprobe.wasm").then(r => r.arrayBuffer()).then(b => WebAssembly.instantiate(b, go.importObject))
  .then(r => go.run(r.instance)).then(() => { window.done = true; })
  .catch(e => { window.lines.push("ERROR " + e); window.done = true; });
</script></body></html>
HTML
PORT=$((20000 + RANDOM % 20000))
/usr/bin/python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$TMP/web" >/dev/null 2>&1 &
SERVER=$!
(cd "$TMP" && npm init -y >/dev/null && npm install --no-audit --no-fund playwright-core@1.65.1 >/dev/null 2>&1)
cat >"$TMP/run.js" <<JS
const { chromium } = require('playwright-core');
const fs = require('fs'), os = require('os'), path = require('path');
(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-'));
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const page = ctx.pages()[0] || await ctx.newPage();
  await page.goto('http://127.0.0.1:$PORT/');
  await page.waitForFunction(() => window.done === true, null, { timeout: 0, polling: 500 });
  const lines = await page.evaluate(() => window.lines);
  console.log(lines.join('\n').replace('(js/wasm,', '(js/wasm in Chromium ' + ctx.browser().version() + ','));
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
})().catch(e => { console.error(e); process.exit(1); });
JS
for i in $(seq 50); do /usr/bin/python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/')" 2>/dev/null && break; sleep 0.1; done
node "$TMP/run.js"
