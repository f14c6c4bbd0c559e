"""Quantizers (rf_type_traits.quantize) against their references, bit for bit.

Two sources of reference bytes:

1. PyPI gguf's numpy quantizers, for the types listed in GGUF_TYPES, run here
   on the inputs of quant_inputs.gguf_cases() (several row lengths, Gaussian
   and randomly scaled rows, and the awkward tensors of quant_inputs.weights()).
   To add a type: append it to GGUF_TYPES once gguf.quants.quantize supports it
   and is bit-exact with ggml.

2. llama.cpp's own output, stored under tests/fixtures/quant/ by
   tests/fixtures/make_quant_fixtures.py (llama-cpp-python is not needed
   here). Every entry of manifest.json is checked: ROCmForge quantizes the same
   input (with the same importance matrix for imatrix entries) and must
   reproduce llama.cpp's sha256 ("require": "exact"), or, for entries marked
   "require": "rmse", come within RMSE_SLACK of llama.cpp's RMSE against the
   input. To add a type: add it to the fixture script and rerun it.

Usage: test_quantize.py [--types q4_0,iq4_xs]
"""
import argparse
import hashlib
import json
import os
import sys
import tempfile

import rftest

np = rftest.need("numpy")
gguf = rftest.need("gguf")
from gguf.constants import GGMLQuantizationType as T  # noqa: E402

import quant_inputs  # noqa: E402

# Types compared with gguf.quants.quantize (all it supports besides F32).
GGUF_TYPES = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.TQ1_0, T.TQ2_0, T.MXFP4]
# "require": "rmse" fixtures pass if our RMSE <= llama.cpp's * RMSE_SLACK.
RMSE_SLACK = 1.02

FIXTURES = os.path.join(rftest.SOURCE_DIR, "tests", "fixtures", "quant")


class Tool:
    def __init__(self, tmp):
        self.exe = rftest.tool("rf_quant_tool")
        self.tmp = tmp
        self.sizes = {}
        for line in rftest.run([self.exe, "list"]).stdout.decode().splitlines():
            tid, name, bs, ts, _, has_q = line.split()
            self.sizes[int(tid)] = (int(bs), int(ts), has_q == "1")

    def quantize(self, qtype, x, imatrix=None):
        src, dst, im = (os.path.join(self.tmp, f) for f in ("q.in", "q.out", "q.im"))
        x.astype(np.float32).tofile(src)
        args = [self.exe, "quantize", str(qtype.value), str(x.shape[-1]), src, dst]
        if imatrix is not None:
            imatrix.astype(np.float32).tofile(im)
            args.append(im)
        rftest.run(args)
        return np.fromfile(dst, dtype=np.uint8)

    def dequantize(self, qtype, data):
        src, dst = os.path.join(self.tmp, "d.in"), os.path.join(self.tmp, "d.out")
        data.tofile(src)
        rftest.run([self.exe, "dequant", str(qtype.value), src, dst])
        return np.fromfile(dst, dtype=np.float32)


def rmse(a, b):
    d = a.astype(np.float64).reshape(-1) - b.astype(np.float64).reshape(-1)
    return float(np.sqrt(np.mean(d * d)))


def first_bad_block(got, want, type_size):
    n = min(got.size, want.size) // type_size
    g, w = got[: n * type_size].reshape(n, type_size), want[: n * type_size].reshape(n, type_size)
    bad = np.flatnonzero((g != w).any(axis=1))
    return (int(bad.size), int(bad[0]) if bad.size else -1, n)


def check_gguf(tool, want_types):
    failures = 0
    cases = quant_inputs.gguf_cases()
    for qtype in GGUF_TYPES:
        if want_types and qtype.name.lower() not in want_types:
            continue
        bs, ts, has_q = tool.sizes[qtype.value]
        if not has_q:
            print(f"{qtype.name:7s} gguf    FAIL: no quantizer")
            failures += 1
            continue
        blocks = exact = 0
        worst = None
        for label, x in cases:
            with np.errstate(all="ignore"):  # rows scaled past f16's range overflow to inf, as intended
                ref = gguf.quants.quantize(x, qtype).view(np.uint8).reshape(-1)
            got = tool.quantize(qtype, x)
            nbad, first, n = first_bad_block(got, ref, ts)
            if got.size != ref.size:
                nbad = max(nbad, 1)
            blocks += n
            exact += n - nbad
            if nbad and worst is None:
                worst = f"{label}: {nbad} blocks differ, first block {first}"
        status = "ok" if worst is None else "FAIL"
        failures += worst is not None
        print(f"{qtype.name:7s} gguf    {status}: {len(cases)} inputs, {exact}/{blocks} blocks bit-exact"
              + (f" ({worst})" if worst else ""))
    return failures


def check_fixtures(tool, want_types):
    path = os.path.join(FIXTURES, "manifest.json")
    if not os.path.exists(path):
        rftest.fail(f"{path} missing: run tests/fixtures/make_quant_fixtures.py")
    with open(path) as f:
        manifest = json.load(f)
    inputs = dict(quant_inputs.weights())
    for name, rec in manifest["inputs"].items():
        if name not in inputs or quant_inputs.sha256(inputs[name]) != rec["sha256"]:
            rftest.fail(f"input {name} differs from the one the fixtures were made from "
                        "(numpy draws differently?): rerun tests/fixtures/make_quant_fixtures.py")
        im = quant_inputs.imatrix(name, inputs[name].shape[1])
        if quant_inputs.sha256(im) != rec["imatrix_sha256"]:
            rftest.fail(f"imatrix of {name} differs from the fixtures'")
    failures = 0
    summary = {}
    for e in manifest["results"]:
        qtype = T[e["type"]]
        if want_types and qtype.name.lower() not in want_types:
            continue
        x = inputs[e["tensor"]]
        im = quant_inputs.imatrix(e["tensor"], x.shape[1]) if e["imatrix"] else None
        bs, ts, has_q = tool.sizes[qtype.value]
        key = (qtype.name, "imatrix" if e["imatrix"] else "-")
        s = summary.setdefault(key, {"tensors": 0, "exact": 0, "ratio": 1.0, "fail": [], "src": e["source"]})
        s["tensors"] += 1
        if not has_q:
            s["fail"].append("no quantizer")
            continue
        got = tool.quantize(qtype, x, im)
        if hashlib.sha256(got.tobytes()).hexdigest() == e["sha256"]:
            s["exact"] += 1
            continue
        ours = rmse(tool.dequantize(qtype, got), x)
        ratio = ours / e["rmse"] if e["rmse"] > 0 else (1.0 if ours == 0 else float("inf"))
        s["ratio"] = max(s["ratio"], ratio)
        where = ""
        if "file" in e:
            with open(os.path.join(FIXTURES, e["file"]), "rb") as f:
                f.seek(e["offset"])
                want = np.frombuffer(f.read(e["size"]), dtype=np.uint8)
            nbad, first, n = first_bad_block(got, want, ts)
            where = f", {nbad}/{n} blocks differ, first block {first}"
        if e["require"] == "exact" or ratio > RMSE_SLACK:
            s["fail"].append(f"{e['tensor']}: RMSE ratio {ratio:.4f}{where}")
    for (name, variant), s in sorted(summary.items()):
        status = "FAIL" if s["fail"] else "ok"
        failures += bool(s["fail"])
        print(f"{name:7s} llama   {status}: {variant:7s} {s['exact']}/{s['tensors']} tensors bit-exact with "
              f"{s['src']}, worst RMSE ratio {s['ratio']:.4f}" + ("".join(f"\n    {m}" for m in s["fail"])))
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--types", default="")
    a = ap.parse_args()
    want = {t.strip().lower() for t in a.types.split(",") if t.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        tool = Tool(tmp)
        failures = check_gguf(tool, want) + check_fixtures(tool, want)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
