// posprobe's inference worker: runs worker.wasm (the Go core) and queues
// the page's messages until the Go side takes them over.
//
// worker.js?page: site/app.html's loader compiles worker.wasm while it
// downloads and posts {type: "module", module, wasmExec} to every worker it
// started: one download, and one set of optimised code that all workers run.
// Without ?page (workers the app starts itself), the first worker downloads
// and compiles the module and hands it to the page for the others
// (worker.js?shared).
"use strict";
self.posprobeEarly = [];
let gotModule;
const fromPage = new Promise(resolve => { gotModule = resolve; });
self.onmessage = e => {
  if (e.data && e.data.type === "module") gotModule(e.data);
  else self.posprobeEarly.push(e.data);
};

async function download(url) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(url + ": " + resp.status + " " + resp.statusText);
  const total = +resp.headers.get("Content-Length") || 0;
  if (!total || !resp.body) return resp.arrayBuffer();
  const reader = resp.body.getReader();
  const chunks = []; let got = 0, last = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value); got += value.length;
    if (got - last > 256 << 10 || got === total) {
      last = got;
      self.postMessage({ type: "boot", frac: Math.min(1, got / total), msg: "Downloading the inference engine " + (got / 1e6).toFixed(1) + " MB" });
    }
  }
  return new Blob(chunks).arrayBuffer();
}

// compileOwn is the path without the page's loader.
async function compileOwn() {
  let files = {};
  try { files = (await (await fetch("site.json", { cache: "no-cache" })).json()).files || {}; } catch (e) { /* plain names */ }
  const bytes = await download((files["worker.wasm"] && files["worker.wasm"].path) || "worker.wasm");
  self.postMessage({ type: "boot", frac: 1, msg: "Starting the inference engine" });
  const module = await WebAssembly.compile(bytes);
  self.postMessage({ type: "module", module });
  return { module, wasmExec: (files["wasm_exec.js"] && files["wasm_exec.js"].path) || "wasm_exec.js" };
}

(async () => {
  try {
    const q = new URL(self.location.href).searchParams;
    const { module, wasmExec } = q.has("page") || q.has("shared") ? await fromPage : await compileOwn();
    importScripts(wasmExec || "wasm_exec.js");
    const go = new Go();
    go.run(await WebAssembly.instantiate(module, go.importObject));
  } catch (e) {
    self.postMessage({ type: "fatal", error: String(e) });
  }
})();
