// posprobe's inference worker: downloads and starts worker.wasm (the Go
// core), reporting download progress to the page, and queues the page's
// messages until the Go side takes them over.
"use strict";
importScripts("wasm_exec.js");
self.posprobeEarly = [];
self.onmessage = e => self.posprobeEarly.push(e.data);

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
    const bytes = await download("worker.wasm");
    self.postMessage({ type: "boot", frac: 1, msg: "Starting the inference engine" });
    const { instance } = await WebAssembly.instantiate(bytes, go.importObject);
    go.run(instance);
  } catch (e) {
    self.postMessage({ type: "fatal", error: String(e) });
  }
})();
