// Shared helpers for the posprobe end-to-end scripts: a server for the built
// site, headless Debian Chromium through playwright-core (never a downloaded
// browser), and the app's coordinate mapping from window.posprobe.state().
"use strict";
const { chromium } = require("playwright-core");
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const net = require("net");

const root = path.resolve(__dirname, "..");
const siteDir = process.env.POSPROBE_SITE || path.join(root, "site", "dist");
const artifacts = path.join(__dirname, "artifacts");

const chromiumArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--enable-unsafe-swiftshader"];

// serve starts `posprobe serve` on a free port (or uses POSPROBE_URL) and
// resolves to {url, stop}.
function serve() {
  if (process.env.POSPROBE_URL) return Promise.resolve({ url: process.env.POSPROBE_URL, stop() {} });
  const bin = process.env.POSPROBE_BIN || path.join(root, "bin", "posprobe");
  const proc = spawn(bin, ["serve", "--dir", siteDir, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("posprobe serve printed no URL: " + out)), 15000);
    proc.on("error", e => reject(new Error(bin + ": " + e.message + " (build it: make build)")));
    proc.stdout.on("data", d => {
      out += d;
      const m = out.match(/http:\/\/\S+\//);
      if (m) { clearTimeout(timer); resolve({ url: m[0], stop: () => proc.kill() }); }
    });
  });
}

// serveStatic serves dir with `python3 -m http.server` on a free loopback
// port (any static host must do): resolves to {url, stop}.
async function serveStatic(dir = siteDir) {
  const port = await new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => { const p = srv.address().port; srv.close(() => resolve(p)); });
    srv.on("error", reject);
  });
  const proc = spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}/`;
  const t0 = Date.now();
  for (;;) {
    try {
      const r = await fetch(url + "site.json");
      if (r.ok) break;
    } catch (e) { /* not up yet */ }
    if (proc.exitCode !== null || Date.now() - t0 > 15000) { proc.kill(); throw new Error("python3 -m http.server did not start on " + url); }
    await new Promise(r => setTimeout(r, 100));
  }
  return { url, stop: () => proc.kill() };
}

// launch starts headless Chromium with a fresh profile. opts: a phone is
// {width: 390, height: 844, deviceScaleFactor: 2, hasTouch: true, isMobile: true}.
async function launch(width = 1400, height = 1300, opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "posprobe-e2e-"));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
    viewport: { width, height }, args: chromiumArgs, ...opts,
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const logs = [];
  page.on("console", m => logs.push(m.text()));
  page.on("pageerror", e => logs.push("PAGE ERROR " + e.message));
  return { ctx, page, logs, dir, close: async () => { await ctx.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

// cpuSnapshot reads the CPU time (ms, user + system) of every thread of the
// Chromium launched with profile dir (Linux /proc), grouped as "process
// type/thread kind": the browser, the GPU process (SwiftShader and the
// display compositor), the renderer's main thread, its compositor, the
// inference workers and V8's background threads. cpuDelta subtracts two.
function cpuSnapshot(dir) {
  const tick = 1000 / 100; // USER_HZ
  const procs = {};
  for (const pid of fs.readdirSync("/proc").filter(d => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      procs[pid] = { ppid: stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1], cmd: fs.readFileSync(`/proc/${pid}/cmdline`, "utf8") };
    } catch (e) { /* gone */ }
  }
  const root = Object.keys(procs).find(p => procs[p].cmd.includes("--user-data-dir=" + dir) && !procs[p].cmd.includes("--type="));
  const out = {};
  if (!root) return out;
  const ours = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, v] of Object.entries(procs)) if (!ours.has(p) && ours.has(v.ppid)) { ours.add(p); grew = true; }
  }
  const cpu = stat => { const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); return (+f[11] + +f[12]) * tick; };
  for (const pid of ours) {
    const m = procs[pid].cmd.match(/--type=([a-z-]+)/), type = m ? m[1] : "browser";
    let total;
    try { total = cpu(fs.readFileSync(`/proc/${pid}/stat`, "utf8")); } catch (e) { continue; }
    // The process's total counts its exited threads too; a renderer's time
    // not in a named live thread is "other".
    out[type] = (out[type] || 0) + total;
    if (type !== "renderer") continue;
    let named = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const kind = comm === "chromium" || comm === "CrRendererMain" ? "main" : /DedicatedWorker/.test(comm) ? "workers" :
          /Compositor/.test(comm) ? "compositor" : /ThreadPool|V8/.test(comm) ? "v8+pool" : "";
        if (!kind) continue;
        const t = cpu(stat);
        out["renderer/" + kind] = (out["renderer/" + kind] || 0) + t;
        named += t;
      } catch (e) { /* gone */ }
    }
    out["renderer/other"] = (out["renderer/other"] || 0) + total - named;
  }
  return out;
}

function cpuDelta(a, b) {
  const d = {};
  for (const k of Object.keys(b)) d[k] = b[k] - (a[k] || 0);
  return d;
}

const state = page => page.evaluate(() => window.posprobe.state());

// waitFor polls state until pred(state) holds.
async function waitFor(page, pred, what, timeoutMs = 120000) {
  const t0 = Date.now();
  let s;
  for (;;) {
    s = await state(page).catch(() => null);
    if (s && pred(s)) return s;
    if (Date.now() - t0 > timeoutMs) throw new Error("timed out waiting for " + what + "; last state " + JSON.stringify(s));
    await page.waitForTimeout(50);
  }
}

// toPage maps a photo pixel to page coordinates: photo -> logical screen
// (the app's view) -> the frame's canvas, which ebiten letterboxes.
async function toPage(page, s, x, y) {
  const box = await page.locator("#app").boundingBox();
  const v = s.view;
  const k = Math.min(box.width / v.screenW, box.height / v.screenH);
  const mx = (box.width - k * v.screenW) / 2, my = (box.height - k * v.screenH) / 2;
  return { x: box.x + mx + k * (v.offX + x * v.scale), y: box.y + my + k * (v.offY + y * v.scale), k };
}

// dragCrop drags the crop from its centre by (dx, dy) photo pixels with real
// mouse events, in steps spanning several frames. The app samples the
// pointer once per frame, and a frame can take a few hundred ms while a
// prediction runs, so it waits for the app to see the press before moving
// (else the grab point lands a step late) and for the crop to arrive before
// releasing.
async function dragCrop(page, s, dx, dy, steps = 20) {
  const c = s.crop;
  const a = await toPage(page, s, c.x + c.w / 2, c.y + c.h / 2);
  const b = await toPage(page, s, c.x + c.w / 2 + dx, c.y + c.h / 2 + dy);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await waitFor(page, t => t.drag === "move", "the app to see the press", 30000);
  await page.mouse.move(b.x, b.y, { steps });
  const moved = t => Math.abs(t.crop.x - (c.x + dx)) < 4 && Math.abs(t.crop.y - (c.y + dy)) < 4;
  await waitFor(page, moved, "the crop to follow the pointer", 30000).catch(() => {});
  await page.mouse.up();
  await waitFor(page, t => t.drag === "none", "the app to see the release", 30000);
}

// dragCircle moves the pressed mouse around a circle of radius 40 photo
// pixels from a (k page px to a photo px), as fast as the browser takes the
// events, until ms have passed since t0; i counts the steps (the angle goes
// on from it). Returns the next i.
async function dragCircle(page, a, k, i, ms, t0 = Date.now()) {
  for (; Date.now() - t0 < ms; i++) {
    const ang = i * 0.12;
    await page.mouse.move(a.x + k * 40 * Math.sin(ang), a.y + k * 40 * (1 - Math.cos(ang)));
  }
  return i;
}

// siteManifest reads the built site's site.json.
function siteManifest() {
  return JSON.parse(fs.readFileSync(path.join(siteDir, "site.json"), "utf8"));
}

module.exports = { cpuSnapshot, cpuDelta, dragCircle, serve, serveStatic, launch, state, waitFor, toPage, dragCrop, siteManifest, siteDir, artifacts };
