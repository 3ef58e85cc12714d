// Measures the demo's cold start: time from navigation to the first
// prediction on screen, and the bytes transferred until then, per server:
//   posprobe  `posprobe serve` (sends precompressed .br/.gz where the site has them)
//   python    `python3 -m http.server` (no compression)
// Each load is a fresh browser profile (cold cache). Reports each load, the
// median, and per file the transferred (encoded) and raw bytes of the median
// load; writes artifacts/measure-load.json. The bytes are those of the whole
// default experience: after the first prediction the script waits until the
// network has been quiet for 2 s, so the other inference workers' model loads
// (which start after the first prediction) count too.
//   node measure-load.js                       5 loads on each server
//   POSPROBE_LOAD_RUNS=3 POSPROBE_LOAD_SERVERS=python node measure-load.js
//   POSPROBE_LOAD_VIEWPORT=390x844             a phone-sized window
//   POSPROBE_LOAD_QUERY='?workers=1'           appended to the site's URL
"use strict";
const fs = require("fs");
const path = require("path");
const { serve, serveStatic, launch, siteDir, artifacts } = require("./lib");

const RUNS = +(process.env.POSPROBE_LOAD_RUNS || 5);
const SERVERS = (process.env.POSPROBE_LOAD_SERVERS || "posprobe,python").split(",");
const [VW, VH] = (process.env.POSPROBE_LOAD_VIEWPORT || "1280x800").split("x").map(Number);

// The app (site/app.html) records when the first prediction is ready and
// the frame after it is drawn: window.posprobeReadyAt, epoch ms.
async function oneLoad(url) {
  const b = await launch(VW, VH);
  const { page, ctx } = b;
  const files = [];
  // Bytes on the wire per response (see encodedSize for responses cut at
// their end without a Content-Length). The page's and the frame's requests
  // (the modules among them) come from CDP's Network domain: the encoded
  // bytes of every chunk, which also counts streams whose readers stop at
  // the end of the data (compileStreaming: Chromium reports those as
  // aborted). The workers' requests (weights, readouts) are not in the
  // page's CDP session: Playwright's events give their sizes.
  const cdpBytes = new Map(), cdpURL = new Map();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Network.enable");
  const header = (h, k) => h[k] || h[k.toLowerCase()] || h[k.replace(/(^|-)./g, c => c.toUpperCase())] || "";
  cdp.on("Network.responseReceived", e => {
    const h = e.response.headers;
    cdpURL.set(e.requestId, { url: e.response.url, encoding: header(h, "content-encoding"), status: e.response.status,
      length: +header(h, "content-length") || 0 });
  });
  let lastNet = Date.now();
  cdp.on("Network.requestWillBeSent", () => { lastNet = Date.now(); });
  cdp.on("Network.dataReceived", e => { lastNet = Date.now(); cdpBytes.set(e.requestId, (cdpBytes.get(e.requestId) || 0) + e.encodedDataLength); });
  // A finished load's encodedDataLength is exact (headers and body); a load
  // cut at the end of its data counts Content-Length (its encoded size).
  const cdpTotal = new Map();
  cdp.on("Network.loadingFinished", e => cdpTotal.set(e.requestId, e.encodedDataLength));
  cdp.on("Network.loadingFailed", e => {
    const r = cdpURL.get(e.requestId);
    cdpTotal.set(e.requestId, Math.max(cdpBytes.get(e.requestId) || 0, r ? r.length || encodedSize(r.url, r.encoding) : 0));
  });
  // Go's fetch-based reads in the workers also end as "aborted" at times:
  // there Content-Length (the encoded size, when the server sends it)
  // stands in, as the app read every byte.
  const record = async (req, failed) => {
    const resp = await req.response().catch(() => null);
    if (!resp) return;
    const h = await resp.allHeaders();
    const sizes = failed ? null : await req.sizes().catch(() => null);
    const enc = h["content-encoding"] || "";
    files.push({ url: req.url(), status: resp.status(), encoding: enc, worker: true,
      // A response from the HTTP cache reports sizes below 0: nothing came over the network.
      body: sizes ? Math.max(0, sizes.responseBodySize) : +(h["content-length"] || 0) || encodedSize(req.url(), enc), headers: sizes ? Math.max(0, sizes.responseHeadersSize) : 0 });
  };
  ctx.on("request", () => { lastNet = Date.now(); });
  ctx.on("requestfinished", req => { lastNet = Date.now(); record(req, false); });
  ctx.on("requestfailed", req => record(req, true));
  try {
    await page.goto(url + (process.env.POSPROBE_LOAD_QUERY || ""), { waitUntil: "commit" });
    // A site whose app.html predates posprobeReadyAt: the first poll that
    // sees a prediction (50 ms polls).
    const frame = await page.waitForFunction(() => {
      const f = document.getElementById("app"), w = f && f.contentWindow;
      if (w && w.posprobeReadyAt) return w.posprobeReadyAt;
      const s = w && w.posprobe && w.posprobe.state();
      return s && s.ready && s.resultCrop && !("share" in s) ? performance.timeOrigin + performance.now() : 0;
    }, null, { timeout: 180000, polling: 50 });
    const readyAt = await frame.jsonValue();
    const nav = await page.evaluate(() => performance.timeOrigin);
    const state = await page.evaluate(() => window.posprobe.state());
    // The rest of the default experience: until the network is quiet.
    for (const t0 = Date.now(); Date.now() - lastNet < 2000 && Date.now() - t0 < 30000;) await page.waitForTimeout(100);
    // Playwright reports the page's requests too: drop one of its records
    // per request CDP saw; what is left came from the workers.
    for (const [id, r] of cdpURL) {
      const i = files.findIndex(f => f.worker && f.url === r.url);
      if (i >= 0) files.splice(i, 1);
      files.push({ url: r.url, status: r.status, encoding: r.encoding, body: cdpTotal.has(id) ? cdpTotal.get(id) : (cdpBytes.get(id) || 0), headers: 0 });
    }
    return { ms: Math.round(readyAt - nav), encoder: state.encoder, init: state.init, files: files.slice() };
  } finally {
    await b.close();
  }
}

// encodedSize: the size of the copy a server sends for an encoding, from
// site.json's files (gz, br) or the file itself, for a response cut at
// its end that carried no Content-Length.
function encodedSize(u, encoding) {
  const p = decodeURIComponent(new URL(u).pathname).replace(/^\/+/, "");
  let files = {};
  try { files = JSON.parse(fs.readFileSync(path.join(siteDir, "site.json"), "utf8")).files || {}; } catch (e) { /* none */ }
  const f = Object.values(files).find(f => f.path === p);
  if (f && encoding === "br" && f.br) return f.br;
  if (f && encoding === "gzip" && f.gz) return f.gz;
  return rawSize(u);
}

function rawSize(u) {
  const p = decodeURIComponent(new URL(u).pathname).replace(/^\/+/, "") || "index.html";
  try { return fs.statSync(path.join(siteDir, p)).size; } catch (e) { return 0; }
}

async function measure(name) {
  const server = name === "python" ? await serveStatic() : await serve();
  const loads = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const r = await oneLoad(server.url);
      r.transferred = r.files.reduce((a, f) => a + f.body + f.headers, 0);
      r.raw = r.files.reduce((a, f) => a + rawSize(f.url), 0);
      loads.push(r);
      console.log(`${name} load ${i + 1}: first prediction after ${r.ms} ms (${r.encoder}, ${r.init}); ${(r.transferred / 1e6).toFixed(2)} MB transferred, ${(r.raw / 1e6).toFixed(2)} MB raw, ${r.files.length} requests`);
    }
  } finally {
    server.stop();
  }
  const sorted = loads.map(l => l.ms).sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  const mid = loads.find(l => l.ms === median);
  console.log(`${name}: median first prediction ${median} ms over ${RUNS} cold loads (${sorted.join(", ")}); transferred ${(mid.transferred / 1e6).toFixed(2)} MB, raw ${(mid.raw / 1e6).toFixed(2)} MB`);
  for (const f of mid.files.filter(f => f.body > 20000).sort((a, b) => b.body - a.body)) {
    console.log(`    ${new URL(f.url).pathname.padEnd(48)} ${f.encoding.padEnd(3) || "-  "} ${(f.body / 1e6).toFixed(2).padStart(6)} MB sent, ${(rawSize(f.url) / 1e6).toFixed(2).padStart(6)} MB raw`);
  }
  return { server: name, runs: RUNS, medianMs: median, ms: loads.map(l => l.ms), transferred: mid.transferred, raw: mid.raw,
    files: mid.files.map(f => ({ path: new URL(f.url).pathname, encoding: f.encoding, sent: f.body, raw: rawSize(f.url) })) };
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const results = [];
  for (const s of SERVERS) results.push(await measure(s));
  fs.writeFileSync(path.join(artifacts, "measure-load.json"), JSON.stringify({ viewport: `${VW}x${VH}`, results }, null, 2) + "\n");
}

main().catch(e => { console.error(e); process.exit(1); });
