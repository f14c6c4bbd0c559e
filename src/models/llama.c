/*
 * llama.c - the llama architecture (Llama 1-3, Mistral, SmolLM, Mixtral-style
 * experts): pre-norm decoder blocks with RMSNorm, rotary attention with
 * grouped KV heads, and a SwiGLU feed-forward (or a mixture of SwiGLU
 * experts). Every hyperparameter comes from the file's metadata.
 */
#include <math.h>
#include <stdio.h>

#include "models/models.h"

static rf_status llama_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    hp->rope_mode = RF_ROPE_NORMAL;
    hp->expert_gating = RF_GATING_SOFTMAX; /* Mixtral-style experts always route by softmax */
    return RF_OK;
}

static rf_status llama_tensors(rf_model_impl *m, rf_err *err) {
    const rf_hparams *hp = &m->hp;
    rf_weights *w = &m->w;
    const int64_t n_embd = hp->n_embd, n_vocab = hp->n_vocab;
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
        const int64_t nq = (int64_t)hp->head_dim_k * hp->n_head[i];
        const int64_t nk = (int64_t)hp->head_dim_k * hp->n_head_kv[i];
        const int64_t nv = (int64_t)hp->head_dim_v * hp->n_head_kv[i];
        const int64_t no = (int64_t)hp->head_dim_v * hp->n_head[i];
        const int64_t n_ff = hp->n_ff[i];
        T(&l->attn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.attn_norm.weight", i);
        T(&l->wq, REQ, n_embd, nq, -1, "blk.%u.attn_q.weight", i);
        T(&l->wk, REQ, n_embd, nk, -1, "blk.%u.attn_k.weight", i);
        T(&l->wv, REQ, n_embd, nv, -1, "blk.%u.attn_v.weight", i);
        T(&l->wo, REQ, no, n_embd, -1, "blk.%u.attn_output.weight", i);
        T(&l->bq, OPT | F32, nq, -1, -1, "blk.%u.attn_q.bias", i);
        T(&l->bk, OPT | F32, nk, -1, -1, "blk.%u.attn_k.bias", i);
        T(&l->bv, OPT | F32, nv, -1, -1, "blk.%u.attn_v.bias", i);
        T(&l->bo, OPT | F32, n_embd, -1, -1, "blk.%u.attn_output.bias", i);
        T(&l->ffn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.ffn_norm.weight", i);
        if (hp->n_expert == 0) {
            T(&l->ffn_gate, REQ, n_embd, n_ff, -1, "blk.%u.ffn_gate.weight", i);
            T(&l->ffn_up, REQ, n_embd, n_ff, -1, "blk.%u.ffn_up.weight", i);
            T(&l->ffn_down, REQ, n_ff, n_embd, -1, "blk.%u.ffn_down.weight", i);
            T(&l->ffn_gate_b, OPT | F32, n_ff, -1, -1, "blk.%u.ffn_gate.bias", i);
            T(&l->ffn_up_b, OPT | F32, n_ff, -1, -1, "blk.%u.ffn_up.bias", i);
            T(&l->ffn_down_b, OPT | F32, n_embd, -1, -1, "blk.%u.ffn_down.bias", i);
        } else {
            const int64_t n_exp = hp->n_expert, n_ff_exp = hp->n_ff_exp ? hp->n_ff_exp : n_ff;
            T(&l->ffn_gate_inp, REQ, n_embd, n_exp, -1, "blk.%u.ffn_gate_inp.weight", i);
            T(&l->ffn_gate_exps, REQ, n_embd, n_ff_exp, n_exp, "blk.%u.ffn_gate_exps.weight", i);
            T(&l->ffn_up_exps, REQ, n_embd, n_ff_exp, n_exp, "blk.%u.ffn_up_exps.weight", i);
            T(&l->ffn_down_exps, REQ, n_ff_exp, n_embd, n_exp, "blk.%u.ffn_down_exps.weight", i);
        }
    }
#undef T
    if (hp->n_expert) {
        if (hp->n_expert_used == 0 || hp->n_expert_used > hp->n_expert)
            return rf__err(err, RF_ERR_FORMAT, "expert_used_count %u out of range 1..%u",
                           hp->n_expert_used, hp->n_expert);
        m->hp.expert_weights_norm = true; /* llama normalises the chosen experts' weights */
    }
    return RF_OK;
}

static rf_tensor *llama_build(const rf_build *b) {
    const rf_hparams *hp = b->hp;
    const rf_weights *w = b->w;
    rf_graph *g = b->g;
    rf_tensor *x = rf__g_get_rows(g, w->tok_embd, b->tokens);      /* [n_embd, n] */
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const rf_layer *l = &w->layers[il];
        rf_tensor *h = rf__g_rms_norm(g, x, l->attn_norm, hp->norm_rms_eps);
        rf_tensor *q = rf__llm_linear(g, l->wq, l->bq, h);
        rf_tensor *k = rf__llm_linear(g, l->wk, l->bk, h);
        rf_tensor *v = rf__llm_linear(g, l->wv, l->bv, h);
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, true);
        if (l->bo)
            x = rf__g_add(g, rf__llm_linear(g, l->wo, l->bo, a), x);
        else
            x = rf__g_matmul_add(g, l->wo, a, x);                     /* residual fused */
        h = rf__g_rms_norm(g, x, l->ffn_norm, hp->norm_rms_eps);
        if (hp->n_expert) {
            x = rf__g_add(g, rf__llm_moe(b, l, h), x);
        } else {
            rf_tensor *gate = rf__llm_linear(g, l->ffn_gate, l->ffn_gate_b, h);
            rf_tensor *up = rf__llm_linear(g, l->ffn_up, l->ffn_up_b, h);
            rf_tensor *s = rf__g_swiglu(g, gate, up);
            x = l->ffn_down_b ? rf__g_add(g, rf__llm_linear(g, l->ffn_down, l->ffn_down_b, s), x)
                              : rf__g_matmul_add(g, l->ffn_down, s, x);
        }
    }
    return rf__llm_logits(b, x);
}

const rf_arch rf__arch_llama = {
    .name = "llama",
    .load_hparams = llama_hparams,
    .load_tensors = llama_tensors,
    .build = llama_build,
};
