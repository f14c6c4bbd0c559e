"""Deterministic inputs for the quantization tests, shared by the fixture
script (tests/fixtures/make_quantize_fixtures.py, run against llama.cpp) and
the test (tests/py/test_quantize_model.py, run against rocmforge).

Everything here depends only on the seed: random values come from a
splitmix64 stream turned into normal values by Box-Muller, both written with
numpy integer/float64 arithmetic, so no library's random generator (whose
streams may change between versions) is involved.
"""
import hashlib

import numpy as np

import gguf

# ---- deterministic random numbers -------------------------------------------------------------

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(seed, n):
    """n 64-bit outputs of splitmix64 started at `seed`."""
    with np.errstate(over="ignore"):
        idx = np.arange(1, n + 1, dtype=np.uint64)
        z = (np.uint64(seed) + idx * np.uint64(0x9E3779B97F4A7C15)) & _M64
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _M64
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _M64
        z = z ^ (z >> np.uint64(31))
    return z


def normal(seed, n, scale=1.0):
    """n standard-normal float32 values (times `scale`)."""
    m = (n + 1) // 2
    bits = _splitmix64(seed, 2 * m)
    # 53-bit uniforms in (0, 1]
    u = ((bits >> np.uint64(11)).astype(np.float64) + 1.0) * (1.0 / 9007199254740992.0)
    u1, u2 = u[:m], u[m:]
    r = np.sqrt(-2.0 * np.log(u1))
    t = 2.0 * np.pi * u2
    z = np.concatenate([r * np.cos(t), r * np.sin(t)])[:n]
    return (z * scale).astype(np.float32)


def digest(arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


# ---- small llama-architecture models for the tensor-type mixes --------------------------------

# Each variant exercises other branches of llama.cpp's type selection:
#  gqa4: 16 layers (use_more_bits and n_layer/16 matter), n_gqa = 4, separate output.weight,
#        ffn_down rows of 160 (not a multiple of 256: K-quant fallbacks).
#  tied: no output.weight (token_embd takes the output rules), n_gqa = 2, 6 layers.
#  odd:  n_embd = 288 (not a multiple of 256: output -> Q8_0 rule and fallbacks everywhere),
#        ffn_down rows of 100 (not a multiple of 32: F16 fallback), n_gqa = 3.
#  moe:  8 experts (the n_expert == 8 rules, 3-D expert tensors, ffn_gate_inp never quantized).
VARIANTS = {
    "gqa4": dict(n_layer=16, n_embd=256, n_head=8, n_head_kv=2, head_dim=32, n_ff=160, n_vocab=320, tied=False),
    "tied": dict(n_layer=6, n_embd=256, n_head=4, n_head_kv=2, head_dim=64, n_ff=512, n_vocab=384, tied=True),
    "odd": dict(n_layer=3, n_embd=288, n_head=9, n_head_kv=3, head_dim=32, n_ff=100, n_vocab=256, tied=False),
    "moe": dict(n_layer=2, n_embd=256, n_head=4, n_head_kv=4, head_dim=64, n_ff=256, n_vocab=256, tied=False,
                n_expert=8, n_expert_used=2),
}

# Presets, as llama.cpp's quantize tool names them, with their LLAMA_FTYPE_* number.
PRESETS = {
    "F16": 1, "BF16": 32, "Q8_0": 7, "Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9,
    "Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12, "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15,
    "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18, "IQ4_NL": 25, "IQ4_XS": 30, "MXFP4_MOE": 38,
}

# Presets applied to the SmolLM2 model itself (requantized from its Q4_1/Q8_0 tensors).
SMOL_PRESETS = ["Q8_0", "Q4_0", "Q4_K_M"]

# Types for the precision test (--pure), with the LLAMA_FTYPE_* whose default type it is.
PURE_TYPES = {
    "F16": 1, "BF16": 32, "Q8_0": 7, "Q4_0": 2, "Q4_1": 3, "Q5_0": 8, "Q5_1": 9,
    "Q2_K": 10, "Q3_K": 12, "Q4_K": 15, "Q5_K": 17, "Q6_K": 18, "IQ4_NL": 25, "IQ4_XS": 30,
    "MXFP4": 38,
}


def _llama_kv(w, n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_expert=0, n_expert_used=0):
    w.add_string("general.name", "quantize-test")
    w.add_uint32("llama.block_count", n_layer)
    w.add_uint32("llama.context_length", 256)
    w.add_uint32("llama.embedding_length", n_embd)
    w.add_uint32("llama.feed_forward_length", n_ff)
    w.add_uint32("llama.attention.head_count", n_head)
    w.add_uint32("llama.attention.head_count_kv", n_head_kv)
    w.add_uint32("llama.attention.key_length", head_dim)
    w.add_uint32("llama.attention.value_length", head_dim)
    w.add_uint32("llama.rope.dimension_count", head_dim)
    w.add_float32("llama.rope.freq_base", 10000.0)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.add_uint32("llama.vocab_size", n_vocab)
    if n_expert:
        w.add_uint32("llama.expert_count", n_expert)
        w.add_uint32("llama.expert_used_count", n_expert_used)
    w.add_uint32("general.file_type", 1)


def model_tensors(variant):
    """[(name, numpy array)] of a variant in file order. Arrays are shaped like
    numpy sees GGUF data: (rows, ne[0]) for matrices, (n_expert, rows, ne[0])
    for expert stacks. 2-D weights F16, norms and the router F32."""
    p = VARIANTS[variant]
    n_embd, n_ff, nv = p["n_embd"], p["n_ff"], p["n_vocab"]
    q_dim = p["n_head"] * p["head_dim"]
    kv_dim = p["n_head_kv"] * p["head_dim"]
    n_expert = p.get("n_expert", 0)
    seed = [1000 * (1 + list(VARIANTS).index(variant))]

    def rnd(*shape, dtype=np.float16, scale=0.05):
        seed[0] += 1
        return normal(seed[0], int(np.prod(shape)), scale).reshape(shape).astype(dtype)

    def norm(n):
        seed[0] += 1
        return (1.0 + normal(seed[0], n, 0.1)).astype(np.float32)

    out = [("token_embd.weight", rnd(nv, n_embd))]
    out.append(("output_norm.weight", norm(n_embd)))
    if not p["tied"]:
        out.append(("output.weight", rnd(nv, n_embd)))
    for i in range(p["n_layer"]):
        b = f"blk.{i}."
        out.append((b + "attn_norm.weight", norm(n_embd)))
        out.append((b + "attn_q.weight", rnd(q_dim, n_embd)))
        out.append((b + "attn_k.weight", rnd(kv_dim, n_embd)))
        out.append((b + "attn_v.weight", rnd(kv_dim, n_embd)))
        out.append((b + "attn_output.weight", rnd(n_embd, q_dim)))
        out.append((b + "ffn_norm.weight", norm(n_embd)))
        if n_expert:
            out.append((b + "ffn_gate_inp.weight", rnd(n_expert, n_embd, dtype=np.float32)))
            out.append((b + "ffn_gate_exps.weight", rnd(n_expert, n_ff, n_embd)))
            out.append((b + "ffn_up_exps.weight", rnd(n_expert, n_ff, n_embd)))
            out.append((b + "ffn_down_exps.weight", rnd(n_expert, n_embd, n_ff)))
        else:
            out.append((b + "ffn_gate.weight", rnd(n_ff, n_embd)))
            out.append((b + "ffn_up.weight", rnd(n_ff, n_embd)))
            out.append((b + "ffn_down.weight", rnd(n_embd, n_ff)))
    return out


def write_model(path, variant):
    p = VARIANTS[variant]
    w = gguf.GGUFWriter(path, "llama")
    _llama_kv(w, p["n_layer"], p["n_embd"], p["n_head"], p["n_head_kv"], p["head_dim"], p["n_ff"],
              p["n_vocab"], p.get("n_expert", 0), p.get("n_expert_used", 0))
    tensors = model_tensors(variant)
    for name, a in tensors:
        w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return digest(a for _, a in tensors)


# ---- F32 inputs for the precision test ------------------------------------------------------

def write_f32_model(path, tensors):
    """A llama-architecture GGUF holding `tensors` ([(name, float32 array)]) as
    F32, with just enough metadata for llama.cpp's quantizer to accept it."""
    w = gguf.GGUFWriter(path, "llama")
    _llama_kv(w, 1, 256, 4, 4, 64, 256, 256)
    for name, a in tensors:
        w.add_tensor(name, np.ascontiguousarray(a, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return digest(a for _, a in tensors)


def random_tensors():
    """Normal weights: every row length a multiple of 256, so each type applies as is."""
    shapes = [("blk.0.attn_q.weight", (256, 512)), ("blk.0.ffn_up.weight", (512, 768)),
              ("blk.0.ffn_down.weight", (384, 1024))]
    return [(n, normal(77 + i, r * c, 0.02).reshape(r, c)) for i, (n, (r, c)) in enumerate(shapes)]


# Representative SmolLM2 tensors; ffn_down has 1536-wide rows (K-quants apply), the others 576
# (K-quants fall back the same way in both quantizers). token_embd is cut to its first rows.
SMOL_TENSORS = [("token_embd.weight", 2048), ("blk.0.attn_q.weight", None), ("blk.0.attn_v.weight", None),
                ("blk.0.ffn_down.weight", None), ("blk.15.ffn_up.weight", None), ("blk.29.ffn_down.weight", None)]


def smol_tensors(model_path):
    """The SMOL_TENSORS of the SmolLM2 model, dequantized to float32 with gguf."""
    r = gguf.GGUFReader(model_path)
    by_name = {t.name: t for t in r.tensors}
    out = []
    for name, rows in SMOL_TENSORS:
        t = by_name[name]
        data = t.data[:rows] if rows else t.data  # one row per data row, for every type
        a = gguf.quants.dequantize(data, t.tensor_type).astype(np.float32)
        out.append((name, np.ascontiguousarray(a.reshape(-1, int(t.shape[0])))))
    return out


def tensor_types(path):
    """{name: type name} of a GGUF file, read with gguf."""
    r = gguf.GGUFReader(path)
    return {t.name: t.tensor_type.name for t in r.tensors}


def dequantized(path):
    """{name: float32 array (rows, ne[0])} of a GGUF file, dequantized with gguf."""
    r = gguf.GGUFReader(path)
    out = {}
    for t in r.tensors:
        a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        out[t.name] = a.reshape(-1, int(t.shape[0]))
    return out


def rmse(ref_tensors, path):
    """Root-mean-square error over all elements of `ref_tensors` against the
    same-named tensors of the GGUF at `path` (dequantized with gguf)."""
    got = dequantized(path)
    se = 0.0
    n = 0
    for name, a in ref_tensors:
        b = got[name]
        d = a.astype(np.float64).reshape(b.shape) - b.astype(np.float64)
        se += float(np.sum(d * d))
        n += d.size
    return float(np.sqrt(se / n))
