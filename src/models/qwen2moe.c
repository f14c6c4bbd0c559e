/*
 * qwen2moe.c - the qwen2moe architecture (Qwen1.5-MoE, Qwen2-57B-A14B):
 * qwen2's attention (q/k/v biases, NEOX rotary, grouped KV heads) and a
 * sparse feed-forward: expert_used_count of expert_count SwiGLU experts per
 * token, weighted by their softmax probability (not renormalised), plus a
 * shared SwiGLU expert whose output is scaled per token by
 * sigmoid(x . ffn_gate_inp_shexp).
 */
#include <stdio.h>

#include "models/models.h"

static rf_status qwen2moe_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    if (hp->n_rot != hp->head_dim_k || hp->head_dim_k != hp->head_dim_v)
        return rf__err(err, RF_ERR_FORMAT, "%s: rotary dims %u must equal the head size %u/%u",
                       hp->arch, hp->n_rot, hp->head_dim_k, hp->head_dim_v);
    if (hp->n_expert == 0 || hp->n_expert_used == 0)
        return rf__err(err, RF_ERR_FORMAT, "%s: expert_count and expert_used_count must be > 0",
                       hp->arch);
    if (hp->n_ff_exp == 0) hp->n_ff_exp = hp->n_ff[0] / hp->n_expert_used;
    if (hp->n_ff_shexp == 0) hp->n_ff_shexp = hp->n_ff[0];
    hp->rope_mode = RF_ROPE_NEOX;
    hp->expert_gating = RF_GATING_SOFTMAX;
    hp->expert_weights_norm = false;
    return RF_OK;
}

static rf_status qwen2moe_tensors(rf_model_impl *m, rf_err *err) {
    const rf_hparams *hp = &m->hp;
    rf_weights *w = &m->w;
    const int64_t n_embd = hp->n_embd, n_vocab = hp->n_vocab, hd = hp->head_dim_k;
    const int64_t n_exp = hp->n_expert, n_ff_exp = hp->n_ff_exp, n_sh = hp->n_ff_shexp;
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
        T(&l->ffn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.ffn_norm.weight", i);
        T(&l->ffn_gate_inp, REQ, n_embd, n_exp, -1, "blk.%u.ffn_gate_inp.weight", i);
        T(&l->ffn_gate_exps, REQ, n_embd, n_ff_exp, n_exp, "blk.%u.ffn_gate_exps.weight", i);
        T(&l->ffn_up_exps, REQ, n_embd, n_ff_exp, n_exp, "blk.%u.ffn_up_exps.weight", i);
        T(&l->ffn_down_exps, REQ, n_ff_exp, n_embd, n_exp, "blk.%u.ffn_down_exps.weight", i);
        T(&l->ffn_gate_inp_shexp, REQ, n_embd, -1, -1, "blk.%u.ffn_gate_inp_shexp.weight", i);
        T(&l->ffn_gate_shexp, REQ, n_embd, n_sh, -1, "blk.%u.ffn_gate_shexp.weight", i);
        T(&l->ffn_up_shexp, REQ, n_embd, n_sh, -1, "blk.%u.ffn_up_shexp.weight", i);
        T(&l->ffn_down_shexp, REQ, n_sh, n_embd, -1, "blk.%u.ffn_down_shexp.weight", i);
    }
#undef T
    return RF_OK;
}

static rf_tensor *qwen2moe_build(const rf_build *b) {
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
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, true);
        x = rf__g_matmul_add(g, l->wo, a, x);
        h = rf__g_rms_norm(g, x, l->ffn_norm, eps);
        rf_tensor *y = rf__llm_moe(b, l, h);
        rf_tensor *s = rf__g_swiglu(g, rf__g_matmul(g, l->ffn_gate_shexp, h),
                                    rf__g_matmul(g, l->ffn_up_shexp, h));
        s = rf__g_matmul(g, l->ffn_down_shexp, s);                               /* [n_embd, n] */
        rf_tensor *gate = rf__llm_sigmoid(g, rf__g_matmul(g, l->ffn_gate_inp_shexp, h)); /* [1, n] */
        x = rf__g_add(g, rf__g_add(g, y, rf__g_mul(g, s, gate)), x);
    }
    return rf__llm_logits(b, x);
}

const rf_arch rf__arch_qwen2moe = {
    .name = "qwen2moe",
    .load_hparams = qwen2moe_hparams,
    .load_tensors = qwen2moe_tensors,
    .build = qwen2moe_build,
};
