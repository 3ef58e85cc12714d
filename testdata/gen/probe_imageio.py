#!/usr/bin/python3
"""Fixtures for core/imageio: small images and what PIL makes of them.

Run with Debian's /usr/bin/python3 (Pillow 9.4) from the repository root:
    /usr/bin/python3 testdata/gen/probe_imageio.py
Writes testdata/probe/imageio_*.{png,jpg,rgb}; .rgb files are raw uint8 RGB.
"""
import numpy as np
from PIL import Image

out = "testdata/probe/"
rng = np.random.default_rng(7)

# 40x30 RGB PNG with structure (gradients + noise) so resizing matters.
y, x = np.mgrid[0:30, 0:40]
base = np.stack([x * 6, y * 8, (x + y) * 3], axis=-1).astype(np.float64)
pix = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
Image.fromarray(pix, "RGB").save(out + "imageio_rgb.png")
for s in (16, 64):
    r = Image.open(out + "imageio_rgb.png").convert("RGB").resize((s, s), Image.BILINEAR)
    open(out + "imageio_rgb_%d.rgb" % s, "wb").write(np.asarray(r).tobytes())

# RGBA PNG with partial alpha: convert("RGB") drops alpha without compositing.
a = rng.integers(0, 256, size=(12, 10, 4), dtype=np.uint8)
Image.fromarray(a, "RGBA").save(out + "imageio_rgba.png")
open(out + "imageio_rgba.rgb", "wb").write(np.asarray(Image.open(out + "imageio_rgba.png").convert("RGB")).tobytes())

# A JPEG: PIL (libjpeg) and Go decode it slightly differently; record PIL's.
Image.fromarray(pix, "RGB").save(out + "imageio_rgb.jpg", quality=90)
r = Image.open(out + "imageio_rgb.jpg").convert("RGB").resize((16, 16), Image.BILINEAR)
open(out + "imageio_jpg_16.rgb", "wb").write(np.asarray(r).tobytes())
