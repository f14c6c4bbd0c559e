/*
 * gemma2.c - the gemma2 architecture (Gemma 2), and the decoder block it
 * shares with gemma and gemma3 (rf__gemma_build):
 *   - token embeddings scaled by sqrt(n_embd) (tied with the output);
 *   - RMS norms before and after both attention and feed-forward ("sandwich"
 *     norms); the file stores Gemma's (1 + w) weights already shifted, so
 *     they multiply as stored;
 *   - queries scaled by 1/sqrt(head_dim) (1/sqrt(n_embd / n_head) for the
 *     27B model, as llama.cpp decides by layer count) before the scores are
 *     soft-capped: s = cap * tanh(q.k / cap), then softmax;
 *   - local (sliding-window) and global layers alternating: the pattern comes
 *     from attention.sliding_window_pattern, else every other layer;
 *   - GeGLU feed-forward (tanh-approximated GELU);
 *   - final logits soft-capped.
 * Defaults for keys older files lack are llama.cpp's: window 4096, caps
 * 50 (attention) and 30 (final).
 */
#include <math.h>
#include <stdio.h>

#include "models/models.h"

static rf_status gemma2_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    snprintf(key, sizeof key, "%s.attention.sliding_window", hp->arch);
    if (!rf_gguf_get(g, key)) hp->n_swa = 4096;
    snprintf(key, sizeof key, "%s.attn_logit_softcapping", hp->arch);
    if (!rf_gguf_get(g, key)) hp->attn_softcap = 50.0f;
    snprintf(key, sizeof key, "%s.final_logit_softcapping", hp->arch);
    if (!rf_gguf_get(g, key)) hp->final_softcap = 30.0f;
    rf_status st = rf__hparams_swa_pattern(hp, g, 2, err);
    if (st != RF_OK) return st;
    if (hp->head_dim_k != hp->head_dim_v)
        return rf__err(err, RF_ERR_FORMAT, "%s: key and value head sizes differ (%u, %u)", hp->arch,
                       hp->head_dim_k, hp->head_dim_v);
    hp->rope_mode = RF_ROPE_NEOX;
    hp->embd_scale = sqrtf((float)hp->n_embd);
    hp->attn_scale = 1.0f; /* queries are scaled before the soft-cap instead */
    return RF_OK;
}

rf_status rf__gemma_tensors(rf_model_impl *m, bool qk_norm, bool post_norms, bool own_output,
                           rf_err *err) {
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
    w->output = NULL;
    if (own_output) T(&w->output, OPT, n_embd, n_vocab, -1, "output.weight");
    if (!w->output) {
        w->output = w->tok_embd;
        m->hp.tied_embeddings = true;
    }
    for (uint32_t i = 0; i < hp->n_layer; i++) {
        rf_layer *l = &w->layers[i];
        const int64_t nq = hd * hp->n_head[i], nkv = hd * hp->n_head_kv[i];
        const int64_t n_ff = hp->n_ff[i];
        T(&l->attn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.attn_norm.weight", i);
        T(&l->wq, REQ, n_embd, nq, -1, "blk.%u.attn_q.weight", i);
        T(&l->wk, REQ, n_embd, nkv, -1, "blk.%u.attn_k.weight", i);
        T(&l->wv, REQ, n_embd, nkv, -1, "blk.%u.attn_v.weight", i);
        if (qk_norm) {
            T(&l->attn_q_norm, REQ | F32, hd, -1, -1, "blk.%u.attn_q_norm.weight", i);
            T(&l->attn_k_norm, REQ | F32, hd, -1, -1, "blk.%u.attn_k_norm.weight", i);
        }
        T(&l->wo, REQ, nq, n_embd, -1, "blk.%u.attn_output.weight", i);
        if (post_norms)
            T(&l->attn_post_norm, REQ | F32, n_embd, -1, -1, "blk.%u.post_attention_norm.weight", i);
        T(&l->ffn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.ffn_norm.weight", i);
        T(&l->ffn_gate, REQ, n_embd, n_ff, -1, "blk.%u.ffn_gate.weight", i);
        T(&l->ffn_up, REQ, n_embd, n_ff, -1, "blk.%u.ffn_up.weight", i);
        T(&l->ffn_down, REQ, n_ff, n_embd, -1, "blk.%u.ffn_down.weight", i);
        if (post_norms)
            T(&l->ffn_post_norm, REQ | F32, n_embd, -1, -1, "blk.%u.post_ffw_norm.weight", i);
    }
#undef T
    return RF_OK;
}

static rf_status gemma2_tensors(rf_model_impl *m, rf_err *err) {
    /* llama.cpp's gemma2 always ties the output to the token embeddings */
    return rf__gemma_tensors(m, false, true, false, err);
}

float rf__gemma_query_scale(const rf_hparams *hp, uint32_t n_layer_27b) {
    /* gemma_pytorch's query_pre_attn_scalar: n_embd / n_head for the 27B model */
    if (hp->n_layer == n_layer_27b && hp->n_head[0])
        return 1.0f / sqrtf((float)(hp->n_embd / hp->n_head[0]));
    return 1.0f / sqrtf((float)hp->head_dim_k);
}

rf_tensor *rf__gemma_build(const rf_build *b, float q_scale) {
    const rf_hparams *hp = b->hp;
    const rf_weights *w = b->w;
    rf_graph *g = b->g;
    const float eps = hp->norm_rms_eps;
    rf_tensor *x = rf__g_get_rows(g, w->tok_embd, b->tokens); /* [n_embd, n] */
    x = rf__g_scale(g, x, hp->embd_scale);
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const rf_layer *l = &w->layers[il];
        rf_tensor *h = rf__g_rms_norm(g, x, l->attn_norm, eps);
        rf_tensor *q = rf__g_matmul(g, l->wq, h);
        rf_tensor *k = rf__g_matmul(g, l->wk, h);
        rf_tensor *v = rf__g_matmul(g, l->wv, h);
        if (l->attn_q_norm) {
            q = rf__llm_head_norm(g, q, l->attn_q_norm, hp->head_dim_k, eps);
            k = rf__llm_head_norm(g, k, l->attn_k_norm, hp->head_dim_k, eps);
        }
        /* scaled before the soft-cap; the attention itself then scales by 1 */
        q = rf__g_scale(g, q, q_scale);
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, true);
        if (l->attn_post_norm)
            x = rf__g_add(g, rf__g_rms_norm(g, rf__g_matmul(g, l->wo, a), l->attn_post_norm, eps), x);
        else
            x = rf__g_matmul_add(g, l->wo, a, x);
        h = rf__g_rms_norm(g, x, l->ffn_norm, eps);
        h = rf__llm_ffn_gated(g, l, h, true);
        x = rf__g_add(g, l->ffn_post_norm ? rf__g_rms_norm(g, h, l->ffn_post_norm, eps) : h, x);
    }
    return rf__llm_logits(b, x);
}

static rf_tensor *gemma2_build(const rf_build *b) {
    return rf__gemma_build(b, rf__gemma_query_scale(b->hp, 46));
}

const rf_arch rf__arch_gemma2 = {
    .name = "gemma2",
    .load_hparams = gemma2_hparams,
    .load_tensors = gemma2_tensors,
    .build = gemma2_build,
};
