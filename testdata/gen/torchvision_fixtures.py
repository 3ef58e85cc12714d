#!/usr/bin/python3
"""Reference fixtures for core/encoder: real torchvision VGG16 / ResNet-18/50/152
modules at reduced width, their state_dicts (zip and legacy torch.save formats)
and the activations of every tap for a fixed input.

Run from the repository root with Debian's python (torch 1.13, torchvision 0.14):
    /usr/bin/python3 testdata/gen/torchvision_fixtures.py
Writes testdata/torchvision/ (manifest.json + .pth + .npy, float32). Taps larger
than MAX_VALUES are stored subsampled, t[:, :, ::step, ::step] (step in the manifest).

Conventions the Go code must share:
  input  x[n,c,h,w] = ((7c + 13h + 29w + 3n) mod 97) / 96   (no input files stored)
  taps   vgg16: relu1_2..relu5_3 (features 3,8,15,22,29, before pooling)
         resnet: stem (after relu, before maxpool), layer1..layer4
  padding "none": every conv gets padding 0 (pools unchanged); a residual
         block's shortcut is centre-cropped to the main path's size like
         torchvision's center_crop (offset round-half-even((H-h)/2)). Other modes set Conv2d.padding_mode.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models import resnet as tvr
from torchvision.models import vgg as tvv

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torchvision")
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def fixed_input(n, h, w):
    N, C, H, W = np.meshgrid(np.arange(n), np.arange(3), np.arange(h), np.arange(w), indexing="ij")
    k = (7 * C + 13 * H + 29 * W + 3 * N) % 97
    return torch.from_numpy((k / 96.0).astype(np.float32))


def randomise_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.0)


def set_padding(model, mode):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            if mode == "none":
                m.padding = (0, 0)
            elif mode != "zero":
                m.padding_mode = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}[mode]


# ---- VGG16 ---------------------------------------------------------------

def vgg16(width, classes, hidden):
    cfg = [v if v == "M" else v * width // 64 for v in tvv.cfgs["D"]]
    m = tvv.VGG(tvv.make_layers(cfg), num_classes=classes)
    # torchvision's VGG head is hard-wired to 512*7*7 -> 4096; scale it with the
    # features, keeping its keys (classifier.0/3/6) and init.
    c = cfg[-2]
    m.classifier = nn.Sequential(
        nn.Linear(c * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, classes))
    for l in m.classifier:
        if isinstance(l, nn.Linear):
            nn.init.normal_(l.weight, 0, 0.01)
            nn.init.constant_(l.bias, 0)
    with torch.no_grad():  # torchvision zeroes conv biases; make them matter
        for l in m.features:
            if isinstance(l, nn.Conv2d):
                l.bias.normal_(0, 0.1)
    return m


def vgg_taps(m, x):
    out, idx = [], {3, 8, 15, 22, 29}
    for i, l in enumerate(m.features):
        x = l(x)
        if i in idx:
            out.append(x)
        if i == 29:  # the last pool is not needed for the taps
            break
    return ["relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3"], out


# ---- ResNet --------------------------------------------------------------

class SmallResNet(tvr.ResNet):
    """torchvision ResNet with base width `width` instead of 64 (same keys)."""

    def __init__(self, block, layers, width, classes):
        self._w = width
        super().__init__(block, layers, num_classes=classes)
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.fc = nn.Linear(width * 8 * block.expansion, classes)
        nn.init.kaiming_normal_(self.conv1.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        if planes == 64:
            self.inplanes = self._w
        return super()._make_layer(block, planes * self._w // 64, blocks, stride, dilate)


def crop_to(x, h, w):
    H, W = x.shape[2], x.shape[3]
    t, l = int(round((H - h) / 2.0)), int(round((W - w) / 2.0))  # torchvision center_crop
    return x[:, :, t:t + h, l:l + w]


def block_forward(b, x):
    identity = x
    if isinstance(b, tvr.Bottleneck):
        out = b.relu(b.bn1(b.conv1(x)))
        out = b.relu(b.bn2(b.conv2(out)))
        out = b.bn3(b.conv3(out))
    else:
        out = b.relu(b.bn1(b.conv1(x)))
        out = b.bn2(b.conv2(out))
    if b.downsample is not None:
        identity = b.downsample(x)
    identity = crop_to(identity, out.shape[2], out.shape[3])
    return b.relu(out + identity)


def resnet_taps(m, x):
    x = m.relu(m.bn1(m.conv1(x)))
    out = [x]
    x = m.maxpool(x)
    for layer in (m.layer1, m.layer2, m.layer3, m.layer4):
        for b in layer:
            x = block_forward(b, x)
        out.append(x)
    return ["stem", "layer1", "layer2", "layer3", "layer4"], out


def resnet_logits(m, x):
    _, taps = resnet_taps(m, x)
    return m.fc(torch.flatten(F.adaptive_avg_pool2d(taps[-1], 1), 1))


# ---- writing -------------------------------------------------------------

def save_npy(name, t):
    np.save(os.path.join(OUT, name), t.detach().numpy().astype(np.float32))
    return name


MAX_VALUES = 8192  # per tap file; larger taps are stored on a strided grid


def save_tap(name, t):
    """Saves t[:, :, ::step, ::step] with the smallest step that fits MAX_VALUES."""
    step = 1
    while t[:, :, ::step, ::step].numel() > MAX_VALUES:
        step += 1
    save_npy(name, t[:, :, ::step, ::step])
    return name, step


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_grad_enabled(False)
    manifest = []
    nets = [
        # name, builder, width, both formats, cases (mode, size, normalize)
        ("vgg16", lambda: vgg16(4, 10, 8), 4, True,
         [("zero", 64, True), ("none", 196, False), ("reflect", 48, False)]),
        ("resnet18", lambda: SmallResNet(tvr.BasicBlock, [2, 2, 2, 2], 4, 10), 4, True,
         [("zero", 64, True), ("none", 0, False)]),
        ("resnet50", lambda: SmallResNet(tvr.Bottleneck, [3, 4, 6, 3], 4, 10), 4, True,
         [("zero", 64, True), ("none", 0, False)]),
        ("resnet152", lambda: SmallResNet(tvr.Bottleneck, [3, 8, 36, 3], 2, 10), 2, False,
         [("zero", 64, True)]),
    ]
    for seed, (name, build, width, legacy, cases) in enumerate(nets):
        torch.manual_seed(seed)
        m = build().eval()
        randomise_bn(m)
        sd = m.state_dict()
        files = {"zip": f"{name}.pth"}
        torch.save(sd, os.path.join(OUT, files["zip"]))
        if legacy:
            files["legacy"] = f"{name}_legacy.pth"
            torch.save(sd, os.path.join(OUT, files["legacy"]), _use_new_zipfile_serialization=False)
        entry = {"encoder": name, "width": width, "weights": files, "cases": []}
        taps_of = vgg_taps if name.startswith("vgg") else resnet_taps
        for mode, size, normalize in cases:
            mm = build().eval()
            mm.load_state_dict(sd)
            set_padding(mm, mode)
            if size == 0:  # smallest input whose taps are all non-empty
                size = 32
                while True:
                    try:
                        _, t = taps_of(mm, fixed_input(1, size, size))
                        if all(min(o.shape[2:]) > 0 for o in t):
                            break
                    except RuntimeError:
                        pass
                    size += 1
            x = fixed_input(1, size, size)
            xin = (x - MEAN) / STD if normalize else x
            names, taps = taps_of(mm, xin)
            case = {"padding": mode, "size": size, "normalize": normalize, "taps": []}
            for tn, t in zip(names, taps):
                f, step = save_tap(f"{name}_{mode}_{tn}.npy", t)
                case["taps"].append({"name": tn, "file": f, "shape": list(t.shape), "step": step})
            entry["cases"].append(case)
        # Classify: the model's own preprocessing on a 224 input.
        mm = build().eval()
        mm.load_state_dict(sd)
        x = (fixed_input(1, 224, 224) - MEAN) / STD
        logits = mm(x) if name.startswith("vgg") else resnet_logits(mm, x)
        assert torch.allclose(logits, mm(x), rtol=1e-4, atol=1e-5)  # our block_forward == torchvision's
        entry["logits"] = save_npy(f"{name}_logits.npy", logits)
        manifest.append(entry)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__, "nets": manifest}, f, indent=1)


if __name__ == "__main__":
    main()
