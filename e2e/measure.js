// Measures the demo in headless Chromium: page weight (gzip -9 of what the
// page fetches), and per model the load time, the per-prediction latency and
// the predictions per second while the crop is dragged continuously.
// Output: a table on stdout and artifacts/measure.json.
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const { cpuSnapshot, cpuDelta, dragCircle, serve, launch, state, waitFor, toPage, siteManifest, siteDir, artifacts } = require("./lib");

const DRAG_MS = +(process.env.POSPROBE_DRAG_MS || 6000);
// POSPROBE_WARM_MS: drag this long before the measured window, to measure
// the steady state after the browser has optimised the wasm code (V8 keeps
// compiling hot functions for ~15 s after the page is ready).
const WARM_MS = +(process.env.POSPROBE_WARM_MS || 0);

function pageWeight(man) {
  // Content-hashed names come from site.json's files where the site has them.
  const hashed = f => (man.files && man.files[f] && man.files[f].path) || f;
  const files = ["index.html", "app.html", "style.css", "wasm_exec.js", "worker.js", "app.wasm", "worker.wasm", "site.json", man.photo,
    ...Object.values(man.encoders || {}), ...(man.readouts || [])].map(hashed);
  const rows = files.map(f => {
    const b = fs.readFileSync(path.join(siteDir, f));
    return { file: f, bytes: b.length, gzip: zlib.gzipSync(b, { level: 9 }).length };
  });
  const sum = sel => rows.filter(sel).reduce((a, r) => ({ bytes: a.bytes + r.bytes, gzip: a.gzip + r.gzip }), { bytes: 0, gzip: 0 });
  return { rows, wasm: sum(r => r.file.endsWith(".wasm")), weights: sum(r => r.file.startsWith("weights/") || r.file.startsWith("readouts/")), total: sum(() => true) };
}

// perMove: Chromium's CPU time over the drag (cpuSnapshot's groups) per
// mouse move, in ms; "all" sums the processes, "all-workers" leaves out the
// inference workers (the page's own cost of a move).
function perMove(cpu, moves) {
  const all = ["browser", "gpu-process", "renderer", "utility"].reduce((a, k) => a + (cpu[k] || 0), 0);
  const r = { all, "all-workers": all - (cpu["renderer/workers"] || 0), ...cpu };
  for (const k of Object.keys(r)) r[k] = +(r[k] / Math.max(moves, 1)).toFixed(1);
  return r;
}

async function measureModel(url, key) {
  const browser = await launch();
  const { page, logs } = browser;
  try {
    const t0 = Date.now();
    await page.goto(url + "?model=" + key + (process.env.POSPROBE_WORKERS ? "&workers=" + process.env.POSPROBE_WORKERS : ""));
    const s0 = await waitFor(page, s => (s.ready && s.resultCrop) || (s.message && /missing|not found|no trained/i.test(s.message)), "ready", 180000);
    if (!s0.ready) return { model: key, missing: s0.message };
    const readyMs = Date.now() - t0;
    // Drag in a circle (radius 40 photo px) for DRAG_MS, as fast as the
    // browser takes mouse events; latencies come from the app's PRED log.
    const c = s0.crop, cx = c.x + c.w / 2, cy = c.y + c.h / 2;
    const a = await toPage(page, s0, cx, cy), k = (await toPage(page, s0, cx + 1, cy)).x - a.x;
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    let i = await dragCircle(page, a, k, 0, WARM_MS);
    const logStart = logs.length;
    const cpu0 = cpuSnapshot(browser.dir); // read outside the timed window
    const start = Date.now(), p0 = (await state(page)).predictions, i0 = i;
    i = await dragCircle(page, a, k, i, DRAG_MS, start);
    const moves = i - i0;
    const s1 = await state(page);
    const secs = (Date.now() - start) / 1000;
    const cpu = cpuDelta(cpu0, cpuSnapshot(browser.dir));
    await page.mouse.up();
    await page.screenshot({ path: path.join(artifacts, "measure-" + key + ".png") });
    const lat = [], shown = [];
    for (const l of logs.slice(logStart)) {
      const m = l.match(/^PRED .*latency=(\d+)ms wait=(\d+)ms shown=(\d+)ms/);
      if (m) { lat.push(+m[1]); shown.push(+m[3]); }
    }
    shown.sort((x, y) => x - y);
    lat.sort((x, y) => x - y);
    return {
      model: key, encoder: s1.encoder, padding: s1.padding, init: s1.init, readyMs, warmMs: WARM_MS,
      predictions: s1.predictions - p0, seconds: +secs.toFixed(2), perSecond: +((s1.predictions - p0) / secs).toFixed(2),
      latencyMedianMs: lat.length ? +lat[lat.length >> 1].toFixed(1) : null,
      latencyMinMs: lat.length ? +lat[0].toFixed(1) : null,
      shownMedianMs: shown.length ? shown[shown.length >> 1] : null, mouseMoves: moves,
      spc: s1.spc, cpuMsPerMove: perMove(cpu, moves),
    };
  } finally {
    await browser.close();
  }
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const man = siteManifest();
  const w = pageWeight(man);
  const mb = n => (n / 1e6).toFixed(2) + " MB";
  console.log(`page weight: app.wasm + worker.wasm ${mb(w.wasm.bytes)} (gzip ${mb(w.wasm.gzip)}); weights+readouts ${mb(w.weights.bytes)} (gzip ${mb(w.weights.gzip)}); all ${mb(w.total.bytes)} (gzip ${mb(w.total.gzip)})`);
  const server = await serve();
  const keys = (process.env.POSPROBE_MODELS || "sq-zero,sq-none,pixels,sq-random").split(",");
  const results = [];
  try {
    for (const k of keys) {
      const r = await measureModel(server.url, k);
      results.push(r);
      console.log(r.missing ? `${k}: not measured (${r.missing})` :
        `${k}: ready ${r.readyMs} ms; latency median ${r.latencyMedianMs} ms (min ${r.latencyMinMs}); ${r.perSecond} predictions/s while dragging (${r.predictions} in ${r.seconds} s, ${r.mouseMoves} mouse moves${r.warmMs ? ", after " + r.warmMs / 1000 + " s of warm-up dragging" : ""}); crop-to-screen median ${r.shownMedianMs} ms\n  CPU ms per mouse move: ${Object.entries(r.cpuMsPerMove).map(([k, v]) => k + " " + v).join(", ")}`);
    }
  } finally {
    server.stop();
  }
  fs.writeFileSync(path.join(artifacts, "measure.json"), JSON.stringify({ weight: w, results }, null, 2) + "\n");
}

main().catch(e => { console.error(e); process.exit(1); });
