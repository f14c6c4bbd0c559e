"""Every CPU dot product against PyPI gguf's dequantizer (an outside reference).

Weights are random blocks with sane scales; activations random normal values,
quantized by the engine's scalar activation quantizer (Q8_0, Q8_1, Q8_K, F16,
BF16 or F32, as ggml pairs them). The reference is a float64 dot of gguf's
dequantized weights and the dequantized activations; every implementation the
CPU runs (scalar, avx2, avx512) must be within a tight relative bound of it.
A type with no dot product, or no reference, fails.
Usage: test_cpu_dot_gguf.py [--types q4_0,q4_K] [--rows N]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import rftest

np = rftest.need("numpy")
gguf = rftest.need("gguf")
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T  # noqa: E402

TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K",
         "Q5_K", "Q6_K", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S",
         "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0", "MXFP4", "NVFP4", "Q1_0"]
BLOCK = {"NVFP4": (64, 36), "Q1_0": (128, 18)}
# f16 scale fields (byte offsets) per type; other types are handled below.
F16_AT = {"Q4_0": [0], "Q5_0": [0], "Q8_0": [0], "IQ4_NL": [0], "Q1_0": [0], "IQ2_XXS": [0],
          "IQ2_XS": [0], "IQ2_S": [0], "IQ3_XXS": [0], "IQ3_S": [0], "IQ1_S": [0], "IQ4_XS": [0],
          "Q4_1": [0, 2], "Q5_1": [0, 2], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q2_K": [80, 82],
          "Q3_K": [108], "Q6_K": [208], "TQ1_0": [52], "TQ2_0": [64]}


def sizes(name):
    return BLOCK.get(name) or GGML_QUANT_SIZES[T[name]]


def rand_scales(rng, k):
    mag = np.ldexp(1.0 + rng.random(k), rng.integers(-10, -4, k))
    return (mag * rng.choice([-1.0, 1.0], k)).astype(np.float16)


def random_weights(name, rows, n, rng):
    if name in ("F32", "F16", "BF16"):
        v = rng.standard_normal(rows * n).astype(np.float32)
        if name == "F32":
            return v.tobytes()
        if name == "F16":
            return v.astype(np.float16).tobytes()
        b = v.view(np.uint32)
        return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16).tobytes()
    bs, ts = sizes(name)
    nb = rows * n // bs
    blk = rng.integers(0, 256, size=(nb, ts), dtype=np.uint8)
    for off in F16_AT.get(name, []):
        blk[:, off:off + 2] = rand_scales(rng, nb).view(np.uint8).reshape(nb, 2)
    if name == "MXFP4":
        blk[:, 0] = rng.integers(120, 130, nb)
    if name == "NVFP4":
        blk[:, 0:4] = (rng.integers(4, 10, (nb, 4)) << 3) | rng.integers(0, 8, (nb, 4))
    if name == "IQ1_M":
        d = rand_scales(rng, nb).view(np.uint16).astype(np.uint16)
        sc = blk[:, 48:56].copy().view(np.uint16)
        for k in range(4):
            sc[:, k] = (sc[:, k] & 0x0FFF) | (((d >> (4 * k)) & 0xF) << 12)
        blk[:, 48:56] = sc.view(np.uint8)
    return blk.tobytes()


def dequant_weights(name, data):
    if name == "Q1_0":  # not in gguf 0.19: d (f16), then 128 bits, bit set = +d
        b = np.frombuffer(data, dtype=np.uint8).reshape(-1, 18)
        d = b[:, :2].copy().view(np.float16).astype(np.float32)
        bits = np.unpackbits(b[:, 2:], axis=1, bitorder="little").astype(np.float32)
        return (d * (2.0 * bits - 1.0)).reshape(-1)
    with np.errstate(all="ignore"):
        return gguf.quants.dequantize(np.frombuffer(data, dtype=np.uint8), T[name]).astype(np.float32).reshape(-1)


def dequant_act(act, data, n):
    a = np.frombuffer(data, dtype=np.uint8)
    if act == "F32":
        return a.view(np.float32).astype(np.float64)
    if act == "F16":
        return a.view(np.float16).astype(np.float64)
    if act == "BF16":
        return (a.view(np.uint16).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    if act in ("Q8_0", "Q8_1"):
        hdr = 2 if act == "Q8_0" else 4
        b = a[:n // 32 * (32 + hdr)].reshape(-1, 32 + hdr)
        d = b[:, :2].copy().view(np.float16).astype(np.float64)
        return (d * b[:, hdr:].view(np.int8).astype(np.float64)).reshape(-1)
    if act == "Q8_K":
        b = a.reshape(-1, 292)
        d = b[:, :4].copy().view(np.float32).astype(np.float64)
        return (d * b[:, 4:260].view(np.int8).astype(np.float64)).reshape(-1)
    rftest.fail(f"unknown activation type {act}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--types", default="")
    ap.add_argument("--rows", type=int, default=8)
    args = ap.parse_args()
    tool = rftest.tool("rf_dot_tool")
    want = [t.strip().upper() for t in args.types.split(",") if t.strip()] or TYPES
    rng = np.random.default_rng(4321)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in want:
            worst = {}
            bad = False
            for n in (256, 4096):
                if n % sizes(name)[0]:
                    continue
                w = random_weights(name, args.rows, n, rng)
                x = (rng.standard_normal(n) * rng.choice([1e-3, 1.0, 3.0])).astype(np.float32)
                wp, xp, ap_ = (os.path.join(tmp, f) for f in ("w.bin", "x.bin", "a.bin"))
                open(wp, "wb").write(w)
                open(xp, "wb").write(x.tobytes())
                r = subprocess.run([tool, name, str(n), wp, xp, ap_], capture_output=True, text=True)
                if r.returncode != 0:
                    print(f"{name}: UNSUPPORTED ({r.stderr.strip()})")
                    bad = True
                    break
                lines = r.stdout.split("\n")
                act = lines[0].split()[1]
                wf = dequant_weights(name, w).astype(np.float64).reshape(args.rows, n)
                af = dequant_act(act, open(ap_, "rb").read(), n)
                ref = wf @ af
                mag = np.abs(wf) @ np.abs(af)
                if act == "Q8_1":
                    # the kernels use Q8_1's s = d * sum(q), rounded to f16, for the
                    # weights' offset m (f16 at byte 2 of Q4_1/Q5_1 blocks)
                    ab = np.frombuffer(open(ap_, "rb").read(), dtype=np.uint8)[:n // 32 * 36].reshape(-1, 36)
                    d = ab[:, 0:2].copy().view(np.float16).astype(np.float64).reshape(-1)
                    s = ab[:, 2:4].copy().view(np.float16).astype(np.float64).reshape(-1)
                    qsum = ab[:, 4:].view(np.int8).astype(np.float64).sum(axis=1)
                    ts = sizes(name)[1]
                    wb = np.frombuffer(w, dtype=np.uint8).reshape(args.rows, n // 32, ts)
                    m = wb[:, :, 2:4].copy().view(np.float16).astype(np.float64).reshape(args.rows, -1)
                    ref = ref + m @ (s - d * qsum)
                tol = 1e-5
                for line in lines[1:]:
                    if not line.strip():
                        continue
                    impl, *vals = line.split()
                    got = np.array([float(v) for v in vals])
                    err = np.abs(got - ref) / np.maximum(mag, 1e-30)
                    worst[impl] = max(worst.get(impl, 0.0), float(err.max()))
                    if not np.all(err <= tol):
                        i = int(np.argmax(err))
                        print(f"{name} {impl} n={n}: row {i} got {got[i]!r} want {ref[i]!r} (rel {err[i]:.3g})")
                        bad = True
            print(f"{name:8s} " + " ".join(f"{k} {v:.2g}" for k, v in worst.items()) + (" FAIL" if bad else " ok"))
            failures += bad
    if failures:
        rftest.fail(f"{failures} type(s) failed")
    print("all dot products match gguf")


if __name__ == "__main__":
    main()
