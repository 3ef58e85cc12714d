#!/usr/bin/env python3
"""Writes torch_grads.json: a small conv-ReLU x3 / global-max-pool / linear
network in PyTorch for each convolution kind of the red/green study, with the
mean cross-entropy, its gradients and the parameters after one Adadelta step.
Run: /usr/bin/python3 gen_torch.py > torch_grads.json"""
import json
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)
KINDS = {"valid": (0, "zeros"), "same-zero": (1, "zeros"), "same-circular": (1, "circular"),
         "circular-pad2": (2, "circular"), "full": (2, "zeros")}
LAYERS = [(4, 1), (5, 2), (6, 2)]
IN_C, SIZE, CLASSES, N = 3, 11, 2, 3

cases = []
for name, (pad, mode) in KINDS.items():
    convs, c = [], IN_C
    for oc, s in LAYERS:
        convs.append(nn.Conv2d(c, oc, 3, stride=s, padding=pad, bias=False, padding_mode=mode))
        c = oc
    fc = nn.Linear(c, CLASSES)
    x = torch.rand(N, IN_C, SIZE, SIZE)
    y = torch.tensor([0, 1, 1])
    h = x
    for cv in convs:
        h = F.relu(cv(h))
    logits = fc(F.adaptive_max_pool2d(h, 1).flatten(1))
    loss = F.cross_entropy(logits, y)
    params = [cv.weight for cv in convs] + [fc.weight, fc.bias]
    before = [p.detach().flatten().tolist() for p in params]
    loss.backward()
    grads = [p.grad.flatten().tolist() for p in params]
    opt = torch.optim.Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=5e-5)
    opt.step()
    cases.append({"conv": name, "pad": pad, "circular": mode == "circular",
                  "x": x.flatten().tolist(), "labels": y.tolist(), "params": before,
                  "loss": loss.item(), "grads": grads,
                  "after_step": [p.detach().flatten().tolist() for p in params]})
print(json.dumps({"in_c": IN_C, "size": SIZE, "classes": CLASSES, "layers": LAYERS,
                  "torch": torch.__version__, "cases": cases}))
