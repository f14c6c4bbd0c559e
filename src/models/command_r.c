/*
 * command_r.c - the command-r architecture (Cohere Command R, Command R+,
 * Aya 23 / Aya Expanse), and the block it shares with cohere2
 * (rf__cohere_build):
 *   - layer norms with a weight and no bias (attention.layer_norm_epsilon);
 *   - attention and feed-forward side by side on the same normed input,
 *     both added to the residual stream: x + attn(n(x)) + ffn(n(x));
 *   - rotary embedding over adjacent pairs, SwiGLU, tied output, logits
 *     multiplied by logit_scale;
 *   - Command R+ (64 layers or more, as llama.cpp decides) also layer-norms
 *     every query and key head with its own weight ([head_dim, n_head]).
 */
#include <stdio.h>

#include "models/models.h"

static rf_status command_r_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    if (hp->head_dim_k != hp->head_dim_v || (uint64_t)hp->head_dim_k * hp->n_head[0] != hp->n_embd)
        return rf__err(err, RF_ERR_FORMAT, "%s: head size %u x %u heads must equal n_embd %u",
                       hp->arch, hp->head_dim_k, hp->n_head[0], hp->n_embd);
    hp->rope_mode = RF_ROPE_NORMAL;
    return RF_OK;
}

rf_status rf__cohere_tensors(rf_model_impl *m, bool qk_norm, rf_err *err) {
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
    w->output = w->tok_embd; /* always tied */
    m->hp.tied_embeddings = true;
    for (uint32_t i = 0; i < hp->n_layer; i++) {
        rf_layer *l = &w->layers[i];
        const int64_t nh = hp->n_head[i], nkv = hp->n_head_kv[i], n_ff = hp->n_ff[i];
        T(&l->attn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.attn_norm.weight", i);
        if (qk_norm) {
            T(&l->attn_q_norm, REQ | F32, hd, nh, -1, "blk.%u.attn_q_norm.weight", i);
            T(&l->attn_k_norm, REQ | F32, hd, nkv, -1, "blk.%u.attn_k_norm.weight", i);
        }
        T(&l->wq, REQ, n_embd, hd * nh, -1, "blk.%u.attn_q.weight", i);
        T(&l->wk, REQ, n_embd, hd * nkv, -1, "blk.%u.attn_k.weight", i);
        T(&l->wv, REQ, n_embd, hd * nkv, -1, "blk.%u.attn_v.weight", i);
        T(&l->bq, OPT | F32, hd * nh, -1, -1, "blk.%u.attn_q.bias", i);
        T(&l->bk, OPT | F32, hd * nkv, -1, -1, "blk.%u.attn_k.bias", i);
        T(&l->bv, OPT | F32, hd * nkv, -1, -1, "blk.%u.attn_v.bias", i);
        T(&l->wo, REQ, hd * nh, n_embd, -1, "blk.%u.attn_output.weight", i);
        T(&l->bo, OPT | F32, n_embd, -1, -1, "blk.%u.attn_output.bias", i);
        T(&l->ffn_gate, REQ, n_embd, n_ff, -1, "blk.%u.ffn_gate.weight", i);
        T(&l->ffn_up, REQ, n_embd, n_ff, -1, "blk.%u.ffn_up.weight", i);
        T(&l->ffn_down, REQ, n_ff, n_embd, -1, "blk.%u.ffn_down.weight", i);
    }
#undef T
    return RF_OK;
}

static rf_status command_r_tensors(rf_model_impl *m, rf_err *err) {
    return rf__cohere_tensors(m, m->hp.n_layer >= 64, err);
}

/* Layer norm of each head of x ([n_head * hd, n]) with per-head weights w [hd, n_head]. */
static rf_tensor *head_layer_norm(rf_graph *g, rf_tensor *x, rf_tensor *w, int64_t hd, float eps) {
    if (!x || !w) return NULL;
    int64_t ne0 = x->ne[0], n = x->ne[1];
    rf_tensor *h = rf__g_layer_norm(g, rf__g_reshape(g, x, hd, ne0 / hd * n, 1, 1), NULL, NULL, eps);
    return rf__g_mul(g, rf__g_reshape(g, h, ne0, n, 1, 1), rf__g_reshape(g, w, ne0, 1, 1, 1));
}

rf_tensor *rf__cohere_build(const rf_build *b, bool nope_global) {
    const rf_hparams *hp = b->hp;
    const rf_weights *w = b->w;
    rf_graph *g = b->g;
    const float eps = hp->norm_eps;
    rf_tensor *x = rf__g_get_rows(g, w->tok_embd, b->tokens); /* [n_embd, n] */
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const rf_layer *l = &w->layers[il];
        rf_tensor *h = rf__g_layer_norm(g, x, l->attn_norm, NULL, eps);
        rf_tensor *q = rf__llm_linear(g, l->wq, l->bq, h);
        rf_tensor *k = rf__llm_linear(g, l->wk, l->bk, h);
        rf_tensor *v = rf__llm_linear(g, l->wv, l->bv, h);
        if (l->attn_q_norm) {
            q = head_layer_norm(g, q, l->attn_q_norm, hp->head_dim_k, eps);
            k = head_layer_norm(g, k, l->attn_k_norm, hp->head_dim_k, eps);
        }
        const bool rope = !nope_global || hp->swa_layer[il];
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, rope);
        rf_tensor *f = rf__llm_ffn_gated(g, l, h, false);
        x = rf__g_add(g, rf__g_add(g, f, x), rf__llm_linear(g, l->wo, l->bo, a));
    }
    x = rf__llm_output_rows(b, x);
    x = rf__g_layer_norm(g, x, w->output_norm, NULL, eps);
    rf_tensor *logits = rf__g_matmul(g, w->output, x);
    if (hp->logit_scale != 0.0f) logits = rf__g_scale(g, logits, hp->logit_scale);
    return logits;
}

static rf_tensor *command_r_build(const rf_build *b) {
    return rf__cohere_build(b, false);
}

const rf_arch rf__arch_command_r = {
    .name = "command-r",
    .load_hparams = command_r_hparams,
    .load_tensors = command_r_tensors,
    .build = command_r_build,
};
