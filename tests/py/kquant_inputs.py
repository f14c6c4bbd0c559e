"""F32 weights and importance matrices for the K-quant quantizer tests.

Shared by tests/fixtures/make_kquant_fixtures.py (which quantizes them with
llama.cpp) and tests/py/test_quantize_kquants.py (which quantizes them with
ROCmForge), so both see exactly the same values. Everything derives from
one numpy Generator with a fixed seed; the fixture records a sha256 of the
values so a numpy that draws differently is reported as such.
"""
import hashlib

import numpy as np

SEED = 20250917


def weights():
    """Ordered list of (tensor name, float32 array of shape (rows, n_per_row))."""
    rng = np.random.default_rng(SEED)
    out = []
    # Plain Gaussian weights, as in a trained layer.
    out.append(("blk.0.ffn_up.weight", (0.02 * rng.standard_normal((256, 512))).astype(np.float32)))
    # Heavier tails and a per-row scale spread of 100x.
    t = rng.standard_t(3, size=(128, 768)) * np.exp(rng.uniform(-2.3, 2.3, size=(128, 1)))
    out.append(("blk.0.ffn_gate.weight", t.astype(np.float32)))
    # Two rows of 1024 with awkward values, one 256-block at a time.
    ext = rng.standard_normal((2, 1024))
    r0 = ext[0]
    r0[rng.choice(256, 3, replace=False)] *= 1e3                # a few huge outliers in block 0
    r0[256:512] = np.abs(r0[256:512]) + 0.5                     # block 1: all positive (min > 0)
    r0[512:528] *= 1e-20                                        # a 16-group below every epsilon
    r0[528:768] *= 1e-4                                         # the rest of block 2 tiny
    r0[768:1024] = np.round(r0[768:1024] * 2) / 2               # block 3: few distinct levels
    r0[768:784] = 0.75                                          # ... with one constant group
    r1 = ext[1]
    r1[0:256] = -np.abs(r1[0:256]) - 0.25                       # block 0: all negative
    r1[256:512] = rng.standard_cauchy(256)                      # block 1: Cauchy tails
    r1[512:768] *= 10.0 ** rng.uniform(-6, 4, size=256)         # block 2: 10 decades in one block
    r1[768:1024] = np.sign(r1[768:1024]) * 6e4                  # block 3: two levels near half's max
    out.append(("blk.0.attn_q.weight", ext.astype(np.float32)))
    # Sparse rows: 3% Gaussian values in 1e-7 noise. With importance weights
    # that are zero on some columns, the weighted min/scale fit of a group can
    # land at its max, a corner where ggml versions differ.
    shape = (24, 1024)
    sparse = rng.standard_normal(shape) * (rng.random(shape) < 0.03) + 1e-7 * rng.standard_normal(shape)
    out.append(("blk.0.attn_k.weight", sparse.astype(np.float32)))
    return out


def imatrix(n_per_row, name):
    """Importance weights, one per column, as llama-imatrix produces: mostly
    positive, some exactly zero (columns no calibration token activated)."""
    seed = SEED + int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    rng = np.random.default_rng(seed)
    im = rng.gamma(0.7, 2.0, size=n_per_row) ** 2 + 1e-3
    im[rng.random(n_per_row) < 0.05] = 0.0  # columns never activated
    return im.astype(np.float32)


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
