// Acceptance test of the demo (issue 4): open the served page, wait until
// the app is ready, drag the crop with real mouse events by a known offset,
// wait for the prediction of the new crop, and check that the crop moved by
// that offset and the predicted salient point moved with it (within 15% of
// the crop side). Uses the pretrained SqueezeNet (zero padding) when the site
// has its weights, else the random-init encoder, and says which.
"use strict";
const fs = require("fs");
const path = require("path");
const { serve, launch, state, waitFor, dragCrop, siteManifest, artifacts } = require("./lib");

const DX = 120, DY = 60; // photo pixels; the default crop stays inside the default photo

async function main() {
  const man = siteManifest();
  const pretrained = man.encoders && man.encoders["squeezenet1.1"];
  const model = process.env.POSPROBE_E2E_MODEL || (pretrained ? "sq-zero" : "sq-random");
  if (!pretrained && !process.env.POSPROBE_E2E_MODEL) console.log("NOTE: site built without pretrained weights (POSPROBE_DATA unset): testing the random-init encoder");
  fs.mkdirSync(artifacts, { recursive: true });

  const server = await serve();
  const browser = await launch();
  const { page, logs } = browser;
  let failed = false, passed = 0, nfailed = 0;
  try {
    const t0 = Date.now();
    await page.goto(server.url + "?model=" + model);
    const before = await waitFor(page, s => s.ready && s.resultCrop, "the first prediction");
    console.log(`ready after ${Date.now() - t0} ms: ${before.encoder} padding=${before.padding} init=${before.init}`);
    console.log("before:", JSON.stringify({ crop: before.crop, salient: before.salient, spc: before.spc, latencyMs: before.latencyMs }));
    await page.screenshot({ path: path.join(artifacts, "before.png") });
    if (!before.salient) throw new Error("no salient point before the drag (is there a G readout for " + model + "?)");

    await dragCrop(page, before, DX, DY);
    const want = { x: before.crop.x + DX, y: before.crop.y + DY };
    const after = await waitFor(page, s => s.predictions > before.predictions && s.resultCrop &&
      s.resultCrop.x === s.crop.x && s.resultCrop.y === s.crop.y && s.crop.x !== before.crop.x,
      "the prediction of the moved crop", 60000);
    await page.screenshot({ path: path.join(artifacts, "after.png") });
    console.log("after: ", JSON.stringify({ crop: after.crop, salient: after.salient, spc: after.spc, latencyMs: after.latencyMs }));

    const check = (ok, msg) => { console.log((ok ? "ok   " : "FAIL ") + msg); if (ok) passed++; else { failed = true; nfailed++; } };
    // Mouse positions are whole page pixels, so the crop lands within a
    // photo pixel or two of the asked offset.
    const tolCrop = 1.5 / (after.view.scale * 0.9);
    check(Math.abs(after.crop.x - want.x) <= tolCrop && Math.abs(after.crop.y - want.y) <= tolCrop,
      `crop moved by (${(after.crop.x - before.crop.x).toFixed(1)}, ${(after.crop.y - before.crop.y).toFixed(1)}), asked (${DX}, ${DY}), tolerance ${tolCrop.toFixed(2)} px`);
    check(after.crop.w === before.crop.w, `crop side unchanged (${after.crop.w})`);
    check(!!after.salient, "salient point after the drag");
    if (after.salient) {
      const mx = after.salient.x - before.salient.x, my = after.salient.y - before.salient.y;
      const cdx = after.crop.x - before.crop.x, cdy = after.crop.y - before.crop.y;
      const err = Math.hypot(mx - cdx, my - cdy), tol = 0.15 * after.crop.w;
      check(err <= tol, `salient moved by (${mx.toFixed(1)}, ${my.toFixed(1)}) with the crop's (${cdx.toFixed(1)}, ${cdy.toFixed(1)}): off by ${err.toFixed(1)} px, tolerance ${tol.toFixed(1)} px (15% of the crop) [${model}]`);
    }
  } catch (e) {
    failed = true;
    nfailed++;
    console.log("FAIL " + e.message);
    await page.screenshot({ path: path.join(artifacts, "failure.png") }).catch(() => {});
  } finally {
    fs.writeFileSync(path.join(artifacts, "console.log"), logs.join("\n") + "\n");
    await browser.close();
    server.stop();
  }
  if (failed) {
    console.log("console log in " + path.join(artifacts, "console.log"));
  }
  console.log(`e2e: ${passed} passed, ${nfailed} failed`);
  if (failed) process.exit(1);
}

main().catch(e => { console.error(e); process.exit(1); });
