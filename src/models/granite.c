/*
 * granite.c - the granite architecture (IBM Granite 3.x dense, and Granite
 * MoE files written under this name): a llama block with four multipliers
 * from the metadata -
 *   embedding_scale   multiplies the token embeddings,
 *   attention.scale   replaces 1/sqrt(head_dim) on the attention scores,
 *   residual_scale    multiplies each attention and feed-forward output
 *                     before it is added to the residual stream,
 *   logit_scale       divides the logits (required);
 * optional biases on the attention output and the feed-forward, and
 * optionally a mixture of SwiGLU experts (softmax routing, chosen weights
 * renormalised) with a shared expert (expert_shared_feed_forward_length).
 */
#include <stdio.h>

#include "models/models.h"

static rf_status granite_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    bool rope = true;
    float logit_scale = 0.0f;
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    snprintf(key, sizeof key, "%s.logit_scale", hp->arch);
    if (rf_gguf_get_f32(g, key, &logit_scale) != RF_OK || !(logit_scale > 0.0f))
        return rf__err(err, RF_ERR_FORMAT, "missing or invalid required key '%s'", key);
    hp->logit_scale = 1.0f / logit_scale; /* granite divides */
    /* rope.scaling.finetuned = false switches rotary embedding off (NoPE) */
    snprintf(key, sizeof key, "%s.rope.scaling.finetuned", hp->arch);
    if (rf_gguf_get(g, key) && (rf_gguf_get_bool(g, key, &rope) != RF_OK || !rope))
        return rf__err(err, RF_ERR_UNSUPPORTED, "%s: models without rotary embedding are not supported",
                       hp->arch);
    if (hp->n_rot != hp->head_dim_k || hp->head_dim_k != hp->head_dim_v)
        return rf__err(err, RF_ERR_FORMAT, "%s: rotary dims %u must equal the head size %u/%u",
                       hp->arch, hp->n_rot, hp->head_dim_k, hp->head_dim_v);
    if (hp->n_expert && hp->n_expert_used == 0)
        return rf__err(err, RF_ERR_FORMAT, "%s: expert_used_count must be > 0", hp->arch);
    hp->expert_gating = RF_GATING_SOFTMAX;
    hp->expert_weights_norm = true;
    hp->rope_mode = RF_ROPE_NORMAL;
    return RF_OK;
}

static rf_status granite_tensors(rf_model_impl *m, rf_err *err) {
    /* experts are feed_forward_length wide; optional shared experts */
    return rf__llm_llama_tensors(m, false, true, err);
}

/* Adds branch output y (scaled by residual_scale when set) to x. */
static rf_tensor *residual(rf_graph *g, const rf_hparams *hp, rf_tensor *y, rf_tensor *x) {
    if (hp->residual_scale != 0.0f) y = rf__g_scale(g, y, hp->residual_scale);
    return rf__g_add(g, y, x);
}

static rf_tensor *granite_build(const rf_build *b) {
    const rf_hparams *hp = b->hp;
    const rf_weights *w = b->w;
    rf_graph *g = b->g;
    const float eps = hp->norm_rms_eps;
    rf_tensor *x = rf__g_get_rows(g, w->tok_embd, b->tokens); /* [n_embd, n] */
    if (hp->embd_scale != 0.0f) x = rf__g_scale(g, x, hp->embd_scale);
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const rf_layer *l = &w->layers[il];
        rf_tensor *h = rf__g_rms_norm(g, x, l->attn_norm, eps);
        rf_tensor *q = rf__llm_linear(g, l->wq, l->bq, h);
        rf_tensor *k = rf__llm_linear(g, l->wk, l->bk, h);
        rf_tensor *v = rf__llm_linear(g, l->wv, l->bv, h);
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, true);
        x = residual(g, hp, rf__llm_linear(g, l->wo, l->bo, a), x);
        h = rf__g_rms_norm(g, x, l->ffn_norm, eps);
        rf_tensor *y;
        if (hp->n_expert) {
            y = rf__llm_moe(b, l, h);
            if (l->ffn_gate_shexp) {
                rf_tensor *s = rf__g_swiglu(g, rf__g_matmul(g, l->ffn_gate_shexp, h),
                                            rf__g_matmul(g, l->ffn_up_shexp, h));
                y = rf__g_add(g, y, rf__g_matmul(g, l->ffn_down_shexp, s));
            }
        } else {
            y = rf__llm_ffn_gated(g, l, h, false);
        }
        x = residual(g, hp, y, x);
    }
    return rf__llm_logits(b, x);
}

const rf_arch rf__arch_granite = {
    .name = "granite",
    .load_hparams = granite_hparams,
    .load_tensors = granite_tensors,
    .build = granite_build,
};
