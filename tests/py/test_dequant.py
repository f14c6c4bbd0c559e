"""Every tensor type's to_f32 against PyPI gguf's numpy dequantizer on random blocks.

Blocks are random bytes; blocks whose reference output is not finite (a scale
that decodes to inf/NaN) are redrawn, so every scale is valid and nothing is
zero. The comparison is bit-exact; a type may list an ulp bound in ULP_BOUND
where float evaluation order differs, and the test reports the largest gap.
Usage: test_dequant.py [--types q4_0,q4_K] [--blocks N]
"""
import argparse
import os
import sys
import tempfile

import rftest

np = rftest.need("numpy")
gguf = rftest.need("gguf")
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T  # noqa: E402

# Block sizes: gguf's table, except where it disagrees with ggml. gguf 0.19 still
# lists Q8_1 with the old f32 d and s (40 bytes); ggml's block_q8_1 has f16 d and s
# (36 bytes), and libggml reports 36.
QUANT_SIZES = dict(GGML_QUANT_SIZES)
QUANT_SIZES[T.Q8_1] = (32, 36)

# Integer types have no conversion to f32 (in ggml either): not float tensors.
SKIP = {T.I8, T.I16, T.I32, T.I64}
# Largest allowed difference in units in the last place, per type (0 = bit-exact).
ULP_BOUND = {}


def ulp_diff(a, b):
    ai = a.view(np.int32).astype(np.int64)
    bi = b.view(np.int32).astype(np.int64)
    ai = np.where(ai < 0, -(ai & 0x7FFFFFFF), ai)
    bi = np.where(bi < 0, -(bi & 0x7FFFFFFF), bi)
    return np.abs(ai - bi)


def q8_k_ref(data):
    """Q8_K has no dequantizer in gguf: f32 d, 256 int8 qs, 16 int16 bsums (unused)."""
    b = data.reshape(-1, 292)
    d = b[:, :4].copy().view(np.float32)
    qs = b[:, 4:260].copy().view(np.int8).astype(np.float32)
    with np.errstate(all="ignore"):
        return (d * qs).reshape(-1)


def f64_ref(data):
    """F64: gguf has no converter; numpy's cast rounds to nearest even, like C's (float)."""
    with np.errstate(all="ignore"):
        return data.view(np.float64).astype(np.float32)


def q8_1_ref(data):
    """Q8_1 (ggml block_q8_1, 36 bytes): f16 d at 0, f16 s = d*sum(qs) at 2 (not
    needed to convert), 32 int8 qs at 4; value = qs * d. ggml has no
    dequantize_row_q8_1 (it is an activation format), gguf neither."""
    b = data.reshape(-1, 36)
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    qs = b[:, 4:36].copy().view(np.int8).astype(np.float32)
    with np.errstate(all="ignore"):
        return (d * qs).reshape(-1)


def q1_0_ref(data):
    """Q1_0 (ggml block_q1_0, 18 bytes, 128 values): f16 d at 0, then 16 bytes of
    sign bits, least significant bit first (bit j%8 of qs[j/8] is value j);
    value = bit ? d : -d (ggml dequantize_row_q1_0). gguf 0.19 has no dequantizer."""
    b = data.reshape(-1, 18)
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    bits = np.unpackbits(b[:, 2:18], axis=1, bitorder="little")
    return np.where(bits == 1, d, -d).astype(np.float32).reshape(-1)


def dequantize(data, qtype):
    if qtype in LOCAL_REF:
        return LOCAL_REF[qtype](data)
    try:
        with np.errstate(all="ignore"):
            return gguf.quants.dequantize(data, qtype)
    except NotImplementedError:
        rftest.fail(f"{qtype.name}: gguf has no dequantizer and the test has no local reference")


# Types gguf cannot dequantize, with a numpy reference written from ggml's layout.
LOCAL_REF = {T.Q8_K: q8_k_ref, T.F64: f64_ref, T.Q8_1: q8_1_ref, T.Q1_0: q1_0_ref}


def random_blocks(qtype, nblocks, rng):
    bs, ts = QUANT_SIZES[qtype]
    out = np.empty((0, ts), dtype=np.uint8)
    tries = 0
    while out.shape[0] < nblocks:
        tries += 1
        if tries > 100:
            rftest.fail(f"{qtype.name}: cannot draw finite random blocks")
        cand = rng.integers(0, 256, size=(nblocks, ts), dtype=np.uint8)
        ref = dequantize(cand.reshape(-1), qtype).reshape(nblocks, bs)
        ok = np.all(np.isfinite(ref), axis=1) & np.any(ref != 0, axis=1)
        out = np.concatenate([out, cand[ok]])
    return out[:nblocks]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--types", default="")
    ap.add_argument("--blocks", type=int, default=4096)
    a = ap.parse_args()
    tool = rftest.tool("rf_quant_tool")
    want = {t.strip().lower() for t in a.types.split(",") if t.strip()}
    rng = np.random.default_rng(1234)
    failures = 0
    tested = 0
    with tempfile.TemporaryDirectory() as tmp:
        for qtype in T:
            if qtype in SKIP or (want and qtype.name.lower() not in want):
                continue
            blocks = random_blocks(qtype, a.blocks, rng)
            ref = dequantize(blocks.reshape(-1), qtype).reshape(-1).astype(np.float32)
            src = os.path.join(tmp, "in.bin")
            dst = os.path.join(tmp, "out.bin")
            blocks.tofile(src)
            try:
                rftest.run([tool, "dequant", str(qtype.value), src, dst])
            except Exception as e:  # noqa: BLE001
                print(f"{qtype.name:8s} FAIL: {getattr(e, 'stderr', b'').decode().strip() or e}")
                failures += 1
                continue
            got = np.fromfile(dst, dtype=np.float32)
            tested += 1
            if got.shape != ref.shape:
                print(f"{qtype.name:8s} FAIL: {got.size} values, expected {ref.size}")
                failures += 1
                continue
            d = ulp_diff(got, ref)
            worst = int(d.max())
            exact = int((d == 0).sum())
            bound = ULP_BOUND.get(qtype, 0)
            status = "ok" if worst <= bound else "FAIL"
            if worst > bound:
                failures += 1
                i = int(d.argmax())
                print(f"   first bad value at {i}: got {got[i]!r} want {ref[i]!r}")
            print(f"{qtype.name:8s} {status}: {a.blocks} blocks, {exact}/{ref.size} bit-exact, max {worst} ulp")
    if tested == 0:
        rftest.fail("no types tested")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
