/*
 * mistral3.c - the mistral3 architecture (Ministral 3, Mistral Small
 * 3.1/3.2 text models): a llama block (rotary embedding over adjacent pairs,
 * grouped KV heads, SwiGLU or a mixture of experts) with
 *   - YaRN whose magnitude correction follows the file's
 *     rope.scaling.yarn_log_multiplier (mscale_all_dim): the attention factor
 *     becomes 1 / (0.1 * log_mul * ln(factor) + 1);
 *   - optional position-dependent query scaling (attention.temperature_scale,
 *     "llama 4 scaling"): q * (1 + s * log(floor(pos / n_ctx_orig) + 1));
 *   - optional attention.scale, rope_freqs, biases on the attention output
 *     and the feed-forward.
 */
#include <math.h>
#include <stdio.h>

#include "models/models.h"

static rf_status mistral3_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    float log_mul = 0.0f;
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    snprintf(key, sizeof key, "%s.attention.temperature_scale", hp->arch);
    if (rf_gguf_get(g, key) && rf_gguf_get_f32(g, key, &hp->attn_temp_scale) != RF_OK)
        return rf__err(err, RF_ERR_FORMAT, "key '%s' must be a number", key);
    if (hp->attn_temp_scale != 0.0f && hp->n_ctx_orig == 0)
        return rf__err(err, RF_ERR_FORMAT, "%s: temperature scaling needs an original context length",
                       hp->arch);
    snprintf(key, sizeof key, "%s.rope.scaling.yarn_log_multiplier", hp->arch);
    if (rf_gguf_get(g, key) && rf_gguf_get_f32(g, key, &log_mul) != RF_OK)
        return rf__err(err, RF_ERR_FORMAT, "key '%s' must be a number", key);
    if (log_mul != 0.0f && hp->yarn_ext_factor != 0.0f) {
        /* llama.cpp: get_mscale(factor, 1) / get_mscale(factor, log_mul), of which the
         * rope itself supplies the numerator */
        const float factor = 1.0f / hp->rope_freq_scale;
        if (factor > 1.0f) hp->yarn_attn_factor /= 0.1f * log_mul * logf(factor) + 1.0f;
    }
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

static rf_status mistral3_tensors(rf_model_impl *m, rf_err *err) {
    /* experts are feed_forward_length wide */
    return rf__llm_llama_tensors(m, false, false, err);
}

static rf_tensor *mistral3_build(const rf_build *b) {
    const rf_hparams *hp = b->hp;
    const rf_weights *w = b->w;
    rf_graph *g = b->g;
    const float eps = hp->norm_rms_eps;
    rf_tensor *temp = NULL; /* [1, n]: one query scale per token */
    if (hp->attn_temp_scale != 0.0f)
        temp = rf__g_attn_temp(g, b->pos, hp->attn_temp_scale, (float)hp->n_ctx_orig);
    rf_tensor *x = rf__g_get_rows(g, w->tok_embd, b->tokens); /* [n_embd, n] */
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const rf_layer *l = &w->layers[il];
        rf_tensor *h = rf__g_rms_norm(g, x, l->attn_norm, eps);
        rf_tensor *q = rf__llm_linear(g, l->wq, l->bq, h);
        rf_tensor *k = rf__llm_linear(g, l->wk, l->bk, h);
        rf_tensor *v = rf__llm_linear(g, l->wv, l->bv, h);
        if (temp) q = rf__g_mul(g, q, temp); /* commutes with the rotation */
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, true);
        x = rf__g_add(g, rf__llm_linear(g, l->wo, l->bo, a), x);
        h = rf__g_rms_norm(g, x, l->ffn_norm, eps);
        x = rf__g_add(g, hp->n_expert ? rf__llm_moe(b, l, h) : rf__llm_ffn_gated(g, l, h, false), x);
    }
    return rf__llm_logits(b, x);
}

const rf_arch rf__arch_mistral3 = {
    .name = "mistral3",
    .load_hparams = mistral3_hparams,
    .load_tensors = mistral3_tensors,
    .build = mistral3_build,
};
