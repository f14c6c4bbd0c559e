/*
 * exaone4.c - the exaone4 architecture (LG EXAONE 4.0): RMS norms after
 * attention and feed-forward (none before), per-head QK-norm, NEOX rotary
 * embedding (optionally with rope_freqs factors), SwiGLU, tied output.
 * As in llama.cpp, the sliding window is used by the 64-layer model only
 * (window 4096 and a 3-local:1-global pattern unless the metadata says
 * otherwise); there, local layers use rope and global layers attend without
 * positional encoding. Smaller models run every layer global, with rope.
 * nextn_predict_layers trailing layers are not run.
 */
#include <stdio.h>
#include <string.h>

#include "models/models.h"

static rf_status exaone4_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    uint32_t nextn = 0;
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    snprintf(key, sizeof key, "%s.nextn_predict_layers", hp->arch);
    if (rf_gguf_get(g, key) && (rf_gguf_get_u32(g, key, &nextn) != RF_OK || nextn >= hp->n_layer))
        return rf__err(err, RF_ERR_FORMAT, "key '%s' out of range", key);
    hp->n_layer -= nextn;
    if (hp->n_layer == 64) {
        snprintf(key, sizeof key, "%s.attention.sliding_window", hp->arch);
        if (!rf_gguf_get(g, key)) hp->n_swa = 4096;
        rf_status st = rf__hparams_swa_pattern(hp, g, 4, err);
        if (st != RF_OK) return st;
    } else {
        hp->n_swa = 0;
        memset(hp->swa_layer, 0, sizeof hp->swa_layer);
    }
    if (hp->head_dim_k != hp->head_dim_v || (uint64_t)hp->head_dim_k * hp->n_head[0] != hp->n_embd)
        return rf__err(err, RF_ERR_FORMAT, "%s: head size %u x %u heads must equal n_embd %u",
                       hp->arch, hp->head_dim_k, hp->n_head[0], hp->n_embd);
    hp->rope_mode = RF_ROPE_NEOX;
    return RF_OK;
}

static rf_status exaone4_tensors(rf_model_impl *m, rf_err *err) {
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
    T(&w->output, OPT, n_embd, n_vocab, -1, "output.weight");
    if (!w->output) {
        w->output = w->tok_embd;
        m->hp.tied_embeddings = true;
    }
    T(&w->rope_freqs, OPT | F32, hp->n_rot / 2, -1, -1, "rope_freqs.weight");
    for (uint32_t i = 0; i < hp->n_layer; i++) {
        rf_layer *l = &w->layers[i];
        const int64_t nq = hd * hp->n_head[i], nkv = hd * hp->n_head_kv[i];
        const int64_t n_ff = hp->n_ff[i];
        T(&l->wq, REQ, n_embd, nq, -1, "blk.%u.attn_q.weight", i);
        T(&l->wk, REQ, n_embd, nkv, -1, "blk.%u.attn_k.weight", i);
        T(&l->wv, REQ, n_embd, nkv, -1, "blk.%u.attn_v.weight", i);
        T(&l->bq, OPT | F32, nq, -1, -1, "blk.%u.attn_q.bias", i);
        T(&l->bk, OPT | F32, nkv, -1, -1, "blk.%u.attn_k.bias", i);
        T(&l->bv, OPT | F32, nkv, -1, -1, "blk.%u.attn_v.bias", i);
        T(&l->attn_q_norm, REQ | F32, hd, -1, -1, "blk.%u.attn_q_norm.weight", i);
        T(&l->attn_k_norm, REQ | F32, hd, -1, -1, "blk.%u.attn_k_norm.weight", i);
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

static rf_tensor *exaone4_build(const rf_build *b) {
    const rf_hparams *hp = b->hp;
    const rf_weights *w = b->w;
    rf_graph *g = b->g;
    const float eps = hp->norm_rms_eps;
    rf_tensor *x = rf__g_get_rows(g, w->tok_embd, b->tokens); /* [n_embd, n] */
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const rf_layer *l = &w->layers[il];
        rf_tensor *q = rf__llm_linear(g, l->wq, l->bq, x);
        rf_tensor *k = rf__llm_linear(g, l->wk, l->bk, x);
        rf_tensor *v = rf__llm_linear(g, l->wv, l->bv, x);
        q = rf__llm_head_norm(g, q, l->attn_q_norm, hp->head_dim_k, eps);
        k = rf__llm_head_norm(g, k, l->attn_k_norm, hp->head_dim_k, eps);
        const bool rope = hp->n_swa == 0 || hp->swa_layer[il];
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, rope);
        x = rf__g_add(g, rf__g_rms_norm(g, rf__g_matmul(g, l->wo, a), l->attn_post_norm, eps), x);
        rf_tensor *h = rf__llm_ffn_gated(g, l, x, false);
        x = rf__g_add(g, rf__g_rms_norm(g, h, l->ffn_post_norm, eps), x);
    }
    return rf__llm_logits(b, x);
}

const rf_arch rf__arch_exaone4 = {
    .name = "exaone4",
    .load_hparams = exaone4_hparams,
    .load_tensors = exaone4_tensors,
    .build = exaone4_build,
};
