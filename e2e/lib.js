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
  return { ctx, page, logs, close: async () => { await ctx.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
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

// siteManifest reads the built site's site.json.
function siteManifest() {
  return JSON.parse(fs.readFileSync(path.join(siteDir, "site.json"), "utf8"));
}

module.exports = { serve, serveStatic, launch, state, waitFor, toPage, dragCrop, siteManifest, siteDir, artifacts };
