/*
 * phi3.c - the phi3 architecture (Phi-3, Phi-3.5, Phi-4 mini): a pre-norm
 * decoder with a fused q|k|v projection (attn_qkv) and a fused gate|up
 * projection (ffn_up, 2 * n_ff rows: SwiGLU of the first half times the
 * second), rotary embedding over the first rope.dimension_count dims of each
 * head (partial rotary on Phi-4 mini) in NEOX order, scaled by
 * rope.scaling.attn_factor, with per-dimension frequency factors for long
 * contexts: rope_factors_long when the context exceeds
 * rope.scaling.original_context_length, else rope_factors_short.
 * attention.sliding_window is stored by the converter but, as in llama.cpp,
 * not applied (llama.cpp disabled it for Phi-3 pending fixed conversions).
 */
#include <stdio.h>
#include <string.h>

#include "models/models.h"

static rf_status phi3_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    if (hp->head_dim_k != hp->head_dim_v || (uint64_t)hp->head_dim_k * hp->n_head[0] != hp->n_embd)
        return rf__err(err, RF_ERR_FORMAT, "%s: head size %u x %u heads must equal n_embd %u",
                       hp->arch, hp->head_dim_k, hp->n_head[0], hp->n_embd);
    hp->n_swa = 0;
    memset(hp->swa_layer, 0, sizeof hp->swa_layer);
    hp->rope_mode = RF_ROPE_NEOX;
    return RF_OK;
}

static rf_status phi3_tensors(rf_model_impl *m, rf_err *err) {
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
    T(&w->rope_long, OPT | F32, hp->n_rot / 2, -1, -1, "rope_factors_long.weight");
    T(&w->rope_short, OPT | F32, hp->n_rot / 2, -1, -1, "rope_factors_short.weight");
    for (uint32_t i = 0; i < hp->n_layer; i++) {
        rf_layer *l = &w->layers[i];
        const int64_t nq = hd * hp->n_head[i], nkv = hd * hp->n_head_kv[i];
        const int64_t n_ff = hp->n_ff[i];
        T(&l->attn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.attn_norm.weight", i);
        T(&l->wqkv, OPT, n_embd, nq + 2 * nkv, -1, "blk.%u.attn_qkv.weight", i);
        if (l->wqkv) {
            T(&l->bqkv, OPT | F32, nq + 2 * nkv, -1, -1, "blk.%u.attn_qkv.bias", i);
        } else {
            T(&l->wq, REQ, n_embd, nq, -1, "blk.%u.attn_q.weight", i);
            T(&l->wk, REQ, n_embd, nkv, -1, "blk.%u.attn_k.weight", i);
            T(&l->wv, REQ, n_embd, nkv, -1, "blk.%u.attn_v.weight", i);
            T(&l->bq, OPT | F32, nq, -1, -1, "blk.%u.attn_q.bias", i);
            T(&l->bk, OPT | F32, nkv, -1, -1, "blk.%u.attn_k.bias", i);
            T(&l->bv, OPT | F32, nkv, -1, -1, "blk.%u.attn_v.bias", i);
        }
        T(&l->wo, REQ, nq, n_embd, -1, "blk.%u.attn_output.weight", i);
        T(&l->bo, OPT | F32, n_embd, -1, -1, "blk.%u.attn_output.bias", i);
        T(&l->ffn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.ffn_norm.weight", i);
        T(&l->ffn_up, REQ, n_embd, 2 * n_ff, -1, "blk.%u.ffn_up.weight", i);
        T(&l->ffn_down, REQ, n_ff, n_embd, -1, "blk.%u.ffn_down.weight", i);
    }
#undef T
    return RF_OK;
}

static rf_tensor *phi3_build(const rf_build *b) {
    const rf_hparams *hp = b->hp;
    const rf_weights *w = b->w;
    rf_graph *g = b->g;
    const int64_t n = b->n_tokens, hd = hp->head_dim_k;
    /* long factors once the context outgrows the original one */
    const int64_t n_ctx = b->k_cache[0]->ne[1];
    rf_tensor *ff = n_ctx > (int64_t)hp->n_ctx_orig ? w->rope_long : w->rope_short;
    rf_tensor *x = rf__g_get_rows(g, w->tok_embd, b->tokens); /* [n_embd, n] */
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const rf_layer *l = &w->layers[il];
        const int64_t nh = hp->n_head[il], nkv = hp->n_head_kv[il];
        rf_tensor *h = rf__g_rms_norm(g, x, l->attn_norm, hp->norm_rms_eps);
        rf_tensor *q, *k, *v;
        if (l->wqkv) {
            rf_tensor *qkv = rf__llm_linear(g, l->wqkv, l->bqkv, h); /* [nq + 2 nkv, n] */
            if (!qkv) return NULL;
            const size_t es = sizeof(float), rs = qkv->nb[1];
            q = rf__g_view(g, qkv, hd, nh, n, 1, hd * es, rs, rs * n, 0);
            k = rf__g_view(g, qkv, hd, nkv, n, 1, hd * es, rs, rs * n, (size_t)(hd * nh) * es);
            v = rf__g_view(g, qkv, hd * nkv, n, 1, 1, rs, rs * n, rs * n,
                           (size_t)(hd * (nh + nkv)) * es);
            v = rf__g_copy(g, v, RF_TYPE_F32); /* the cache store reads whole rows */
        } else {
            q = rf__g_reshape(g, rf__llm_linear(g, l->wq, l->bq, h), hd, nh, n, 1);
            k = rf__g_reshape(g, rf__llm_linear(g, l->wk, l->bk, h), hd, nkv, n, 1);
            v = rf__llm_linear(g, l->wv, l->bv, h);
        }
        rf_rope_params rp;
        rf__llm_rope_params(hp, il, &rp);
        q = rf__g_rope(g, q, b->pos, ff, &rp);
        k = rf__g_rope(g, k, b->pos, ff, &rp);
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, false);
        x = l->bo ? rf__g_add(g, rf__llm_linear(g, l->wo, l->bo, a), x) : rf__g_matmul_add(g, l->wo, a, x);

        h = rf__g_rms_norm(g, x, l->ffn_norm, hp->norm_rms_eps);
        rf_tensor *gu = rf__g_matmul(g, l->ffn_up, h); /* [2 n_ff, n]: gate | up */
        if (!gu) return NULL;
        const int64_t n_ff = hp->n_ff[il];
        rf_tensor *gate = rf__g_view(g, gu, n_ff, n, 1, 1, gu->nb[1], gu->nb[1] * n, gu->nb[1] * n, 0);
        rf_tensor *up = rf__g_view(g, gu, n_ff, n, 1, 1, gu->nb[1], gu->nb[1] * n, gu->nb[1] * n,
                                   (size_t)n_ff * sizeof(float));
        x = rf__g_matmul_add(g, l->ffn_down, rf__g_swiglu(g, gate, up), x);
    }
    return rf__llm_logits(b, x);
}

const rf_arch rf__arch_phi3 = {
    .name = "phi3",
    .load_hparams = phi3_hparams,
    .load_tensors = phi3_tensors,
    .build = phi3_build,
};
