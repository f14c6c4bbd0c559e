/*
 * gpt_oss.c - the gpt-oss architecture (OpenAI gpt-oss):
 *   - attention with biases on q/k/v/o, NEOX rotary embedding (YaRN), and
 *     attention sinks: one learned logit per head that joins the softmax
 *     normalisation without a value;
 *   - sliding-window and global layers alternating (pattern 2 unless
 *     attention.sliding_window_pattern says otherwise; the window is
 *     required);
 *   - a mixture of experts on every layer, pre-normed by the block's
 *     post_attention_norm: a router with bias picks expert_used_count experts
 *     by logit and weighs them by the softmax of the chosen logits; experts
 *     have biases and the clamped SwiGLU  x = min(gate, 7),
 *     y = clamp(up, -7, 7), h = x * sigmoid(1.702 x) * (y + 1);
 *   - expert_feed_forward_length is required; experts are usually MXFP4.
 */
#include <stdio.h>

#include "models/models.h"

#define OAI_ALPHA 1.702f
#define OAI_LIMIT 7.0f

static rf_status gpt_oss_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    const char *required[] = {"attention.layer_norm_rms_epsilon", "attention.sliding_window",
                              "expert_feed_forward_length"};
    for (size_t i = 0; i < RF_ARRAY_LEN(required); i++) {
        snprintf(key, sizeof key, "%s.%s", hp->arch, required[i]);
        if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    }
    if (hp->n_rot != hp->head_dim_k || hp->head_dim_k != hp->head_dim_v)
        return rf__err(err, RF_ERR_FORMAT, "%s: rotary dims %u must equal the head size %u/%u",
                       hp->arch, hp->n_rot, hp->head_dim_k, hp->head_dim_v);
    if (hp->n_expert == 0 || hp->n_expert_used == 0 || hp->n_ff_exp == 0)
        return rf__err(err, RF_ERR_FORMAT, "%s: expert counts and size must be > 0", hp->arch);
    rf_status st = rf__hparams_swa_pattern(hp, g, 2, err);
    if (st != RF_OK) return st;
    hp->rope_mode = RF_ROPE_NEOX;
    return RF_OK;
}

static rf_status gpt_oss_tensors(rf_model_impl *m, rf_err *err) {
    const rf_hparams *hp = &m->hp;
    rf_weights *w = &m->w;
    const int64_t n_embd = hp->n_embd, n_vocab = hp->n_vocab, hd = hp->head_dim_k;
    const int64_t n_exp = hp->n_expert, n_ff = hp->n_ff_exp;
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
        T(&l->attn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.attn_norm.weight", i);
        T(&l->wq, REQ, n_embd, nq, -1, "blk.%u.attn_q.weight", i);
        T(&l->wk, REQ, n_embd, nkv, -1, "blk.%u.attn_k.weight", i);
        T(&l->wv, REQ, n_embd, nkv, -1, "blk.%u.attn_v.weight", i);
        T(&l->bq, OPT | F32, nq, -1, -1, "blk.%u.attn_q.bias", i);
        T(&l->bk, OPT | F32, nkv, -1, -1, "blk.%u.attn_k.bias", i);
        T(&l->bv, OPT | F32, nkv, -1, -1, "blk.%u.attn_v.bias", i);
        T(&l->wo, REQ, nq, n_embd, -1, "blk.%u.attn_output.weight", i);
        T(&l->bo, REQ | F32, n_embd, -1, -1, "blk.%u.attn_output.bias", i);
        T(&l->attn_sinks, REQ | F32, hp->n_head[i], -1, -1, "blk.%u.attn_sinks.weight", i);
        T(&l->attn_post_norm, REQ | F32, n_embd, -1, -1, "blk.%u.post_attention_norm.weight", i);
        T(&l->ffn_gate_inp, REQ, n_embd, n_exp, -1, "blk.%u.ffn_gate_inp.weight", i);
        T(&l->ffn_gate_inp_b, REQ | F32, n_exp, -1, -1, "blk.%u.ffn_gate_inp.bias", i);
        T(&l->ffn_gate_exps, REQ, n_embd, n_ff, n_exp, "blk.%u.ffn_gate_exps.weight", i);
        T(&l->ffn_up_exps, REQ, n_embd, n_ff, n_exp, "blk.%u.ffn_up_exps.weight", i);
        T(&l->ffn_down_exps, REQ, n_ff, n_embd, n_exp, "blk.%u.ffn_down_exps.weight", i);
        T(&l->ffn_gate_exps_b, REQ | F32, n_ff, n_exp, -1, "blk.%u.ffn_gate_exps.bias", i);
        T(&l->ffn_up_exps_b, REQ | F32, n_ff, n_exp, -1, "blk.%u.ffn_up_exps.bias", i);
        T(&l->ffn_down_exps_b, REQ | F32, n_embd, n_exp, -1, "blk.%u.ffn_down_exps.bias", i);
    }
#undef T
    return RF_OK;
}

/* y [n_out, n_used, n] + the bias row of each chosen expert (ids [n_used*n]). */
static rf_tensor *add_expert_bias(rf_graph *g, rf_tensor *y, rf_tensor *bias, rf_tensor *ids) {
    if (!y) return NULL;
    rf_tensor *rows = rf__g_get_rows(g, bias, ids); /* [n_out, n_used*n] */
    return rf__g_add(g, y, rf__g_reshape(g, rows, y->ne[0], y->ne[1], y->ne[2], 1));
}

static rf_tensor *moe(const rf_build *b, const rf_layer *l, rf_tensor *x) {
    const rf_hparams *hp = b->hp;
    rf_graph *g = b->g;
    const int64_t n = b->n_tokens, nu = hp->n_expert_used;
    rf_tensor *logits = rf__g_add(g, rf__g_matmul(g, l->ffn_gate_inp, x), l->ffn_gate_inp_b);
    rf_tensor *sel = rf__g_topk(g, logits, (int)nu);                /* [n_used, n] */
    rf_tensor *wts = rf__g_softmax(g, rf__g_take(g, logits, sel), 1.0f);
    if (hp->expert_weights_scale != 0.0f && hp->expert_weights_scale != 1.0f)
        wts = rf__g_scale(g, wts, hp->expert_weights_scale);
    rf_tensor *ids = rf__g_reshape(g, sel, nu * n, 1, 1, 1);
    rf_tensor *x3 = rf__g_reshape(g, x, x->ne[0], 1, n, 1);
    rf_tensor *gate = add_expert_bias(g, rf__g_matmul_id(g, l->ffn_gate_exps, x3, sel), l->ffn_gate_exps_b, ids);
    rf_tensor *up = add_expert_bias(g, rf__g_matmul_id(g, l->ffn_up_exps, x3, sel), l->ffn_up_exps_b, ids);
    rf_tensor *h = rf__g_swiglu_oai(g, gate, up, OAI_ALPHA, OAI_LIMIT);
    rf_tensor *y = add_expert_bias(g, rf__g_matmul_id(g, l->ffn_down_exps, h, sel), l->ffn_down_exps_b, ids);
    y = rf__g_mul(g, y, rf__g_reshape(g, wts, 1, nu, n, 1));
    if (!y) return NULL;
    rf_tensor *out = NULL;
    for (int64_t e = 0; e < nu; e++) {
        rf_tensor *ye = rf__g_view(g, y, y->ne[0], n, 1, 1, y->nb[2], y->nb[2] * (size_t)n,
                                   y->nb[2] * (size_t)n, (size_t)e * y->nb[1]);
        out = out ? rf__g_add(g, out, ye) : ye;
    }
    if (nu == 1) out = rf__g_scale(g, out, 1.0f); /* a planned, contiguous tensor */
    return out;
}

static rf_tensor *gpt_oss_build(const rf_build *b) {
    const rf_hparams *hp = b->hp;
    const rf_weights *w = b->w;
    rf_graph *g = b->g;
    const float eps = hp->norm_rms_eps;
    rf_tensor *x = rf__g_get_rows(g, w->tok_embd, b->tokens); /* [n_embd, n] */
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const rf_layer *l = &w->layers[il];
        rf_tensor *h = rf__g_rms_norm(g, x, l->attn_norm, eps);
        rf_tensor *q = rf__llm_linear(g, l->wq, l->bq, h);
        rf_tensor *k = rf__llm_linear(g, l->wk, l->bk, h);
        rf_tensor *v = rf__llm_linear(g, l->wv, l->bv, h);
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, true); /* with the layer's sinks */
        x = rf__g_add(g, rf__llm_linear(g, l->wo, l->bo, a), x);
        h = rf__g_rms_norm(g, x, l->attn_post_norm, eps);
        x = rf__g_add(g, moe(b, l, h), x);
    }
    return rf__llm_logits(b, x);
}

const rf_arch rf__arch_gpt_oss = {
    .name = "gpt-oss",
    .load_hparams = gpt_oss_hparams,
    .load_tensors = gpt_oss_tensors,
    .build = gpt_oss_build,
};
