"""Tiny random-weight GGUF models, one per supported architecture.

Each model is generated deterministically (numpy default_rng with a fixed seed
per model) and written with the gguf package's GGUFWriter, with the metadata
keys and tensor names that llama.cpp's convert_hf_to_gguf.py writes for that
architecture. The models are small (64-96 wide, 2-6 layers, a 312-token
SentencePiece-style vocabulary with byte tokens) so that llama.cpp's logits for
every position of TOKENS fit in a small fixture, and every feature of the
architecture is exercised on the TOKENS sequence (24 tokens against sliding
windows of 8, soft-capping thresholds that bite, YaRN and linear rope scaling,
long/short rope factors, top-k expert routing).

    python3 tests/py/arch_models.py OUTDIR [NAME...]   writes OUTDIR/NAME.gguf

Used by tests/fixtures/make_arch_fixtures.py (reference logits from llama.cpp)
and tests/py/test_archs.py (our logits on the same files).
"""
import math
import os
import sys
import zlib

import gguf
import numpy as np

N_CTX = 32                 # context the reference and the engine are created with
TOKENS = [1, 77, 203, 14, 150, 291, 66, 9, 180, 45, 260, 123, 33, 301, 98, 210,
          5, 141, 272, 59, 188, 17, 240, 111]   # 24 tokens: BOS + a fixed sequence
N_VOCAB = 3 + 256 + 53     # <unk> <s> </s>, byte tokens, 53 pieces


def _vocab():
    """A valid 'llama' (SentencePiece) vocabulary: specials, 256 byte tokens, pieces."""
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    types = [2, 3, 3] + [6] * 256          # UNKNOWN, CONTROL, CONTROL, BYTE...
    pieces = ["\u2581"] + ["\u2581" + c for c in "abcdefghijklmnopqrstuvwxyz"] + \
             list("abcdefghijklmnopqrstuvwxyz")
    tokens += pieces
    types += [1] * len(pieces)
    scores = [0.0] * (3 + 256) + [-float(i + 1) for i in range(len(pieces))]
    assert len(tokens) == N_VOCAB
    return tokens, scores, types


class _Gen:
    """Random tensors for one model, in the order they are requested."""

    def __init__(self, name, f16):
        self.rng = np.random.default_rng(zlib.crc32(name.encode()) + 12345)
        self.f16 = f16
        self.tensors = []   # (name, array)

    def normal(self, shape, std):
        return (self.rng.standard_normal(shape) * std).astype(np.float32)

    def weight(self, name, n_out, n_in, gain=1.0, n_expert=0):
        """A matrix ne = {n_in, n_out[, n_expert]} with std gain/sqrt(n_in)."""
        shape = (n_expert, n_out, n_in) if n_expert else (n_out, n_in)
        a = self.normal(shape, gain / math.sqrt(n_in))
        self.add(name, a)
        return a

    def norm(self, name, n, center=1.0, spread=0.1):
        self.add(name, (center + self.normal((n,), spread)).astype(np.float32), keep_f32=True)

    def bias(self, name, n, std=0.2):
        self.add(name, self.normal((n,), std), keep_f32=True)

    def add(self, name, a, keep_f32=False):
        # as convert_hf_to_gguf: 1-D tensors stay F32, matrices follow the file type
        if self.f16 and not keep_f32 and a.ndim >= 2:
            a = a.astype(np.float16)
        self.tensors.append((name, a))


def _common_kv(w, arch, hp):
    """Keys TextModel.set_gguf_parameters writes (order as the converter)."""
    w.add_block_count(hp["n_layer"])
    w.add_context_length(hp["n_ctx_train"])
    w.add_embedding_length(hp["n_embd"])
    w.add_feed_forward_length(hp["n_ff"])
    w.add_head_count(hp["n_head"])
    w.add_head_count_kv(hp["n_head_kv"])


def _attn_qkv(g, i, hp, bias=False, qk_norm=False, q_gain=2.0):
    d, hd = hp["n_embd"], hp["head_dim"]
    g.norm(f"blk.{i}.attn_norm.weight", d)
    g.weight(f"blk.{i}.attn_q.weight", hd * hp["n_head"], d, gain=q_gain)
    g.weight(f"blk.{i}.attn_k.weight", hd * hp["n_head_kv"], d, gain=q_gain)
    g.weight(f"blk.{i}.attn_v.weight", hd * hp["n_head_kv"], d)
    if bias:
        g.bias(f"blk.{i}.attn_q.bias", hd * hp["n_head"])
        g.bias(f"blk.{i}.attn_k.bias", hd * hp["n_head_kv"])
        g.bias(f"blk.{i}.attn_v.bias", hd * hp["n_head_kv"])
    if qk_norm:
        g.norm(f"blk.{i}.attn_q_norm.weight", hd, center=1.5, spread=0.2)
        g.norm(f"blk.{i}.attn_k_norm.weight", hd, center=1.5, spread=0.2)
    g.weight(f"blk.{i}.attn_output.weight", d, hd * hp["n_head"])


def _ffn(g, i, hp):
    d, f = hp["n_embd"], hp["n_ff"]
    g.norm(f"blk.{i}.ffn_norm.weight", d)
    g.weight(f"blk.{i}.ffn_gate.weight", f, d, gain=1.5)
    g.weight(f"blk.{i}.ffn_up.weight", f, d)
    g.weight(f"blk.{i}.ffn_down.weight", d, f)


def _embd(g, hp, std=1.0, tied=False):
    g.add("token_embd.weight", g.normal((N_VOCAB, hp["n_embd"]), std))
    g.norm("output_norm.weight", hp["n_embd"])
    if not tied:
        g.weight("output.weight", N_VOCAB, hp["n_embd"], gain=2.0)


# ---------------------------------------------------------------------------
# architectures

def _qwen2(w, g):
    # Qwen2.5 style: q/k/v biases, tied embeddings, YaRN rope scaling
    hp = dict(n_layer=3, n_ctx_train=128, n_embd=64, n_ff=160, n_head=4, n_head_kv=2, head_dim=16)
    _common_kv(w, "qwen2", hp)
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(4.0)
    w.add_rope_scaling_orig_ctx_len(16)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    _embd(g, hp, std=0.25, tied=True)
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp, bias=True)
        _ffn(g, i, hp)


def _qwen3(w, g):
    # QK-norm, head_dim * n_head != n_embd
    hp = dict(n_layer=2, n_ctx_train=128, n_embd=64, n_ff=128, n_head=4, n_head_kv=2, head_dim=32)
    _common_kv(w, "qwen3", hp)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_key_length(hp["head_dim"])
    w.add_value_length(hp["head_dim"])
    _embd(g, hp)
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp, qk_norm=True)
        _ffn(g, i, hp)


def _qwen2moe(w, g):
    # Qwen1.5-MoE / Qwen2-57B: q/k/v biases; softmax routing without
    # renormalising the chosen weights; a shared expert gated per token by
    # sigmoid(x . ffn_gate_inp_shexp)
    hp = dict(n_layer=2, n_ctx_train=128, n_embd=64, n_ff=96, n_head=4, n_head_kv=2, head_dim=16,
              n_expert=4, n_expert_used=2, n_ff_exp=32, n_ff_shexp=48)
    _common_kv(w, "qwen2moe", hp)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_expert_count(hp["n_expert"])
    w.add_expert_used_count(hp["n_expert_used"])
    w.add_expert_feed_forward_length(hp["n_ff_exp"])
    w.add_expert_shared_feed_forward_length(hp["n_ff_shexp"])
    _embd(g, hp)
    d, fe, ne, fs = hp["n_embd"], hp["n_ff_exp"], hp["n_expert"], hp["n_ff_shexp"]
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp, bias=True)
        g.norm(f"blk.{i}.ffn_norm.weight", d)
        g.weight(f"blk.{i}.ffn_gate_inp.weight", ne, d, gain=3.0)
        g.weight(f"blk.{i}.ffn_gate_exps.weight", fe, d, gain=1.5, n_expert=ne)
        g.weight(f"blk.{i}.ffn_up_exps.weight", fe, d, n_expert=ne)
        g.weight(f"blk.{i}.ffn_down_exps.weight", d, fe, n_expert=ne)
        g.add(f"blk.{i}.ffn_gate_inp_shexp.weight", g.normal((d,), 2.0 / math.sqrt(d)))
        g.weight(f"blk.{i}.ffn_gate_shexp.weight", fs, d, gain=1.5)
        g.weight(f"blk.{i}.ffn_up_shexp.weight", fs, d)
        g.weight(f"blk.{i}.ffn_down_shexp.weight", d, fs)


def _qwen3moe(w, g):
    hp = dict(n_layer=2, n_ctx_train=128, n_embd=64, n_ff=96, n_head=4, n_head_kv=2, head_dim=32,
              n_expert=8, n_expert_used=2, n_ff_exp=48)
    _common_kv(w, "qwen3moe", hp)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_expert_count(hp["n_expert"])
    w.add_expert_used_count(hp["n_expert_used"])
    w.add_key_length(hp["head_dim"])
    w.add_value_length(hp["head_dim"])
    w.add_expert_feed_forward_length(hp["n_ff_exp"])
    _embd(g, hp)
    d, fe, ne = hp["n_embd"], hp["n_ff_exp"], hp["n_expert"]
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp, qk_norm=True)
        g.norm(f"blk.{i}.ffn_norm.weight", d)
        g.weight(f"blk.{i}.ffn_gate_inp.weight", ne, d, gain=3.0)   # decisive routing
        g.weight(f"blk.{i}.ffn_gate_exps.weight", fe, d, gain=1.5, n_expert=ne)
        g.weight(f"blk.{i}.ffn_up_exps.weight", fe, d, n_expert=ne)
        g.weight(f"blk.{i}.ffn_down_exps.weight", d, fe, n_expert=ne)


def _gemma_layers(g, hp, qk_norm):
    d, hd = hp["n_embd"], hp["head_dim"]
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp, qk_norm=qk_norm)
        # the converter stores Gemma's (1 + w) norm weights already shifted
        g.norm(f"blk.{i}.post_attention_norm.weight", d)
        _ffn(g, i, hp)
        g.norm(f"blk.{i}.post_ffw_norm.weight", d)


def _gemma2(w, g):
    # sliding window on every other layer (llama.cpp's default pattern 2),
    # attention and final logit soft-capping, GeGLU, sqrt(n_embd) embedding scale
    hp = dict(n_layer=4, n_ctx_train=128, n_embd=64, n_ff=128, n_head=4, n_head_kv=2, head_dim=32)
    w.add_context_length(hp["n_ctx_train"])
    w.add_embedding_length(hp["n_embd"])
    w.add_block_count(hp["n_layer"])
    w.add_feed_forward_length(hp["n_ff"])
    w.add_head_count(hp["n_head"])
    w.add_head_count_kv(hp["n_head_kv"])
    w.add_layer_norm_rms_eps(1e-6)
    w.add_key_length(hp["head_dim"])
    w.add_value_length(hp["head_dim"])
    w.add_attn_logit_softcapping(4.0)
    w.add_final_logit_softcapping(2.0)
    w.add_sliding_window(8)
    _embd(g, hp, std=1.0 / math.sqrt(hp["n_embd"]), tied=True)
    _gemma_layers(g, hp, qk_norm=False)


def _gemma3(w, g):
    # 5 local : 1 global layers (llama.cpp's default pattern 6), local rope
    # base, linear rope scaling of the global layers, QK-norm, MQA
    hp = dict(n_layer=6, n_ctx_train=128, n_embd=64, n_ff=128, n_head=4, n_head_kv=1, head_dim=32)
    _common_kv(w, "gemma3", hp)
    w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
    w.add_rope_scaling_factor(8.0)
    w.add_rope_freq_base(1000000.0)
    w.add_rope_freq_base_swa(10000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_key_length(hp["head_dim"])
    w.add_value_length(hp["head_dim"])
    w.add_sliding_window(8)
    _embd(g, hp, std=1.0 / math.sqrt(hp["n_embd"]), tied=True)
    _gemma_layers(g, hp, qk_norm=True)


def _gemma3_pattern(w, g):
    # gemma3 with the local/global layout given per layer
    # (attention.sliding_window_pattern as an array of booleans)
    _gemma3(w, g)
    w.add_sliding_window_pattern([True, False, True, True, False, True])


def _phi3_short(w, g):
    # phi3 whose original context (4096) exceeds any context used here: the
    # short rope factors apply (and no attention factor is stored)
    _phi3(w, g, orig_ctx=4096)


def _gemma(w, g):
    # Gemma 1: GeGLU, sqrt(n_embd) embedding scale, tied output, MQA, head
    # size from key_length; no post-norms, no soft-capping, no window
    hp = dict(n_layer=2, n_ctx_train=128, n_embd=64, n_ff=128, n_head=4, n_head_kv=1, head_dim=32)
    w.add_context_length(hp["n_ctx_train"])
    w.add_embedding_length(hp["n_embd"])
    w.add_block_count(hp["n_layer"])
    w.add_feed_forward_length(hp["n_ff"])
    w.add_head_count(hp["n_head"])
    w.add_head_count_kv(hp["n_head_kv"])
    w.add_layer_norm_rms_eps(1e-6)
    w.add_key_length(hp["head_dim"])
    w.add_value_length(hp["head_dim"])
    _embd(g, hp, std=1.0 / math.sqrt(hp["n_embd"]), tied=True)
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp)
        _ffn(g, i, hp)


def _granite(w, g):
    # llama with IBM's multipliers: embedding, residual branches, attention
    # scores (replacing 1/sqrt(head_dim)) and logits (divided)
    hp = dict(n_layer=2, n_ctx_train=128, n_embd=64, n_ff=128, n_head=4, n_head_kv=2, head_dim=16)
    _common_kv(w, "granite", hp)
    w.add_rope_freq_base(10000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(N_VOCAB)
    w.add_rope_dimension_count(hp["head_dim"])
    w.add_attention_scale(0.09)
    w.add_embedding_scale(4.0)
    w.add_residual_scale(0.5)
    w.add_logit_scale(0.5)
    _embd(g, hp, std=0.25, tied=True)
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp)
        _ffn(g, i, hp)


def _granite_moe(w, g):
    # granite with a mixture of experts and a shared expert (Granite MoE
    # shared): expert size from feed_forward_length
    hp = dict(n_layer=2, n_ctx_train=128, n_embd=64, n_ff=32, n_head=4, n_head_kv=2, head_dim=16,
              n_expert=4, n_expert_used=2, n_ff_shexp=48)
    _common_kv(w, "granite", hp)
    w.add_rope_freq_base(10000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_expert_count(hp["n_expert"])
    w.add_expert_used_count(hp["n_expert_used"])
    w.add_vocab_size(N_VOCAB)
    w.add_rope_dimension_count(hp["head_dim"])
    w.add_attention_scale(0.09)
    w.add_embedding_scale(4.0)
    w.add_residual_scale(0.5)
    w.add_logit_scale(0.5)
    w.add_expert_shared_feed_forward_length(hp["n_ff_shexp"])
    _embd(g, hp, std=0.25, tied=True)
    d, f, ne, fs = hp["n_embd"], hp["n_ff"], hp["n_expert"], hp["n_ff_shexp"]
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp)
        g.norm(f"blk.{i}.ffn_norm.weight", d)
        g.weight(f"blk.{i}.ffn_gate_inp.weight", ne, d, gain=3.0)
        g.weight(f"blk.{i}.ffn_gate_exps.weight", f, d, gain=1.5, n_expert=ne)
        g.weight(f"blk.{i}.ffn_up_exps.weight", f, d, n_expert=ne)
        g.weight(f"blk.{i}.ffn_down_exps.weight", d, f, n_expert=ne)
        g.weight(f"blk.{i}.ffn_gate_shexp.weight", fs, d, gain=1.5)
        g.weight(f"blk.{i}.ffn_up_shexp.weight", fs, d)
        g.weight(f"blk.{i}.ffn_down_shexp.weight", d, fs)


def _olmo2(w, g):
    # OLMo 2/3: no pre-norms, RMS norms after attention and feed-forward,
    # QK-norm over the whole q and k vectors; OLMo 3's sliding window on
    # three of four layers (per-layer array) with YaRN only on the others
    hp = dict(n_layer=4, n_ctx_train=128, n_embd=64, n_ff=128, n_head=4, n_head_kv=2, head_dim=16)
    _common_kv(w, "olmo2", hp)
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(4.0)
    w.add_rope_scaling_orig_ctx_len(16)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_sliding_window(8)
    w.add_sliding_window_pattern([(i + 1) % 4 != 0 for i in range(hp["n_layer"])])
    d, hd = hp["n_embd"], hp["head_dim"]
    _embd(g, hp)
    for i in range(hp["n_layer"]):
        g.weight(f"blk.{i}.attn_q.weight", hd * hp["n_head"], d, gain=2.0)
        g.weight(f"blk.{i}.attn_k.weight", hd * hp["n_head_kv"], d, gain=2.0)
        g.weight(f"blk.{i}.attn_v.weight", hd * hp["n_head_kv"], d)
        g.norm(f"blk.{i}.attn_q_norm.weight", hd * hp["n_head"], center=2.0, spread=0.2)
        g.norm(f"blk.{i}.attn_k_norm.weight", hd * hp["n_head_kv"], center=2.0, spread=0.2)
        g.weight(f"blk.{i}.attn_output.weight", d, hd * hp["n_head"])
        g.norm(f"blk.{i}.post_attention_norm.weight", d)
        g.weight(f"blk.{i}.ffn_gate.weight", hp["n_ff"], d, gain=1.5)
        g.weight(f"blk.{i}.ffn_up.weight", hp["n_ff"], d)
        g.weight(f"blk.{i}.ffn_down.weight", d, hp["n_ff"])
        g.norm(f"blk.{i}.post_ffw_norm.weight", d)


def _phi3(w, g, orig_ctx=16):
    # fused qkv and gate|up, partial rotary (0.75), long/short rope factors
    # (n_ctx 32 > original context 16: the long factors apply), rope
    # attention factor; the sliding window is stored but llama.cpp ignores it
    hp = dict(n_layer=2, n_ctx_train=64, n_embd=96, n_ff=128, n_head=4, n_head_kv=2, head_dim=24)
    n_rot = int(0.75 * hp["n_embd"]) // hp["n_head"]
    w.add_context_length(hp["n_ctx_train"])
    w.add_rope_scaling_orig_ctx_len(orig_ctx)
    w.add_embedding_length(hp["n_embd"])
    w.add_feed_forward_length(hp["n_ff"])
    w.add_block_count(hp["n_layer"])
    w.add_head_count(hp["n_head"])
    w.add_head_count_kv(hp["n_head_kv"])
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(n_rot)
    w.add_rope_freq_base(10000.0)
    w.add_sliding_window(8)
    scale = hp["n_ctx_train"] / orig_ctx
    if scale > 1.0:
        w.add_rope_scaling_attn_factors(math.sqrt(1 + math.log(scale) / math.log(orig_ctx)))
    d, hd, f = hp["n_embd"], hp["head_dim"], hp["n_ff"]
    _embd(g, hp)
    g.add("rope_factors_long.weight", (1.0 + g.rng.uniform(0, 4, n_rot // 2)).astype(np.float32))
    g.add("rope_factors_short.weight", (1.0 + g.rng.uniform(0, 0.2, n_rot // 2)).astype(np.float32))
    n_qkv = hd * (hp["n_head"] + 2 * hp["n_head_kv"])
    for i in range(hp["n_layer"]):
        g.norm(f"blk.{i}.attn_norm.weight", d)
        q = g.normal((hd * hp["n_head"], d), 2.0 / math.sqrt(d))
        k = g.normal((hd * hp["n_head_kv"], d), 2.0 / math.sqrt(d))
        v = g.normal((hd * hp["n_head_kv"], d), 1.0 / math.sqrt(d))
        g.add(f"blk.{i}.attn_qkv.weight", np.concatenate([q, k, v], axis=0))
        assert q.shape[0] + k.shape[0] + v.shape[0] == n_qkv
        g.weight(f"blk.{i}.attn_output.weight", d, hd * hp["n_head"])
        g.norm(f"blk.{i}.ffn_norm.weight", d)
        gate = g.normal((f, d), 1.5 / math.sqrt(d))
        up = g.normal((f, d), 1.0 / math.sqrt(d))
        g.add(f"blk.{i}.ffn_up.weight", np.concatenate([gate, up], axis=0))
        g.weight(f"blk.{i}.ffn_down.weight", d, f)


def _mixtral(w, g):
    # llama with a mixture of SwiGLU experts (Mixtral layout: merged 3-D
    # expert tensors, softmax routing, chosen weights renormalised)
    hp = dict(n_layer=2, n_ctx_train=128, n_embd=64, n_ff=48, n_head=4, n_head_kv=2, head_dim=16,
              n_expert=4, n_expert_used=2)
    _common_kv(w, "llama", hp)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_expert_count(hp["n_expert"])
    w.add_expert_used_count(hp["n_expert_used"])
    w.add_vocab_size(N_VOCAB)
    w.add_rope_dimension_count(hp["head_dim"])
    _embd(g, hp)
    d, f, ne = hp["n_embd"], hp["n_ff"], hp["n_expert"]
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp)
        g.norm(f"blk.{i}.ffn_norm.weight", d)
        g.weight(f"blk.{i}.ffn_gate_inp.weight", ne, d, gain=3.0)
        g.weight(f"blk.{i}.ffn_gate_exps.weight", f, d, gain=1.5, n_expert=ne)
        g.weight(f"blk.{i}.ffn_up_exps.weight", f, d, n_expert=ne)
        g.weight(f"blk.{i}.ffn_down_exps.weight", d, f, n_expert=ne)


def _gpt_oss(w, g):
    # gpt-oss: attention sinks, biases on q/k/v/o, sliding window on every
    # other layer, YaRN, and a mixture of experts with a biased router,
    # softmax over the chosen experts' logits, biased experts and the clamped
    # SwiGLU (alpha 1.702, limit 7); post_attention_norm is the FFN pre-norm
    hp = dict(n_layer=4, n_ctx_train=128, n_embd=64, n_ff=32, n_head=4, n_head_kv=2, head_dim=24,
              n_expert=4, n_expert_used=2)
    _common_kv(w, "gpt-oss", hp)
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(4.0)
    w.add_rope_scaling_orig_ctx_len(16)
    w.add_rope_scaling_yarn_beta_fast(32.0)
    w.add_rope_scaling_yarn_beta_slow(1.0)
    w.add_rope_freq_base(150000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_expert_count(hp["n_expert"])
    w.add_expert_used_count(hp["n_expert_used"])
    w.add_key_length(hp["head_dim"])
    w.add_value_length(hp["head_dim"])
    w.add_sliding_window(8)
    w.add_expert_feed_forward_length(hp["n_ff"])
    _embd(g, hp)
    d, f, ne, hd = hp["n_embd"], hp["n_ff"], hp["n_expert"], hp["head_dim"]
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp, bias=True)
        g.bias(f"blk.{i}.attn_output.bias", d)
        g.add(f"blk.{i}.attn_sinks.weight", (1.0 + g.normal((hp["n_head"],), 1.0)).astype(np.float32))
        g.norm(f"blk.{i}.post_attention_norm.weight", d)
        g.weight(f"blk.{i}.ffn_gate_inp.weight", ne, d, gain=3.0)
        g.bias(f"blk.{i}.ffn_gate_inp.bias", ne, std=0.5)
        # gains large enough that the +-7 clamps take effect on some values
        g.weight(f"blk.{i}.ffn_gate_exps.weight", f, d, gain=4.0, n_expert=ne)
        g.add(f"blk.{i}.ffn_gate_exps.bias", g.normal((ne, f), 1.0))
        g.weight(f"blk.{i}.ffn_up_exps.weight", f, d, gain=4.0, n_expert=ne)
        g.add(f"blk.{i}.ffn_up_exps.bias", g.normal((ne, f), 1.0))
        g.weight(f"blk.{i}.ffn_down_exps.weight", d, f, gain=0.3, n_expert=ne)
        g.add(f"blk.{i}.ffn_down_exps.bias", g.normal((ne, d), 0.2))


def _cohere_layers(g, hp, qk_norm):
    d, f = hp["n_embd"], hp["n_ff"]
    hd, nh, nkv = hp["head_dim"], hp["n_head"], hp["n_head_kv"]
    for i in range(hp["n_layer"]):
        g.norm(f"blk.{i}.attn_norm.weight", d)
        g.weight(f"blk.{i}.attn_q.weight", hd * nh, d, gain=2.0)
        g.weight(f"blk.{i}.attn_k.weight", hd * nkv, d, gain=2.0)
        g.weight(f"blk.{i}.attn_v.weight", hd * nkv, d)
        if qk_norm:  # one layer-norm weight per head
            g.add(f"blk.{i}.attn_q_norm.weight", (1.5 + g.normal((nh, hd), 0.2)).astype(np.float32))
            g.add(f"blk.{i}.attn_k_norm.weight", (1.5 + g.normal((nkv, hd), 0.2)).astype(np.float32))
        # the residual stream collects 2 branches per layer: keep them small
        g.weight(f"blk.{i}.attn_output.weight", d, hd * nh, gain=0.5)
        g.weight(f"blk.{i}.ffn_gate.weight", f, d, gain=1.5)
        g.weight(f"blk.{i}.ffn_up.weight", f, d)
        g.weight(f"blk.{i}.ffn_down.weight", d, f, gain=0.5)


def _command_r(w, g):
    # Command R / Aya: layer norms (no bias), attention and feed-forward in
    # parallel on the same normed input, tied output, logit scale; 64 layers
    # so that the per-head QK layer norms of Command R+ are present
    hp = dict(n_layer=64, n_ctx_train=128, n_embd=32, n_ff=48, n_head=2, n_head_kv=1, head_dim=16)
    _common_kv(w, "command-r", hp)
    w.add_rope_freq_base(8000000.0)
    w.add_layer_norm_eps(1e-5)
    w.add_logit_scale(0.25)
    w.add_rope_scaling_type(gguf.RopeScalingType.NONE)
    _embd(g, hp, tied=True)
    _cohere_layers(g, hp, qk_norm=True)


def _cohere2(w, g):
    # Command R7B: command-r's block with sliding-window layers (3 of 4) that
    # use rope, and global layers without positional encoding
    hp = dict(n_layer=4, n_ctx_train=128, n_embd=64, n_ff=128, n_head=4, n_head_kv=2, head_dim=16)
    _common_kv(w, "cohere2", hp)
    w.add_rope_freq_base(50000.0)
    w.add_layer_norm_eps(1e-5)
    w.add_logit_scale(0.25)
    w.add_sliding_window(8)
    w.add_vocab_size(N_VOCAB)
    w.add_rope_dimension_count(hp["head_dim"])
    w.add_rope_scaling_type(gguf.RopeScalingType.NONE)
    _embd(g, hp, tied=True)
    _cohere_layers(g, hp, qk_norm=False)


def _mistral3(w, g, orig_ctx=8):
    # Ministral 3 / Mistral Small 3.x: llama with YaRN (beta values and the
    # log multiplier from the metadata) and position-dependent query scaling
    # ("llama 4 scaling": 1 + beta * log(floor(pos / original context) + 1))
    hp = dict(n_layer=2, n_ctx_train=128, n_embd=64, n_ff=128, n_head=4, n_head_kv=2, head_dim=24)
    _common_kv(w, "mistral3", hp)
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(4.0)
    w.add_rope_scaling_orig_ctx_len(orig_ctx)
    w.add_rope_scaling_yarn_beta_fast(16.0)
    w.add_rope_scaling_yarn_beta_slow(2.0)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_key_length(hp["head_dim"])
    w.add_value_length(hp["head_dim"])
    w.add_vocab_size(N_VOCAB)
    w.add_rope_dimension_count(hp["head_dim"])
    w.add_rope_scaling_yarn_log_mul(1.0)
    w.add_attn_temperature_scale(0.5)
    _embd(g, hp)
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp)
        _ffn(g, i, hp)


def _mistral3_betas(w, g):
    # the same with an original context of 4096: the YaRN ramp (beta_fast,
    # beta_slow) falls inside the rotary dims, the temperature stays 1
    _mistral3(w, g, orig_ctx=4096)


def _glm4moe(w, g):
    # GLM-4.5 / 4.6: a leading dense layer, then experts chosen by sigmoid
    # score plus a selection bias, weighed by score (renormalised, scaled)
    # with a shared expert; q/k/v biases, optional QK-norm, partial NEOX
    # rotary (half the head); post_attention_norm is the FFN pre-norm; one
    # multi-token-prediction layer at the end that inference skips
    hp = dict(n_layer=4, n_ctx_train=128, n_embd=64, n_ff=96, n_head=4, n_head_kv=2, head_dim=32,
              n_expert=8, n_expert_used=2, n_ff_exp=32, n_shared=1, n_nextn=1)
    _common_kv(w, "glm4moe", hp)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_key_length(hp["head_dim"])
    w.add_value_length(hp["head_dim"])
    w.add_rope_dimension_count(hp["head_dim"] // 2)
    w.add_expert_count(hp["n_expert"])
    w.add_expert_feed_forward_length(hp["n_ff_exp"])
    w.add_expert_shared_count(hp["n_shared"])
    w.add_leading_dense_block_count(1)
    w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID)
    w.add_expert_weights_scale(2.5)
    w.add_expert_weights_norm(True)
    w.add_nextn_predict_layers(hp["n_nextn"])
    w.add_expert_used_count(hp["n_expert_used"])
    d, fe, ne = hp["n_embd"], hp["n_ff_exp"], hp["n_expert"]
    _embd(g, hp)
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp, bias=True, qk_norm=True)
        g.norm(f"blk.{i}.post_attention_norm.weight", d)
        if i == 0:
            g.weight(f"blk.{i}.ffn_gate.weight", hp["n_ff"], d, gain=1.5)
            g.weight(f"blk.{i}.ffn_up.weight", hp["n_ff"], d)
            g.weight(f"blk.{i}.ffn_down.weight", d, hp["n_ff"])
            continue
        g.weight(f"blk.{i}.ffn_gate_inp.weight", ne, d, gain=3.0)
        g.add(f"blk.{i}.exp_probs_b.bias", g.normal((ne,), 0.3))
        g.weight(f"blk.{i}.ffn_gate_exps.weight", fe, d, gain=1.5, n_expert=ne)
        g.weight(f"blk.{i}.ffn_up_exps.weight", fe, d, n_expert=ne)
        g.weight(f"blk.{i}.ffn_down_exps.weight", d, fe, n_expert=ne)
        g.weight(f"blk.{i}.ffn_gate_shexp.weight", fe * hp["n_shared"], d, gain=1.5)
        g.weight(f"blk.{i}.ffn_up_shexp.weight", fe * hp["n_shared"], d)
        g.weight(f"blk.{i}.ffn_down_shexp.weight", d, fe * hp["n_shared"])
        if i == hp["n_layer"] - 1:  # the prediction layer's own tensors
            g.weight(f"blk.{i}.nextn.eh_proj.weight", d, 2 * d)
            g.norm(f"blk.{i}.nextn.enorm.weight", d)
            g.norm(f"blk.{i}.nextn.hnorm.weight", d)
            g.norm(f"blk.{i}.nextn.shared_head_norm.weight", d)


def _llama3_factors(base, dim, factor, lo_f, hi_f, old_ctx):
    """rope_freqs as convert_hf_to_gguf.py computes them for rope_type llama3."""
    freqs = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    lo_wl, hi_wl = old_ctx / lo_f, old_ctx / hi_f
    rf = []
    for fr in freqs:
        wl = 2 * math.pi / fr
        if wl < hi_wl:
            rf.append(1.0)
        elif wl > lo_wl:
            rf.append(factor)
        else:
            sm = (old_ctx / wl - lo_f) / (hi_f - lo_f)
            rf.append(1 / ((1 - sm) / factor + sm))
    return np.array(rf, dtype=np.float32)


def _exaone4(w, g, n_layer=64):
    # EXAONE 4.0: no pre-norms, RMS norms after attention and feed-forward,
    # per-head QK-norm, NEOX rope with Llama 3 factors; llama.cpp enables the
    # sliding window (LLLG pattern, rope on local layers only, global layers
    # without positional encoding) for the 64-layer model only
    hp = dict(n_layer=n_layer, n_ctx_train=128, n_embd=32, n_ff=48, n_head=2, n_head_kv=1, head_dim=16)
    _common_kv(w, "exaone4", hp)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(N_VOCAB)
    w.add_sliding_window(8)
    w.add_sliding_window_pattern([(i + 1) % 4 != 0 for i in range(n_layer)])
    d, f, hd = hp["n_embd"], hp["n_ff"], hp["head_dim"]
    _embd(g, hp, tied=True)
    g.add("rope_freqs.weight", _llama3_factors(1000000.0, hd, 16.0, 1.0, 4.0, 32))
    for i in range(n_layer):
        g.weight(f"blk.{i}.attn_q.weight", hd * hp["n_head"], d, gain=2.0)
        g.weight(f"blk.{i}.attn_k.weight", hd * hp["n_head_kv"], d, gain=2.0)
        g.weight(f"blk.{i}.attn_v.weight", hd * hp["n_head_kv"], d)
        g.norm(f"blk.{i}.attn_q_norm.weight", hd, center=1.5, spread=0.2)
        g.norm(f"blk.{i}.attn_k_norm.weight", hd, center=1.5, spread=0.2)
        g.weight(f"blk.{i}.attn_output.weight", d, hd * hp["n_head"])
        g.norm(f"blk.{i}.post_attention_norm.weight", d, center=0.5)
        g.weight(f"blk.{i}.ffn_gate.weight", f, d, gain=1.5)
        g.weight(f"blk.{i}.ffn_up.weight", f, d)
        g.weight(f"blk.{i}.ffn_down.weight", d, f)
        g.norm(f"blk.{i}.post_ffw_norm.weight", d, center=0.5)


def _exaone4_small(w, g):
    # 4 layers: window metadata present but not applied (every layer global, with rope)
    _exaone4(w, g, n_layer=4)


def _smollm3(w, g):
    # llama whose every 4th layer has no rotary embedding (NoPE)
    hp = dict(n_layer=4, n_ctx_train=128, n_embd=64, n_ff=128, n_head=4, n_head_kv=2, head_dim=16)
    _common_kv(w, "smollm3", hp)
    w.add_rope_freq_base(5000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_vocab_size(N_VOCAB)
    w.add_rope_dimension_count(hp["head_dim"])
    _embd(g, hp, std=0.25, tied=True)
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp)
        _ffn(g, i, hp)


def _llama3rope(w, g):
    # llama with Llama 3 rope scaling as the converter stores it: a rope_freqs
    # tensor of per-dimension factors (original context 32 so that the three
    # regimes - unscaled, scaled, smoothed - all occur at head_dim 32)
    hp = dict(n_layer=2, n_ctx_train=128, n_embd=128, n_ff=192, n_head=4, n_head_kv=2, head_dim=32)
    _common_kv(w, "llama", hp)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(N_VOCAB)
    w.add_rope_dimension_count(hp["head_dim"])
    base, dim = 500000.0, hp["head_dim"]
    freqs = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    factor, lo_f, hi_f, old_ctx = 8.0, 1.0, 4.0, 32
    lo_wl, hi_wl = old_ctx / lo_f, old_ctx / hi_f
    rf = []
    for fr in freqs:
        wl = 2 * math.pi / fr
        if wl < hi_wl:
            rf.append(1.0)
        elif wl > lo_wl:
            rf.append(factor)
        else:
            sm = (old_ctx / wl - lo_f) / (hi_f - lo_f)
            rf.append(1 / ((1 - sm) / factor + sm))
    _embd(g, hp)
    g.add("rope_freqs.weight", np.array(rf, dtype=np.float32))
    for i in range(hp["n_layer"]):
        _attn_qkv(g, i, hp)
        _ffn(g, i, hp)


# name -> (architecture, builder, f16 weights)
MODELS = {
    "qwen2": ("qwen2", _qwen2, False),
    "qwen3": ("qwen3", _qwen3, False),
    "qwen3-f16": ("qwen3", _qwen3, True),
    "qwen3moe": ("qwen3moe", _qwen3moe, False),
    "qwen2moe": ("qwen2moe", _qwen2moe, False),
    "gemma2": ("gemma2", _gemma2, False),
    "gemma3": ("gemma3", _gemma3, False),
    "gemma3-pattern": ("gemma3", _gemma3_pattern, False),
    "phi3": ("phi3", _phi3, False),
    "phi3-short": ("phi3", _phi3_short, False),
    "gemma": ("gemma", _gemma, False),
    "granite": ("granite", _granite, False),
    "granite-moe": ("granite", _granite_moe, False),
    "olmo2": ("olmo2", _olmo2, False),
    "llama3rope": ("llama", _llama3rope, False),
    "mixtral": ("llama", _mixtral, False),
    "smollm3": ("smollm3", _smollm3, False),
    "glm4moe": ("glm4moe", _glm4moe, False),
    "exaone4": ("exaone4", _exaone4, False),
    "exaone4-small": ("exaone4", _exaone4_small, False),
    "mistral3": ("mistral3", _mistral3, False),
    "mistral3-betas": ("mistral3", _mistral3_betas, False),
    "gpt-oss": ("gpt-oss", _gpt_oss, False),
    "command-r": ("command-r", _command_r, False),
    "cohere2": ("cohere2", _cohere2, False),
}


def write_model(name, path, builder=None):
    """Writes model `name` to `path` (deterministic, byte-identical each time).
    `builder` replaces the model's own (same random weights), for variants."""
    arch, build, f16 = MODELS[name]
    # the random stream is per architecture builder, so "qwen3-f16" holds the
    # same values as "qwen3", rounded to f16
    g = _Gen(build.__name__, f16)
    w = gguf.GGUFWriter(path, arch)
    # (a name containing "phi3" would make llama.cpp look for Phi-3's special tokens)
    w.add_name("tiny random model")
    (builder or build)(w, g)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if f16 else gguf.LlamaFileType.ALL_F32)
    tokens, scores, types = _vocab()
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    for tname, a in g.tensors:
        w.add_tensor(tname, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for name in argv[2:] or list(MODELS):
        write_model(name, os.path.join(out, name + ".gguf"))
        print(os.path.join(out, name + ".gguf"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
