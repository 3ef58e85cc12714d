#!/usr/bin/python3
"""Independent PyTorch reference for posprobe's encoders built from the shared
ImageNet weights (squeezenet1.1, mobilenetv2, resnet50v2, darknet-tiny).

Each network is rebuilt here with torch.nn.functional straight from the weight
files (no code shared with the Go side). For a deterministic synthetic 224x224
input it records, per tap and padding mode, the tap shape, mean, std and values
at fixed positions; core/encoder's tests compare the Go forward pass to them.
It also checks SqueezeNet against the shipped test_data_set logits and prints
Tiny Darknet's top-5 on a few ImageNet sample photos, labelled with the class
order in core/encoder/darknet.go (over all 1000 sample photos that order gives
59.3% top-1 / 83.2% top-5, Tiny Darknet's published accuracy).

usage: /usr/bin/python3 testdata/gen/shared_encoders_check.py $POSPROBE_DATA \
           core/encoder/testdata/shared_taps.json
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_grad_enabled(False)
torch.set_num_threads(2)

SIZE = 224
NSAMPLES = 48
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def synthetic(size=SIZE):
    # x[c,y,x] = 0.5 + 0.45*sin(0.071*x + 0.113*y + 1.7*c) * cos(0.029*x*y/size + c)
    # computed in float64 and rounded to float32 (the Go test does the same).
    c = np.arange(3).reshape(3, 1, 1)
    y = np.arange(size).reshape(1, size, 1)
    x = np.arange(size).reshape(1, 1, size)
    v = 0.5 + 0.45 * np.sin(0.071 * x + 0.113 * y + 1.7 * c) * np.cos(0.029 * x * y / size + c)
    return torch.from_numpy(v.astype(np.float32)).unsqueeze(0)


def positions(numel):
    # Same hash as the Go test: i*2654435761+12345 mod numel, plus first/last element.
    out = [0, numel - 1]
    for i in range(NSAMPLES):
        out.append((i * 2654435761 + 12345) % numel)
    return out


def conv(x, w, b, stride, pad, mode, groups=1):
    """pad = nominal zero padding; mode: zero|none|reflect|replicate|circular."""
    if mode == "none" or pad == 0:
        return F.conv2d(x, w, b, stride=stride, padding=0, groups=groups)
    if mode == "zero":
        return F.conv2d(x, w, b, stride=stride, padding=pad, groups=groups)
    x = F.pad(x, (pad, pad, pad, pad), mode=mode)
    return F.conv2d(x, w, b, stride=stride, padding=0, groups=groups)


def crop1(x):
    return x[:, :, 1:-1, 1:-1]


def load_npy_dir(d):
    return {f[:-4]: torch.from_numpy(np.load(os.path.join(d, f)))
            for f in os.listdir(d) if f.endswith(".npy")}


# ---------------------------------------------------------------- SqueezeNet 1.1
def squeezenet(W, x, mode, classify=False):
    def cw(i):
        return W["squeezenet0_conv%d_weight" % i], W["squeezenet0_conv%d_bias" % i]
    taps = {}
    x = F.relu(conv(x, *cw(0), 2, 0, mode))
    taps["conv1"] = x
    x = F.max_pool2d(x, 3, 2, ceil_mode=True)
    k = 0

    def fire(x, k):
        s = F.relu(conv(x, *cw(1 + 3 * k), 1, 0, mode))
        e1 = F.relu(conv(s, *cw(2 + 3 * k), 1, 0, mode))
        e3 = F.relu(conv(s, *cw(3 + 3 * k), 1, 1, mode))
        if mode == "none":
            e1 = crop1(e1)
        return torch.cat([e1, e3], 1)
    x = fire(x, 0)                        # fire2
    x = fire(x, 1); taps["fire3"] = x     # fire3
    x = F.max_pool2d(x, 3, 2, ceil_mode=True)
    x = fire(x, 2)
    x = fire(x, 3); taps["fire5"] = x
    x = F.max_pool2d(x, 3, 2, ceil_mode=True)
    x = fire(x, 4)
    x = fire(x, 5); taps["fire7"] = x
    x = fire(x, 6)
    x = fire(x, 7); taps["fire9"] = x
    if classify:
        x = F.relu(F.conv2d(x, *cw(25)))
        return x.mean(dim=(2, 3))
    return taps


# ---------------------------------------------------------------- MobileNetV2 (BN folded)
# (expansion t, output channels c, repeats n, first stride s), torchvision/paper table.
MBV2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def mobilenetv2(W, x, mode):
    idx = sorted(int(k.split("_")[1]) for k in W if k.startswith("conv_") and k.endswith("_weight"))
    it = iter(idx)

    def nxt():
        i = next(it)
        return W["conv_%d_weight" % i], W["conv_%d_bias" % i]
    taps = {}
    x = F.relu6(conv(x, *nxt(), 2, 1, mode))
    block = 0
    cin = 32
    for t, c, n, s in MBV2:
        for r in range(n):
            stride = s if r == 0 else 1
            inp = x
            h = x
            if t != 1:
                h = F.relu6(conv(h, *nxt(), 1, 0, mode))
            w, b = nxt()
            h = F.relu6(conv(h, w, b, stride, 1, mode, groups=w.shape[0]))
            h = conv(h, *nxt(), 1, 0, mode)
            if stride == 1 and cin == c:
                h = h + (crop1(inp) if mode == "none" else inp)
            x = h
            cin = c
            block += 1
            if block in (1, 3, 6, 13):
                taps["block%d" % block] = x
    x = F.relu6(conv(x, *nxt(), 1, 0, mode))
    taps["head"] = x
    assert next(it, None) is None
    return taps


# ---------------------------------------------------------------- ResNet-50 v2 (pre-activation)
def resnet50v2(W, x, mode):
    def bn(name, x):
        p = "resnetv24_" + name
        return F.batch_norm(x, W[p + "_running_mean"], W[p + "_running_var"], W[p + "_gamma"], W[p + "_beta"],
                            training=False, eps=1e-5)
    taps = {}
    x = bn("batchnorm0", x)
    x = conv(x, W["resnetv24_conv0_weight"], None, 2, 3, mode)
    x = F.relu(bn("batchnorm1", x))
    taps["stem"] = x
    x = F.max_pool2d(x, 3, 2, 1)
    for stage, units, stride in ((1, 3, 1), (2, 4, 2), (3, 6, 2)):
        ci = 0
        for u in range(units):
            p = "stage%d_" % stage
            a = F.relu(bn(p + "batchnorm%d" % (3 * u), x))
            s = stride if u == 0 else 1
            h = conv(a, W["resnetv24_" + p + "conv%d_weight" % ci], None, 1, 0, mode)
            h = F.relu(bn(p + "batchnorm%d" % (3 * u + 1), h))
            h = conv(h, W["resnetv24_" + p + "conv%d_weight" % (ci + 1)], None, s, 1, mode)
            h = F.relu(bn(p + "batchnorm%d" % (3 * u + 2), h))
            h = conv(h, W["resnetv24_" + p + "conv%d_weight" % (ci + 2)], None, 1, 0, mode)
            res = x
            if u == 0:
                src = crop1(a) if mode == "none" else a
                res = F.conv2d(src, W["resnetv24_" + p + "conv%d_weight" % (ci + 3)], stride=s)
                ci += 4
            else:
                res = crop1(x) if mode == "none" else x
                ci += 3
            x = h + res
        taps["stage%d" % stage] = x
    return taps


# ---------------------------------------------------------------- Tiny Darknet (TF.js layers model)
def load_tfjs(d):
    m = json.load(open(os.path.join(d, "model.json")))
    W = {}
    for g in m["weightsManifest"]:
        buf = b"".join(open(os.path.join(d, p), "rb").read() for p in g["paths"])
        a = np.frombuffer(buf, dtype="<f4")
        off = 0
        for w in g["weights"]:
            n = int(np.prod(w["shape"]))
            W[w["name"]] = torch.from_numpy(a[off:off + n].reshape(w["shape"]).copy())
            off += n
    layers = m["modelTopology"]["model_config"]["config"]["layers"]
    return W, layers


def darknet(Wl, x, mode, classify=False):
    W, layers = Wl
    taps = {}
    last = None
    nconv = 0
    for L in layers:
        cls, c = L["class_name"], L["config"]
        name = c["name"]
        if cls == "Conv2D":
            k = W[name + "/kernel"].permute(3, 2, 0, 1).contiguous()   # HWIO -> OIHW
            b = W.get(name + "/bias")
            x = conv(x, k, b, 1, (k.shape[2] - 1) // 2, mode)
            nconv += 1
        elif cls == "BatchNormalization":
            x = F.batch_norm(x, W[name + "/moving_mean"], W[name + "/moving_variance"], W[name + "/gamma"],
                             W[name + "/beta"], training=False, eps=c["epsilon"])
        elif cls == "LeakyReLU":
            x = F.leaky_relu(x, c["alpha"])
            last = x
        elif cls == "MaxPooling2D":
            taps["conv%d" % nconv] = x
            x = F.max_pool2d(x, 2, 2, ceil_mode=True)   # TF 'same' 2x2/2 = ceil mode, no padding
        elif cls == "GlobalAveragePooling2D":
            x = x.mean(dim=(2, 3))
    taps["conv15"] = last
    return x if classify else taps


def stats(taps):
    out = {}
    for name, t in taps.items():
        a = t.numpy().astype(np.float64).ravel()
        pos = positions(a.size)
        out[name] = {"shape": list(t.shape), "mean": a.mean(), "std": a.std(), "absmax": np.abs(a).max(),
                     "pos": pos, "val": [float(a[p]) for p in pos]}
    return out


def main():
    data, out = sys.argv[1], sys.argv[2]
    wdir = os.path.join(data, "weights")
    sq = load_npy_dir(os.path.join(wdir, "squeezenet1.1", "weights"))
    mb = load_npy_dir(os.path.join(wdir, "mobilenetv2", "weights"))
    rn = load_npy_dir(os.path.join(wdir, "resnet50v2", "weights"))
    dk = load_tfjs(os.path.join(wdir, "darknet-tiny"))

    for i in range(3):
        d = os.path.join(wdir, "squeezenet1.1", "test_data_set", str(i))
        x = torch.from_numpy(np.load(os.path.join(d, "input_0.npy")))
        want = np.load(os.path.join(d, "output_0.npy"))
        got = squeezenet(sq, x, "zero", classify=True).numpy()
        print("squeezenet1.1 test_data_set/%d: max|diff| %.3g, argmax %d/%d" %
              (i, np.abs(got - want).max(), got.argmax(), want.argmax()))

    # Without padding MobileNetV2 shrinks to nothing before its last stage at any
    # practical size (not recorded), and ResNet-50 v2's stage 3 needs more than 224 px.
    res = {"input": "synthetic", "runs": []}
    for net, fn, W, modes in (("squeezenet1.1", squeezenet, sq, (("zero", 224), ("none", 224))),
                              ("mobilenetv2", mobilenetv2, mb, (("zero", 224), ("reflect", 224))),
                              ("resnet50v2", resnet50v2, rn, (("zero", 224), ("none", 320), ("replicate", 224))),
                              ("darknet-tiny", darknet, dk, (("zero", 224), ("none", 224), ("circular", 224)))):
        for mode, size in modes:
            taps = fn(W, synthetic(size), mode)
            res["runs"].append({"encoder": net, "padding": mode, "size": size, "taps": stats(taps)})
            print(net, mode, size, {k: tuple(v.shape[1:]) for k, v in taps.items()})
    with open(out, "w") as f:
        json.dump(res, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote", out, os.path.getsize(out), "bytes")

    # Tiny Darknet on a few photos: ml5 feeds RGB/255 resized to 224 (no mean/std).
    # Its outputs follow Darknet's ILSVRC devkit order, the list in darknet.go.
    from PIL import Image
    import re
    src = open(os.path.join(os.path.dirname(__file__), "..", "..", "core", "encoder", "darknet.go")).read()
    wnids = re.search(r"const darknetWNIDs = `([^`]*)`", src).group(1).split()
    assert len(wnids) == 1000 and len(set(wnids)) == 1000
    sample = os.path.join(data, "images", "imagenet-sample")
    photos = sorted(f for f in os.listdir(sample) if f.endswith(".JPEG"))
    names = {f.split("_", 1)[0]: f.split("_", 1)[1].rsplit(".", 1)[0] for f in photos}
    for f in photos[::97]:
        img = Image.open(os.path.join(sample, f)).convert("RGB").resize((224, 224), Image.BILINEAR)
        t = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1).unsqueeze(0)
        logits = darknet(dk, t, "zero", classify=True)[0]
        top = torch.topk(logits, 5).indices.tolist()
        print(f, [names.get(wnids[i], wnids[i]) for i in top])

if __name__ == "__main__":
    main()
