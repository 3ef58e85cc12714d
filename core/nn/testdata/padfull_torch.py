#!/usr/bin/env python3
"""Writes padfull_torch.json: F-Conv (F.pad by k-1 zeros, then F.conv2d) for
a few kernel sizes, strides and groups. Run: /usr/bin/python3 padfull_torch.py > padfull_torch.json"""
import json
import torch
import torch.nn.functional as F

torch.manual_seed(3)
cases = []
for k, s, g, cin, cout, h, w in [(3, 1, 1, 4, 5, 7, 6), (3, 2, 1, 4, 5, 9, 8), (5, 1, 1, 3, 2, 6, 6),
                                 (3, 1, 4, 4, 4, 5, 7), (3, 2, 2, 4, 6, 8, 8), (7, 2, 1, 3, 4, 12, 11), (3, 1, 1, 9, 4, 8, 7)]:
    x = torch.randn(2, cin, h, w)
    wt = torch.randn(cout, cin // g, k, k)
    b = torch.randn(cout)
    y = F.conv2d(F.pad(x, (k - 1,) * 4), wt, b, stride=s, groups=g)
    cases.append({"k": k, "stride": s, "groups": g, "in": cin, "out": cout, "h": h, "w": w,
                  "x": x.flatten().tolist(), "w_": wt.flatten().tolist(), "b": b.tolist(),
                  "y": y.flatten().tolist(), "shape": list(y.shape)})
print(json.dumps({"torch": torch.__version__, "cases": cases}))
