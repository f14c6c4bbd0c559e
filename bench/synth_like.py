#!/usr/bin/env python3
"""A GGUF with the shape of another one but random weights, for speed measurements where the
real file cannot go (a benchmark machine without network access).

  synth_like.py dump MODEL.gguf META.json     metadata (every key) and the tensor table
  synth_like.py build META.json OUT.gguf      same keys and tensors, random weights

Keys (tokenizer included) are copied, so both engines load the result exactly as they load the
original; tensor types and shapes are the same, so matrix products do the same work. Weights are
random but sane: small block scales, F32 norms near 1. Needs numpy and gguf-py.
"""
import json
import sys

import numpy as np
import gguf

T = gguf.GGUFValueType


def dump(model, out):
    r = gguf.GGUFReader(model)
    kv = []
    for name, f in r.fields.items():
        if name.startswith("GGUF."):
            continue
        vt = f.types[0]
        if vt == T.ARRAY:
            sub = f.types[1]
            val = f.contents()
            kv.append({"key": name, "type": int(vt), "sub": int(sub), "value": val})
        else:
            kv.append({"key": name, "type": int(vt), "value": f.contents()})
    tensors = [{"name": t.name, "shape": [int(x) for x in t.shape], "type": int(t.tensor_type)}
               for t in r.tensors]
    json.dump({"kv": kv, "tensors": tensors}, open(out, "w"))


def build(meta_path, out, seed=0):
    meta = json.load(open(meta_path))
    arch = next(k["value"] for k in meta["kv"] if k["key"] == "general.architecture")
    w = gguf.GGUFWriter(out, arch)
    for k in meta["kv"]:
        if k["key"] == "general.architecture":
            continue
        w.add_key_value(k["key"], k["value"], T(k["type"]), T(k["sub"]) if "sub" in k else None)
    rng = np.random.default_rng(seed)
    Q = gguf.GGMLQuantizationType
    for t in meta["tensors"]:
        qt = Q(t["type"])
        ne = t["shape"]                      # ggml order: ne[0] innermost
        rows = int(np.prod(ne[1:])) if len(ne) > 1 else 1
        if qt == Q.F32:
            data = (1.0 + 0.1 * rng.standard_normal(ne[::-1])).astype(np.float32)
            w.add_tensor(t["name"], data)
            continue
        bs, ts = gguf.GGML_QUANT_SIZES[qt]
        nb = ne[0] // bs
        raw = rng.integers(0, 256, size=(rows, nb, ts), dtype=np.uint8)
        # legal small f16 scales in the block header (d, and m where there is one)
        scales = (rng.random((rows, nb, 2)) * 0.02 + 0.001).astype(np.float16).view(np.uint8)
        if qt in (Q.Q4_0, Q.Q8_0, Q.Q5_0, Q.IQ4_NL):
            raw[:, :, 0:2] = scales[:, :, 0:2]
        elif qt in (Q.Q4_1, Q.Q5_1):
            raw[:, :, 0:4] = scales.reshape(rows, nb, 4)
        else:
            raise SystemExit(f"{t['name']}: type {qt.name} not handled by this script")
        byte_shape = list(ne[::-1][:-1]) + [nb * ts]   # numpy order, last axis in bytes
        w.add_tensor(t["name"], raw.reshape(byte_shape), raw_shape=byte_shape, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "dump":
        dump(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        sys.exit(__doc__)
