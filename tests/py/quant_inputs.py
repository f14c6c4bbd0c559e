"""F32 inputs for the quantizer tests (test_quantize.py) and their llama.cpp
fixtures (tests/fixtures/make_quant_fixtures.py), so both quantize exactly
the same values.

Everything is drawn from numpy Generators with fixed seeds. The fixture
manifest records a sha256 of every tensor and importance matrix, and the test
checks it first: a numpy that draws different numbers is reported as such,
not as a quantizer bug.

Row lengths are multiples of 256, so every type (block sizes 1 to 256) can
quantize every tensor.
"""
import hashlib

import numpy as np

SEED = 20251125


def _awkward(rng, rows):
    """Rows of 1024 made of 256-value stretches that probe the corners of
    scale searches and rounding: outliers, one-signed blocks, groups below
    every epsilon, exact zeros, rounding ties, values near f16's maximum and
    blocks spanning many decades."""
    x = rng.standard_normal((rows, 1024))
    for r in range(rows):
        v = x[r]
        if r % 2 == 0:
            v[rng.choice(256, 3, replace=False)] *= 1e3           # a few huge outliers
            v[256:512] = np.abs(v[256:512]) + 0.5                 # all positive (min > 0)
            v[512:544] *= 1e-20                                   # a 32-group below every epsilon
            v[544:576] = 0.0                                      # a 32-group of exact zeros
            v[576:768] *= 1e-4                                    # tiny
            # half-integers with +-127 in every 32-block: x/d lands exactly on .5
            h = rng.integers(-254, 255, size=256) / 2.0
            h[::32] = 127.0 * np.sign(rng.standard_normal(8))
            v[768:1024] = h
        else:
            v[0:256] = -np.abs(v[0:256]) - 0.25                   # all negative
            v[256:512] = rng.standard_cauchy(256)                 # Cauchy tails
            v[512:768] *= 10.0 ** rng.uniform(-6, 4, size=256)    # ten decades in one block
            v[768:1024] = np.sign(v[768:1024]) * 6e4              # two levels near f16's max
    return x


def weights():
    """Ordered list of (tensor name, float32 array (rows, n_per_row)). The
    names are llama tensor names so that llama.cpp will quantize a GGUF of them."""
    rng = np.random.default_rng(SEED)
    out = []
    # Gaussian weights, as in a trained layer.
    out.append(("blk.0.attn_q.weight", 0.02 * rng.standard_normal((32, 512))))
    # Heavy tails (Student t, 3 degrees of freedom) with a wide spread of row scales.
    t = rng.standard_t(3, size=(32, 512)) * np.exp(rng.uniform(-6, 6, size=(32, 1)))
    out.append(("blk.0.attn_k.weight", t))
    out.append(("blk.0.attn_v.weight", _awkward(rng, 4)))
    # Sparse rows: 3% Gaussian values in 1e-7 noise.
    shape = (16, 1024)
    sparse = rng.standard_normal(shape) * (rng.random(shape) < 0.03) + 1e-7 * rng.standard_normal(shape)
    out.append(("blk.0.ffn_down.weight", sparse))
    # Values on a grid of quarters, row scales powers of two: many exact ties.
    q = np.round(rng.standard_normal((8, 768)) * 4) / 4 * np.exp2(rng.integers(-12, 12, size=(8, 1)))
    out.append(("blk.0.ffn_up.weight", q))
    return [(n, a.astype(np.float32)) for n, a in out]


def imatrix(name, n_per_row):
    """Importance weights for tensor `name`, one per column, positive and
    skewed like llama-imatrix output, with a block of 32 zero columns and a
    few single zeros (ggml must cope with zero weights)."""
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    rng = np.random.default_rng([SEED, seed])
    w = np.exp(rng.normal(0.0, 1.5, size=n_per_row))
    w[64:96] = 0.0
    w[rng.choice(n_per_row, 4, replace=False)] = 0.0
    return w.astype(np.float32)


def gguf_cases():
    """(label, float32 array) inputs for comparing with gguf's quantizers:
    several row lengths and distributions, drawn fresh (no fixture needed)."""
    rng = np.random.default_rng(SEED + 1)
    cases = []
    for n in (256, 768, 4096):
        rows = max(4, 65536 // n)
        cases.append((f"normal n={n}", rng.standard_normal((rows, n))))
        scaled = rng.standard_normal((rows, n)) * np.exp(rng.uniform(-10, 10, size=(rows, 1)))
        cases.append((f"scaled n={n}", scaled))
    for name, x in weights():
        cases.append((name, x))
    return [(label, np.asarray(x, dtype=np.float32)) for label, x in cases]


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
