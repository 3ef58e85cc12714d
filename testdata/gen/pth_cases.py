"""Writes the tiny genuine fixtures of core/weights into testdata/weights/.

Run from the repository root with Debian's python (torch 1.13, numpy):
    /usr/bin/python3 testdata/gen/pth_cases.py
Outputs (a few KB in all): npy/ headers and dtypes, pth/ checkpoints in the
zip and legacy torch.save formats with the expected values as float32 .npy,
malicious pickles, and a safetensors file written from the format spec.
"""
import collections
import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np
import torch

OUT = os.path.join("testdata", "weights")


def npy_cases():
    d = os.path.join(OUT, "npy")
    os.makedirs(d, exist_ok=True)
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7 - 1
    for v in [(1, 0), (2, 0), (3, 0)]:
        with open(os.path.join(d, "f4_v%d.npy" % v[0]), "wb") as f:
            np.lib.format.write_array(f, a, version=v)
    np.save(os.path.join(d, "f8.npy"), a.astype(np.float64))
    np.save(os.path.join(d, "f2.npy"), a.astype(np.float16))
    np.save(os.path.join(d, "scalar.npy"), np.float32(2.5))
    np.save(os.path.join(d, "empty.npy"), np.zeros((0, 3), np.float32))
    # Expected values of the half file, as float32 (exact).
    np.save(os.path.join(d, "f2_expected.npy"), a.astype(np.float16).astype(np.float32))
    bad = os.path.join(d, "bad")
    os.makedirs(bad, exist_ok=True)
    np.save(os.path.join(bad, "fortran.npy"), np.asfortranarray(a))
    np.save(os.path.join(bad, "i8.npy"), np.arange(6, dtype=np.int64))
    np.save(os.path.join(bad, "big_endian.npy"), a.astype(">f4"))


class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def state_dict():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    m.train()
    m(torch.randn(2, 3, 5, 5))  # moves running stats and num_batches_tracked
    sd = m.state_dict()  # an OrderedDict with a _metadata attribute
    base = torch.randn(3, 5)
    sd["view.t"] = base.t()  # non-contiguous: stride (1, 5)
    sd["view.row"] = base[1]  # shares base's storage at offset 5
    sd["view.base"] = base
    sd["view.step"] = base[:, ::2]  # stride (5, 2)
    sd["half"] = torch.randn(5).half()
    sd["double"] = torch.randn(2, 2, dtype=torch.float64)
    sd["bf16"] = torch.randn(3).bfloat16()
    sd["scalar"] = torch.tensor(1.5)
    sd["empty"] = torch.zeros(0, 2)
    return sd


def pth_cases():
    d = os.path.join(OUT, "pth")
    exp = os.path.join(d, "expected")
    os.makedirs(exp, exist_ok=True)
    sd = state_dict()
    torch.save(sd, os.path.join(d, "small_zip.pth"))
    torch.save(sd, os.path.join(d, "small_legacy.pth"), _use_new_zipfile_serialization=False)
    # Through a buffer the zip's folder is called "archive".
    buf = io.BytesIO()
    torch.save(sd, buf)
    with open(os.path.join(d, "small_archive.pth"), "wb") as f:
        f.write(buf.getvalue())
    for k, v in sd.items():
        np.save(os.path.join(exp, k + ".npy"), np.ascontiguousarray(v.to(torch.float32).numpy()))
    with open(os.path.join(exp, "shapes.json"), "w") as f:
        json.dump({k: list(v.shape) for k, v in sd.items()}, f, indent=0, sort_keys=True)

    old_legacy_case(d, exp)

    mal = os.path.join(d, "malicious")
    os.makedirs(mal, exist_ok=True)
    with open(os.path.join(mal, "os_system.pkl"), "wb") as f:
        pickle.dump(Evil(os.system, "echo pwned"), f, protocol=2)
    with open(os.path.join(mal, "eval.pkl"), "wb") as f:
        pickle.dump(collections.OrderedDict(x=Evil(eval, "1+1")), f, protocol=4)
    evil_sd = collections.OrderedDict(w=torch.ones(2), evil=Evil(os.system, "echo pwned"))
    torch.save(evil_sd, os.path.join(mal, "os_system_zip.pth"))
    torch.save(evil_sd, os.path.join(mal, "os_system_legacy.pth"), _use_new_zipfile_serialization=False)


class _Storage:
    def __init__(self, pid):
        self.pid = pid


class _OldTensor:
    """Pickles like a torch 0.3 tensor: _rebuild_tensor(storage, offset, size, stride)."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride)

    def __reduce__(self):
        return (torch._utils._rebuild_tensor, self.args)


def old_legacy_case(d, exp):
    """A checkpoint laid out like torch 0.3 wrote them (torchvision's 2017
    ImageNet files): _rebuild_tensor without _v2 and a storage view in the
    persistent id. torch 1.13 must read it back, and gives the expected values."""
    root = np.arange(12, dtype=np.float32) * 0.5 - 2
    other = np.array([7, -7], dtype=np.float64)
    s_root = _Storage(("storage", torch.FloatStorage, "140001", "cuda:0", 12, None))
    s_view = _Storage(("storage", torch.FloatStorage, "140001", "cuda:0", 12, ("140002", 4, 6)))
    s_other = _Storage(("storage", torch.DoubleStorage, "140003", "cpu", 2, None))
    sd = collections.OrderedDict([
        ("features.0.weight", _OldTensor(s_root, 0, (3, 4), (4, 1))),
        ("features.0.view", _OldTensor(s_view, 1, (2, 2), (1, 2))),
        ("classifier.bias", _OldTensor(s_other, 0, (2,), (1,))),
    ])

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            return obj.pid if isinstance(obj, _Storage) else None

    buf = io.BytesIO()
    pickle.dump(0x1950a86a20f9469cfc6c, buf, protocol=2)
    pickle.dump(1001, buf, protocol=2)
    pickle.dump(dict(protocol_version=1001, little_endian=True,
                     type_sizes=dict(short=2, int=4, long=4)), buf, protocol=2)
    P(buf, protocol=2).dump(sd)
    pickle.dump(["140001", "140003"], buf, protocol=2)
    for arr in (root, other):
        buf.write(struct.pack("<q", arr.size) + arr.tobytes())
    path = os.path.join(d, "old_legacy.pth")
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    got = torch.load(path, map_location="cpu")
    edir = os.path.join(exp, "old_legacy")
    os.makedirs(edir, exist_ok=True)
    for k, v in got.items():
        np.save(os.path.join(edir, k + ".npy"), np.ascontiguousarray(v.to(torch.float32).numpy()))


def safetensors_cases():
    """Written by hand from the format description (no safetensors package)."""
    d = os.path.join(OUT, "safetensors")
    os.makedirs(d, exist_ok=True)
    a = (np.arange(6, dtype=np.float32) / 3 - 1).reshape(2, 3)
    b = np.array([0.5, -2, 65504, 6e-8], dtype=np.float16)
    c = np.array([[1.25, -3.5]], dtype=np.float64)
    bf = np.array([1.0, -2.5, 3.140625], dtype=np.float32)
    bf16 = (bf.view(np.uint32) >> 16).astype(np.uint16)
    parts = [("a", "F32", a), ("b", "F16", b), ("c", "F64", c), ("d", "BF16", bf16.reshape(3))]
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, dt, arr in parts:
        raw = arr.tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(d, "mixed.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)
    exp = {"a": a, "b": b.astype(np.float32), "c": c.astype(np.float32), "d": bf}
    for k, v in exp.items():
        np.save(os.path.join(d, "expected_" + k + ".npy"), v.astype(np.float32))


def pickle_cases():
    """Plain values in every pickle protocol, with the same value as JSON, to
    check the Go pickle machine opcode by opcode against CPython's pickler."""
    d = os.path.join(OUT, "pickle")
    os.makedirs(d, exist_ok=True)
    shared = [1, "x"]
    value = collections.OrderedDict([
        ("ints", [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31, -2**63, 2**63 - 1]),
        ("floats", [0.0, -1.5, 1e300, 3.141592653589793]),
        ("strings", ["", "a", "\u00e9t\u00e9", "x" * 300]),
        ("nested", {"t": (1, 2), "t3": (1, 2, 3), "t4": (1, 2, 3, 4), "empty": (), "l": []}),
        ("memo", [shared, shared, shared]),
        ("consts", [None, True, False]),
        ("many", list(range(1500))),
    ])
    plain = json.loads(json.dumps(value))
    for proto in range(0, 6):
        data = pickle.dumps(value if proto >= 2 else dict(value), protocol=proto)
        with open(os.path.join(d, "plain_p%d.pkl" % proto), "wb") as f:
            f.write(data)
    with open(os.path.join(d, "plain.json"), "w") as f:
        json.dump(plain, f)


if __name__ == "__main__":
    npy_cases()
    pth_cases()
    safetensors_cases()
    pickle_cases()
