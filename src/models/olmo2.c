/*
 * olmo2.c - the olmo2 architecture (OLMo 2 and OLMo 3): no norms before
 * attention or feed-forward; instead RMS norms on their outputs before the
 * residual add, and QK-norm over the whole query and key vectors (all heads
 * together, unlike qwen3's per-head norm). NEOX rotary embedding, SwiGLU.
 * OLMo 3 adds sliding-window layers (attention.sliding_window with a
 * per-layer attention.sliding_window_pattern; three of four layers when the
 * pattern is absent); those use plain rope - rope.freq_base_swa (default
 * rope.freq_base), no YaRN scaling, no magnitude correction - while the
 * global layers use the file's scaling.
 */
#include <stdio.h>

#include "models/models.h"

static rf_status olmo2_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    if ((uint64_t)hp->head_dim_k * hp->n_head[0] != hp->n_embd || hp->head_dim_k != hp->head_dim_v ||
        hp->n_rot != hp->head_dim_k)
        return rf__err(err, RF_ERR_FORMAT, "%s: head size %u x %u heads must equal n_embd %u and "
                       "the rotary dims %u", hp->arch, hp->head_dim_k, hp->n_head[0], hp->n_embd, hp->n_rot);
    rf_status st = rf__hparams_swa_pattern(hp, g, 4, err);
    if (st != RF_OK) return st;
    hp->rope_freq_scale_swa = 1.0f;
    hp->rope_mode = RF_ROPE_NEOX;
    return RF_OK;
}

static rf_status olmo2_tensors(rf_model_impl *m, rf_err *err) {
    const rf_hparams *hp = &m->hp;
    rf_weights *w = &m->w;
    const int64_t n_embd = hp->n_embd, n_vocab = hp->n_vocab, hd = hp->head_dim_k;
    rf_status st;
#define T(out, flags, a, b, c, ...)                                                        \
    do {                                                                                   \
        st = rf__model_tensor(m, out, flags, a, b, c, err, __VA_ARGS__);                   \
        if (st != RF_OK) return st;                                                        \
    } while (0)
    enum { REQ = RF_TENSOR_REQUIRED, OPT = RF_TENSOR_OPTIONAL, F32 = RF_TENSOR_F32 };

    T(&w->tok_embd, REQ, n_embd, n_vocab, -1, "token_embd.weight");
    T(&w->output_norm, REQ | F32, n_embd, -1, -1, "output_norm.weight");
    T(&w->output, REQ, n_embd, n_vocab, -1, "output.weight");
    for (uint32_t i = 0; i < hp->n_layer; i++) {
        rf_layer *l = &w->layers[i];
        const int64_t nq = hd * hp->n_head[i], nkv = hd * hp->n_head_kv[i];
        const int64_t n_ff = hp->n_ff[i];
        T(&l->wq, REQ, n_embd, nq, -1, "blk.%u.attn_q.weight", i);
        T(&l->wk, REQ, n_embd, nkv, -1, "blk.%u.attn_k.weight", i);
        T(&l->wv, REQ, n_embd, nkv, -1, "blk.%u.attn_v.weight", i);
        T(&l->attn_q_norm, REQ | F32, nq, -1, -1, "blk.%u.attn_q_norm.weight", i);
        T(&l->attn_k_norm, REQ | F32, nkv, -1, -1, "blk.%u.attn_k_norm.weight", i);
        T(&l->wo, REQ, nq, n_embd, -1, "blk.%u.attn_output.weight", i);
        T(&l->attn_post_norm, REQ | F32, n_embd, -1, -1, "blk.%u.post_attention_norm.weight", i);
        T(&l->ffn_gate, REQ, n_embd, n_ff, -1, "blk.%u.ffn_gate.weight", i);
        T(&l->ffn_up, REQ, n_embd, n_ff, -1, "blk.%u.ffn_up.weight", i);
        T(&l->ffn_down, REQ, n_ff, n_embd, -1, "blk.%u.ffn_down.weight", i);
        T(&l->ffn_post_norm, REQ | F32, n_embd, -1, -1, "blk.%u.post_ffw_norm.weight", i);
    }
#undef T
    return RF_OK;
}

static rf_tensor *olmo2_build(const rf_build *b) {
    const rf_hparams *hp = b->hp;
    const rf_weights *w = b->w;
    rf_graph *g = b->g;
    const float eps = hp->norm_rms_eps;
    const int64_t n = b->n_tokens, hd = hp->head_dim_k;
    rf_tensor *x = rf__g_get_rows(g, w->tok_embd, b->tokens); /* [n_embd, n] */
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const rf_layer *l = &w->layers[il];
        rf_tensor *q = rf__g_rms_norm(g, rf__g_matmul(g, l->wq, x), l->attn_q_norm, eps);
        rf_tensor *k = rf__g_rms_norm(g, rf__g_matmul(g, l->wk, x), l->attn_k_norm, eps);
        rf_tensor *v = rf__g_matmul(g, l->wv, x);
        rf_rope_params rp;
        rf__llm_rope_params(hp, il, &rp);
        if (hp->swa_layer[il]) { /* local layers: unscaled rope */
            rp.ext_factor = 0.0f;
            rp.attn_factor = 1.0f;
        }
        q = rf__g_rope(g, rf__g_reshape(g, q, hd, hp->n_head[il], n, 1), b->pos, w->rope_freqs, &rp);
        k = rf__g_rope(g, rf__g_reshape(g, k, hd, hp->n_head_kv[il], n, 1), b->pos, w->rope_freqs, &rp);
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, false);
        x = rf__g_add(g, rf__g_rms_norm(g, rf__g_matmul(g, l->wo, a), l->attn_post_norm, eps), x);
        rf_tensor *h = rf__llm_ffn_gated(g, l, x, false);
        x = rf__g_add(g, rf__g_rms_norm(g, h, l->ffn_post_norm, eps), x);
    }
    return rf__llm_logits(b, x);
}

const rf_arch rf__arch_olmo2 = {
    .name = "olmo2",
    .load_hparams = olmo2_hparams,
    .load_tensors = olmo2_tensors,
    .build = olmo2_build,
};
