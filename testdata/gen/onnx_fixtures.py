#!/usr/bin/python3
"""Exports small torchvision networks with random weights to ONNX, with
intermediate maps as graph outputs, plus PyTorch's values of every output on
one input image: the fixtures of core/onnx's tests (testdata/onnx/).

Run with Debian's python3-torch 1.13 / python3-torchvision 0.14:
    /usr/bin/python3 testdata/gen/onnx_fixtures.py [OUTDIR]

With --squeezenet WEIGHTS_DIR OUT.onnx it instead builds torchvision's
SqueezeNet 1.1, loads the shared ImageNet weights (the ONNX model zoo's
squeezenet0_convN .npy files, N = 0..25 in network order) and exports it
with the taps of the built-in encoder (conv1, fire3, fire5, fire7, fire9) and
the logits as outputs: the check that an ONNX export of a built-in
architecture probes like the built-in encoder (never committed).

With --sweep OUTDIR [NAMES...] it exports full-size torchvision classifiers
(random weights) with PyTorch's logits; POSPROBE_ONNX_FIXTURES=OUTDIR go test
-run TestFixtures ./core/onnx checks them (see sweep()).

Each case folder holds model.onnx, input.png (48x48 RGB: the Go side reads it
at --size 48, so no resizing happens) and ref/<output>.npy; cases.json lists
the cases. Widths are reduced so everything stays well under 1 MB. The
VGG-style net also has ref-nopad/: the same weights with every conv's padding
set to 0 (what --padding none must give). 'external' is the ResNet with its
weights in a separate data file (ONNX external data), written with the onnx
package when it is installed (Debian python3-onnx).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models import resnet as tvresnet
from torchvision.models import efficientnet as tveff

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "onnx")
SIZE = 48


def image():
    """A smooth random 48x48 RGB image (uint8) and its [0,1] tensor."""
    g = torch.Generator().manual_seed(7)
    low = torch.rand(1, 3, 8, 8, generator=g)
    x = nn.functional.interpolate(low, size=(SIZE, SIZE), mode="bicubic", align_corners=False)
    x = x + 0.15 * torch.rand(1, 3, SIZE, SIZE, generator=g)
    u8 = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    return u8, u8.float() / 255


def write_png(path, u8):
    """Minimal PNG writer (RGB, 8 bit, no filter): no PIL dependency."""
    import struct, zlib
    h, w = u8.shape[2], u8.shape[3]
    px = u8[0].permute(1, 2, 0).contiguous().numpy()
    raw = b"".join(b"\x00" + px[y].tobytes() for y in range(h))

    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def randomize_bn(model, seed):
    """Non-trivial BN statistics, so folding and BN itself are exercised."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = 0.5 + torch.rand(n, generator=g)
            m.bias.data = 0.2 * torch.randn(n, generator=g)
            m.running_mean.data = 0.2 * torch.randn(n, generator=g)
            m.running_var.data = 0.5 + torch.rand(n, generator=g)


class Taps(nn.Module):
    """Runs body (a list of (name, module)) and returns the named maps and
    the head's output."""

    def __init__(self, body, taps, head):
        super().__init__()
        self.names = [n for n, _ in body]
        self.body = nn.ModuleList([m for _, m in body])
        self.taps = taps
        self.head = head

    def forward(self, x):
        outs = []
        for n, m in zip(self.names, self.body):
            x = m(x)
            if n in self.taps:
                outs.append(x)
        outs.append(self.head(x))
        return tuple(outs)


def resnet():
    torch.manual_seed(1)
    m = tvresnet.ResNet(tvresnet.BasicBlock, [1, 1, 1, 1], num_classes=10)
    # torchvision's blocks at 1/16 width.
    m.inplanes = 4
    m.conv1 = nn.Conv2d(3, 4, 7, 2, 3, bias=False)
    m.bn1 = nn.BatchNorm2d(4)
    m.layer1 = m._make_layer(tvresnet.BasicBlock, 4, 1)
    m.layer2 = m._make_layer(tvresnet.BasicBlock, 8, 1, stride=2)
    m.layer3 = m._make_layer(tvresnet.BasicBlock, 16, 2, stride=2)
    m.layer4 = m._make_layer(tvresnet.BasicBlock, 32, 1, stride=2)
    m.fc = nn.Linear(32, 10)
    randomize_bn(m, 11)
    body = [("stem", nn.Sequential(m.conv1, m.bn1, m.relu)), ("pool", m.maxpool),
            ("layer1", m.layer1), ("layer2", m.layer2), ("layer3", m.layer3), ("layer4", m.layer4)]
    head = nn.Sequential(m.avgpool, nn.Flatten(1), m.fc)
    return Taps(body, {"stem", "layer1", "layer2", "layer3", "layer4"}, head), ["stem", "layer1", "layer2", "layer3", "layer4", "logits"]


def efficientnet():
    torch.manual_seed(2)
    setting, last = tveff._efficientnet_conf("efficientnet_b0", width_mult=0.1, depth_mult=0.3)
    m = tveff.EfficientNet(setting, 0.2, last_channel=last, num_classes=10)
    randomize_bn(m, 12)
    f = m.features
    body = [("f%d" % i, f[i]) for i in range(len(f))]
    head = nn.Sequential(m.avgpool, nn.Flatten(1), m.classifier)
    taps = {"f1", "f2", "f3", "f5", "f%d" % (len(f) - 1)}
    return Taps(body, taps, head), sorted(taps, key=lambda s: int(s[1:])) + ["logits"]


def mobilenetv3():
    torch.manual_seed(3)
    m = torchvision.models.mobilenet_v3_small(width_mult=0.1, num_classes=10)
    randomize_bn(m, 13)
    f = m.features[:9]  # up to the last block of stride 16: keeps the file small
    body = [("f%d" % i, f[i]) for i in range(len(f))]
    c = f[8].out_channels
    head = nn.Sequential(m.avgpool, nn.Flatten(1), nn.Linear(c, 16), nn.Hardswish(), nn.Linear(16, 10))
    taps = {"f0", "f1", "f3", "f8"}
    return Taps(body, taps, head), sorted(taps, key=lambda s: int(s[1:])) + ["probs"]


class ProbsHead(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, x):
        return torch.softmax(self.head(x), dim=1)


def mobilenetv2():
    torch.manual_seed(4)
    m = torchvision.models.mobilenet_v2(width_mult=0.1, num_classes=10)
    from torchvision.ops.misc import Conv2dNormActivation
    f = m.features[:12]  # up to stride 16: keeps the file small
    f.append(Conv2dNormActivation(f[11].out_channels, 48, kernel_size=1, activation_layer=nn.ReLU6))
    m.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(48, 10))
    randomize_bn(f, 14)
    body = [("f%d" % i, f[i]) for i in range(len(f))]
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1), m.classifier)
    taps = {"f1", "f3", "f6", "f12"}
    return Taps(body, taps, head), sorted(taps, key=lambda s: int(s[1:])) + ["logits"]


def vgg():
    torch.manual_seed(5)
    cfg = [4, 4, "M", 8, 8, "M", 16, 16, "M"]
    feats = torchvision.models.vgg.make_layers(cfg, batch_norm=False)
    m = torchvision.models.VGG(feats, num_classes=10, init_weights=True)
    # Non-zero biases, so that a constant border shows up.
    for c in m.modules():
        if isinstance(c, nn.Conv2d):
            nn.init.uniform_(c.bias, -0.1, 0.1)
    f = m.features
    body, taps, names = [], set(), []
    for i in range(len(f)):
        body.append(("f%d" % i, f[i]))
    # relu before each pool, and the last one
    for i in range(len(f)):
        if isinstance(f[i], nn.MaxPool2d):
            taps.add("f%d" % (i - 1))
    head = VGGHead(16, 10)
    names = sorted(taps, key=lambda s: int(s[1:]))
    return Taps(body, taps, head), names + ["logits"]


class VGGHead(nn.Module):
    """Mean over the map (ReduceMean), a BatchNorm that cannot fold into a
    conv, reshape(N, -1) (a Shape/Gather/Unsqueeze/Concat chain in ONNX) and a
    matmul (MatMul + Add)."""

    def __init__(self, c, k):
        super().__init__()
        self.bn = nn.BatchNorm2d(c)
        randomize_bn(self, 15)
        self.w = nn.Parameter(torch.randn(c, k) * 0.2)
        self.b = nn.Parameter(torch.randn(k) * 0.1)

    def forward(self, x):
        x = self.bn(x.mean((2, 3), keepdim=True))
        x = x.reshape(x.size(0), -1)
        return torch.matmul(x, self.w) + self.b


class Misc(nn.Module):
    """The operators the torchvision nets above do not emit: grouped and
    dilated convs with asymmetric strides, reflect Pad, AveragePool (ceil
    mode, padding excluded), MaxPool with ceil mode, LeakyRelu, Tanh,
    Sub/Div/Mul with broadcasting, Transpose, Squeeze/Unsqueeze, Concat of
    mismatched channel counts, Clip with bounds."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, stride=(1, 2), padding=(1, 2), dilation=(1, 2))
        self.c2 = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.c3 = nn.Conv2d(8, 6, 3, padding=2, dilation=2)
        self.c4 = nn.Conv2d(14, 8, 5, stride=2, padding=2, bias=False)
        self.scale = nn.Parameter(torch.rand(1, 8, 1, 1) + 0.5)

    def forward(self, x):
        a = nn.functional.leaky_relu(self.c1(x), 0.1)
        b = torch.tanh(self.c2(a))
        c = self.c3(nn.functional.pad(a, (1, 2, 0, 1), mode="reflect")[:, :, :-1, :-3].contiguous())
        y = torch.cat([b, c], 1)
        y = nn.functional.max_pool2d(y, 3, 2, ceil_mode=True)
        z = self.c4(nn.functional.pad(y, (1, 1, 1, 1), mode="replicate"))
        z = (z - z.mean(1, keepdim=True)) / self.scale
        z = torch.clamp(z, -1.5, 2.0) * 0.5
        p = nn.functional.avg_pool2d(z, 3, 2, padding=1, ceil_mode=True, count_include_pad=False)
        q = p.permute(0, 2, 3, 1).unsqueeze(1).squeeze(1).permute(0, 3, 1, 2)
        return a, y, z, q + 1


def misc():
    torch.manual_seed(6)
    return Misc(), ["a", "pooled", "z", "q"]


def export(name, model, names, opset, x, u8, extra=None):
    d = os.path.join(OUT, name)
    os.makedirs(os.path.join(d, "ref"), exist_ok=True)
    model.eval()
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(model, x, path, input_names=["image"], output_names=names, opset_version=opset,
                      do_constant_folding=True,
                      dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}})
    with torch.no_grad():
        outs = model(x)
    for n, o in zip(names, outs):
        np.save(os.path.join(d, "ref", n + ".npy"), o.numpy().astype(np.float32))
    write_png(os.path.join(d, "input.png"), u8)
    case = {"name": name, "model": name + "/model.onnx", "image": name + "/input.png", "size": SIZE,
            "opset": opset, "cases": [{"padding": "zero", "ref": name + "/ref"}]}
    if extra:
        extra(d, case)
    return case


def vgg_nopad(model, names, x):
    def extra(d, case):
        os.makedirs(os.path.join(d, "ref-nopad"), exist_ok=True)
        for c in model.modules():
            if isinstance(c, nn.Conv2d):
                c.padding = (0, 0)
        with torch.no_grad():
            outs = model(x)
        for n, o in zip(names, outs):
            np.save(os.path.join(d, "ref-nopad", n + ".npy"), o.numpy().astype(np.float32))
        case["cases"].append({"padding": "none", "ref": case["name"] + "/ref-nopad"})
    return extra


def external(src_case):
    """The VGG-style net again, with its initializers in weights.bin beside it."""
    try:
        import onnx
    except ImportError:
        print("onnx package missing: no external-data fixture", file=sys.stderr)
        return None
    src = os.path.join(OUT, src_case["name"])
    d = os.path.join(OUT, "external")
    os.makedirs(d, exist_ok=True)
    m = onnx.load(os.path.join(src, "model.onnx"))
    onnx.save_model(m, os.path.join(d, "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=64)
    onnx.checker.check_model(os.path.join(d, "model.onnx"))
    case = dict(src_case)
    case["name"] = "external"
    case["model"] = "external/model.onnx"
    return case


def main():
    torch.set_grad_enabled(False)
    u8, x = image()
    cases = []
    m, n = resnet()
    cases.append(export("resnet", m, n, 13, x, u8))
    m, n = efficientnet()
    cases.append(export("efficientnet", m, n, 13, x, u8))
    m, n = mobilenetv3()
    cases.append(export("mobilenetv3", ProbsHeadWrap(m), n, 17, x, u8))
    m, n = mobilenetv2()
    cases.append(export("mobilenetv2", m, n, 11, x, u8))
    m, n = misc()
    cases.append(export("misc", m, n, 11, x, u8))
    m, n = vgg()
    cases.append(export("vgg", m, n, 13, x, u8, vgg_nopad(m, n, x)))
    e = external(cases[-1])
    if e:
        cases.append(e)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


class ProbsHeadWrap(nn.Module):
    """Softmax on the last output (the class scores), so Softmax is covered."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        outs = self.m(x)
        return outs[:-1] + (torch.softmax(outs[-1], dim=1),)


def squeezenet(wdir, out):
    torch.set_grad_enabled(False)
    m = torchvision.models.squeezenet1_1()
    convs = [c for c in m.modules() if isinstance(c, nn.Conv2d)]
    assert len(convs) == 26
    for i, c in enumerate(convs):
        w = np.load(os.path.join(wdir, "squeezenet0_conv%d_weight.npy" % i))
        b = np.load(os.path.join(wdir, "squeezenet0_conv%d_bias.npy" % i))
        assert tuple(w.shape) == tuple(c.weight.shape), (i, w.shape, c.weight.shape)
        c.weight.data = torch.from_numpy(w.astype(np.float32))
        c.bias.data = torch.from_numpy(b.astype(np.float32).reshape(-1))
    f = m.features
    body = [("conv1", f[:2]), ("p1", f[2]), ("f2", f[3]), ("fire3", f[4]), ("p2", f[5]), ("f4", f[6]),
            ("fire5", f[7]), ("p3", f[8]), ("f6", f[9]), ("fire7", f[10]), ("f8", f[11]), ("fire9", f[12])]
    head = nn.Sequential(m.classifier, nn.Flatten(1))
    names = ["conv1", "fire3", "fire5", "fire7", "fire9", "logits"]
    model = Taps(body, set(names[:-1]), head).eval()
    torch.onnx.export(model, torch.rand(1, 3, 224, 224), out, input_names=["image"], output_names=names,
                      opset_version=13, do_constant_folding=True,
                      dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}})


class Single(nn.Module):
    """m with its one output as a 1-tuple (export() zips names and outputs)."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return (self.m(x),)


SWEEP = ["resnet50", "resnext50_32x4d", "densenet121", "mobilenet_v3_large", "efficientnet_b0",
         "shufflenet_v2_x1_0", "googlenet", "mnasnet1_0", "regnet_y_400mf", "squeezenet1_0", "vgg11_bn",
         "alexnet", "inception_v3"]


def sweep(out, names):
    """Full-size torchvision classifiers with random weights (and random BN
    statistics) exported with their logits, in the cases.json layout the Go
    test reads from POSPROBE_ONNX_FIXTURES: the check on networks the
    fixtures never saw. Large files: never committed."""
    global OUT, SIZE
    OUT, SIZE = out, 224
    torch.set_grad_enabled(False)
    u8, x = image()
    cases = []
    for i, name in enumerate(names):
        torch.manual_seed(100 + i)
        kw = {"aux_logits": False, "init_weights": True} if name in ("googlenet", "inception_v3") else {}
        m = torchvision.models.__dict__[name](weights=None, **kw).eval()
        randomize_bn(m, 200 + i)
        size = 299 if name == "inception_v3" else 224
        if size != SIZE:
            SIZE = size
            u8, x = image()
        try:
            cases.append(export(name, Single(m), ["logits"], 13, x, u8))
        except Exception as e:  # an exporter limit, not ours: say so and go on
            print("%s: export failed: %s" % (name, e), file=sys.stderr)
        SIZE = 224
        u8, x = image()
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--squeezenet":
        squeezenet(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "--sweep":
        sweep(sys.argv[2], sys.argv[3:] or SWEEP)
    else:
        main()
