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
    rf_status st = rf__llm_llama_tensors(m, true, false, err);
    if (st == RF_OK && m->hp.n_expert)
        m->hp.expert_weights_norm = true; /* llama normalises the chosen experts' weights */
    return st;
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
