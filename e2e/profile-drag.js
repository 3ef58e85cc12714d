// Profiles the demo while the crop is dragged as in measure.js: a Chromium
// trace of every thread (where a frame's time goes: the page's wasm, the
// compositor, SwiftShader's GPU thread, the workers) and a sampling profile
// of the page's main thread. Prints the busiest threads and the heaviest
// functions; the trace goes to artifacts/drag-trace.json (load it in
// chrome://tracing or Perfetto).
// Before the drag it prints Chromium's CPU time per second with the page
// idle (POSPROBE_IDLE_MS, default 3000), and after it the CPU time per mouse
// move, by process and thread group (lib.js cpuSnapshot).
// Env: POSPROBE_MODELS (first is used, default sq-zero), POSPROBE_DRAG_MS,
// POSPROBE_TRACE=0 (CPU times only: no trace or profile, which cost CPU).
"use strict";
const fs = require("fs");
const path = require("path");
const { cpuSnapshot, cpuDelta, dragCircle, serve, launch, state, waitFor, toPage, artifacts } = require("./lib");

const DRAG_MS = +(process.env.POSPROBE_DRAG_MS || 6000);
const IDLE_MS = +(process.env.POSPROBE_IDLE_MS || 3000);
const TRACE = process.env.POSPROBE_TRACE !== "0";
const fmt = (cpu, n) => Object.entries(cpu).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${(v / n).toFixed(1)}`).join(", ");

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const key = (process.env.POSPROBE_MODELS || "sq-zero").split(",")[0];
  const server = await serve();
  const browser = await launch();
  const { page, ctx } = browser;
  try {
    await page.goto(server.url + "?model=" + key);
    const s0 = await waitFor(page, s => s.ready && s.resultCrop, "ready", 180000);
    const c = s0.crop, cx = c.x + c.w / 2, cy = c.y + c.h / 2;
    const a = await toPage(page, s0, cx, cy), k = (await toPage(page, s0, cx + 1, cy)).x - a.x;
    if (IDLE_MS > 0) {
      const c0 = cpuSnapshot(browser.dir);
      await page.waitForTimeout(IDLE_MS);
      console.log(`idle CPU ms per s: ${fmt(cpuDelta(c0, cpuSnapshot(browser.dir)), IDLE_MS / 1000)}`);
    }
    if (!TRACE) {
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      const p0 = (await state(page)).predictions, start = Date.now(), c0 = cpuSnapshot(browser.dir);
      const i = await dragCircle(page, a, k, 0, DRAG_MS, start);
      const cpu = cpuDelta(c0, cpuSnapshot(browser.dir)), p1 = (await state(page)).predictions;
      await page.mouse.up();
      console.log(`${i} mouse moves, ${p1 - p0} predictions in ${((Date.now() - start) / 1000).toFixed(2)} s`);
      console.log(`CPU ms per mouse move: ${fmt(cpu, i)}`);
      return;
    }
    const cdp = await ctx.newCDPSession(page);
    const events = [];
    cdp.on("Tracing.dataCollected", d => events.push(...d.value));
    const done = new Promise(r => cdp.once("Tracing.tracingComplete", r));
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
    await cdp.send("Tracing.start", { categories: "devtools.timeline,disabled-by-default-devtools.timeline,toplevel,v8,gpu,cc,viz", transferMode: "ReportEvents" });
    await cdp.send("Profiler.start");
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    const p0 = (await state(page)).predictions, start = Date.now();
    const i = await dragCircle(page, a, k, 0, DRAG_MS, start);
    const secs = (Date.now() - start) / 1000, p1 = (await state(page)).predictions;
    await page.mouse.up();
    const { profile } = await cdp.send("Profiler.stop");
    await cdp.send("Tracing.end");
    await done;
    fs.writeFileSync(path.join(artifacts, "drag-trace.json"), JSON.stringify({ traceEvents: events }));
    console.log(`${i} mouse moves, ${p1 - p0} predictions in ${secs.toFixed(2)} s`);

    // Busy time per thread: the sum of top-level task durations.
    const names = {}, busy = {}, top = {};
    for (const e of events) {
      const tid = e.pid + ":" + e.tid;
      if (e.ph === "M" && e.name === "thread_name") names[tid] = e.args.name;
      if (e.ph === "X" && e.dur && (e.name === "ThreadControllerImpl::RunTask" || e.name === "RunTask")) busy[tid] = (busy[tid] || 0) + e.dur;
      if (e.ph === "X" && e.dur) { const key2 = (names[tid] || tid) + " | " + e.name; top[key2] = (top[key2] || 0) + e.dur; }
    }
    console.log("\nthread busy time (ms over the drag, RunTask sums):");
    for (const [t, d] of Object.entries(busy).sort((x, y) => y[1] - x[1]).slice(0, 12)) console.log(`  ${(d / 1000).toFixed(0).padStart(6)}  ${names[t] || t}`);
    console.log("\nevents by total duration (ms; nested events counted in their parents too):");
    for (const [n, d] of Object.entries(top).sort((x, y) => y[1] - x[1]).slice(0, 40)) console.log(`  ${(d / 1000).toFixed(0).padStart(6)}  ${n}`);

    // Self time per function on the page's main thread.
    const self = {}, byId = {};
    for (const n of profile.nodes) byId[n.id] = n;
    const dt = profile.timeDeltas;
    profile.samples.forEach((id, j) => {
      const f = byId[id].callFrame, nm = (f.functionName || "(anon)") + " " + path.basename(f.url || "");
      self[nm] = (self[nm] || 0) + (dt[j] || 0);
    });
    const total = Object.values(self).reduce((x, y) => x + y, 0);
    console.log("\nmain thread self time (ms, sampled):");
    for (const [n, d] of Object.entries(self).sort((x, y) => y[1] - x[1]).slice(0, 30)) console.log(`  ${(d / 1000).toFixed(0).padStart(6)} ${(100 * d / total).toFixed(1).padStart(5)}%  ${n}`);
    fs.writeFileSync(path.join(artifacts, "drag-profile.cpuprofile"), JSON.stringify(profile));
  } finally {
    await browser.close();
    server.stop();
  }
}

main().catch(e => { console.error(e); process.exit(1); });
