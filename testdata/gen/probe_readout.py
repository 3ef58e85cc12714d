#!/usr/bin/python3
"""Fixture for core/readout: the official readout in PyTorch, two SGD steps.

    /usr/bin/python3 testdata/gen/probe_readout.py   (from the repository root)
Writes testdata/probe/readout_steps.json. Model as the official decoder:
[depth-1 x Conv(C,C,k,pad)-BN(C)-ReLU] -> Conv(C,1,k,pad) -> BN(1) -> sigmoid
-> interpolate(out, bilinear, align_corners=False); loss F.mse_loss (mean);
SGD(lr, momentum 0.9, weight_decay 1e-4) on every parameter.
"""
import json
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(5)
cases = []
for (C, S, OUT, k, pad, depth, B) in [(4, 8, 16, 3, 0, 1, 5), (3, 7, 12, 3, 1, 2, 4), (2, 6, 9, 1, 0, 1, 3)]:
    layers = []
    for i in range(depth - 1):
        layers += [nn.Conv2d(C, C, k, padding=pad), nn.BatchNorm2d(C), nn.ReLU()]
    layers += [nn.Conv2d(C, 1, k, padding=pad), nn.BatchNorm2d(1)]
    net = nn.Sequential(*layers)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
            nn.init.uniform_(m.bias, -0.1, 0.1)  # non-zero so the bias path is tested
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.2, 0.2)
    def params():
        out = []
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                out += [m.weight, m.bias]
            if isinstance(m, nn.BatchNorm2d):
                out += [m.weight, m.bias]
        return out
    def flat(ts):
        return [t.detach().reshape(-1).tolist() for t in ts]
    def stats():
        return [[m.running_mean.tolist(), m.running_var.tolist()] for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    feats = torch.randn(B, C, S, S)
    target = torch.rand(OUT, OUT)
    case = dict(C=C, size=S, out=OUT, kernel=k, pad=pad, depth=depth, batch=B,
                features=feats.reshape(-1).tolist(), target=target.reshape(-1).tolist(),
                init=flat(params()), steps=[])
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    net.train()
    for step in range(2):
        opt.zero_grad()
        y = torch.sigmoid(net(feats))
        y = F.interpolate(y, size=(OUT, OUT), mode="bilinear", align_corners=False)
        loss = F.mse_loss(y, target.expand(B, 1, OUT, OUT))
        loss.backward()
        grads = [p.grad.clone() for p in params()]
        opt.step()
        case["steps"].append(dict(loss=loss.item(), grads=flat(grads), after=flat(params()), stats=stats()))
    net.eval()
    with torch.no_grad():
        p = F.interpolate(torch.sigmoid(net(feats[:1])), size=(OUT, OUT), mode="bilinear", align_corners=False)
    case["eval_pred0"] = p.reshape(-1).tolist()
    cases.append(case)
json.dump(cases, open("testdata/probe/readout_steps.json", "w"))
