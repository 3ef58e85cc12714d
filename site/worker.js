// posprobe's inference worker: starts worker.wasm (the Go core) and queues
// the page's messages until the Go side takes them over. The first worker
// downloads and compiles the module, reporting progress, and hands the
// compiled module to the page for the others (worker.js?shared): one
// download, and one set of optimised code that all workers run.
"use strict";
importScripts("wasm_exec.js");
self.posprobeEarly = [];
let gotModule;
const sharedModule = new Promise(resolve => { gotModule = resolve; });
self.onmessage = e => {
  if (e.data && e.data.type === "module") gotModule(e.data.module);
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
      self.postMessage({ type: "boot", frac: got / total, msg: "Downloading the inference engine " + (got / 1e6).toFixed(1) + " / " + (total / 1e6).toFixed(1) + " MB" });
    }
  }
  return new Blob(chunks).arrayBuffer();
}

(async () => {
  try {
    const go = new Go();
    let module;
    if (new URL(self.location.href).searchParams.has("shared")) {
      module = await sharedModule;
    } else {
      const bytes = await download("worker.wasm");
      self.postMessage({ type: "boot", frac: 1, msg: "Starting the inference engine" });
      module = await WebAssembly.compile(bytes);
      self.postMessage({ type: "module", module });
    }
    go.run(await WebAssembly.instantiate(module, go.importObject));
  } catch (e) {
    self.postMessage({ type: "fatal", error: String(e) });
  }
})();
