/*
 * glm4moe.c - the glm4moe architecture (GLM-4.5, GLM-4.5-Air, GLM-4.6):
 *   - attention with q/k/v biases, optional per-head QK-norm, NEOX rotary
 *     embedding over rope.dimension_count dims (half the head);
 *   - post_attention_norm as the feed-forward pre-norm;
 *   - leading_dense_block_count dense SwiGLU layers, then mixtures of
 *     experts: sigmoid scores (expert_gating_func, sigmoid when absent),
 *     experts chosen by score + exp_probs_b, weighed by score, renormalised
 *     (expert_weights_norm) and scaled (expert_weights_scale), plus
 *     expert_shared_count shared experts;
 *   - nextn_predict_layers multi-token-prediction layers at the end of the
 *     block list, which plain decoding does not run (and needs no cache for).
 */
#include <stdio.h>

#include "models/models.h"

static rf_status glm4moe_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    uint32_t nextn = 0, gating = 0;
    const char *required[] = {"attention.layer_norm_rms_epsilon", "expert_feed_forward_length",
                              "expert_shared_count"};
    for (size_t i = 0; i < RF_ARRAY_LEN(required); i++) {
        snprintf(key, sizeof key, "%s.%s", hp->arch, required[i]);
        if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    }
    snprintf(key, sizeof key, "%s.nextn_predict_layers", hp->arch);
    if (rf_gguf_get(g, key) && (rf_gguf_get_u32(g, key, &nextn) != RF_OK || nextn >= hp->n_layer))
        return rf__err(err, RF_ERR_FORMAT, "key '%s' out of range", key);
    hp->n_layer -= nextn; /* prediction layers: not part of decoding */
    snprintf(key, sizeof key, "%s.leading_dense_block_count", hp->arch);
    if (rf_gguf_get(g, key) &&
        (rf_gguf_get_u32(g, key, &hp->n_layer_dense_lead) != RF_OK || hp->n_layer_dense_lead > hp->n_layer))
        return rf__err(err, RF_ERR_FORMAT, "key '%s' out of range", key);
    snprintf(key, sizeof key, "%s.expert_gating_func", hp->arch);
    if (rf_gguf_get(g, key) && rf_gguf_get_u32(g, key, &gating) != RF_OK)
        return rf__err(err, RF_ERR_FORMAT, "key '%s' must be an integer", key);
    hp->expert_gating = gating == 1 ? RF_GATING_SOFTMAX : RF_GATING_SIGMOID;
    if (hp->n_layer_dense_lead < hp->n_layer && (hp->n_expert == 0 || hp->n_expert_used == 0))
        return rf__err(err, RF_ERR_FORMAT, "%s: expert_count and expert_used_count must be > 0",
                       hp->arch);
    if (hp->head_dim_k != hp->head_dim_v)
        return rf__err(err, RF_ERR_FORMAT, "%s: key and value head sizes differ (%u, %u)", hp->arch,
                       hp->head_dim_k, hp->head_dim_v);
    hp->n_ff_shexp = hp->n_ff_exp * hp->n_expert_shared;
    hp->rope_mode = RF_ROPE_NEOX;
    return RF_OK;
}

static rf_status glm4moe_tensors(rf_model_impl *m, rf_err *err) {
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
    T(&w->output, OPT, n_embd, n_vocab, -1, "output.weight");
    if (!w->output) {
        w->output = w->tok_embd;
        m->hp.tied_embeddings = true;
    }
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
        T(&l->attn_q_norm, OPT | F32, hd, -1, -1, "blk.%u.attn_q_norm.weight", i);
        T(&l->attn_k_norm, OPT | F32, hd, -1, -1, "blk.%u.attn_k_norm.weight", i);
        if (!l->attn_q_norm != !l->attn_k_norm)
            return rf__err(err, RF_ERR_FORMAT, "layer %u: QK-norm needs both q and k weights", i);
        T(&l->wo, REQ, nq, n_embd, -1, "blk.%u.attn_output.weight", i);
        T(&l->attn_post_norm, REQ | F32, n_embd, -1, -1, "blk.%u.post_attention_norm.weight", i);
        if (i < hp->n_layer_dense_lead) {
            const int64_t n_ff = hp->n_ff[i];
            T(&l->ffn_gate, REQ, n_embd, n_ff, -1, "blk.%u.ffn_gate.weight", i);
            T(&l->ffn_up, REQ, n_embd, n_ff, -1, "blk.%u.ffn_up.weight", i);
            T(&l->ffn_down, REQ, n_ff, n_embd, -1, "blk.%u.ffn_down.weight", i);
            continue;
        }
        T(&l->ffn_gate_inp, REQ, n_embd, n_exp, -1, "blk.%u.ffn_gate_inp.weight", i);
        T(&l->ffn_exp_probs_b, REQ | F32, n_exp, -1, -1, "blk.%u.exp_probs_b.bias", i);
        T(&l->ffn_gate_exps, REQ, n_embd, n_ff_exp, n_exp, "blk.%u.ffn_gate_exps.weight", i);
        T(&l->ffn_up_exps, REQ, n_embd, n_ff_exp, n_exp, "blk.%u.ffn_up_exps.weight", i);
        T(&l->ffn_down_exps, REQ, n_ff_exp, n_embd, n_exp, "blk.%u.ffn_down_exps.weight", i);
        if (n_sh) {
            T(&l->ffn_gate_shexp, REQ, n_embd, n_sh, -1, "blk.%u.ffn_gate_shexp.weight", i);
            T(&l->ffn_up_shexp, REQ, n_embd, n_sh, -1, "blk.%u.ffn_up_shexp.weight", i);
            T(&l->ffn_down_shexp, REQ, n_sh, n_embd, -1, "blk.%u.ffn_down_shexp.weight", i);
        }
    }
#undef T
    return RF_OK;
}

static rf_tensor *glm4moe_build(const rf_build *b) {
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
        if (l->attn_q_norm) {
            q = rf__llm_head_norm(g, q, l->attn_q_norm, hp->head_dim_k, eps);
            k = rf__llm_head_norm(g, k, l->attn_k_norm, hp->head_dim_k, eps);
        }
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, true);
        x = rf__g_matmul_add(g, l->wo, a, x);
        h = rf__g_rms_norm(g, x, l->attn_post_norm, eps);
        rf_tensor *y;
        if (il < hp->n_layer_dense_lead) {
            y = rf__llm_ffn_gated(g, l, h, false);
        } else {
            y = rf__llm_moe(b, l, h);
            if (l->ffn_gate_shexp) {
                rf_tensor *s = rf__g_swiglu(g, rf__g_matmul(g, l->ffn_gate_shexp, h),
                                            rf__g_matmul(g, l->ffn_up_shexp, h));
                y = rf__g_add(g, y, rf__g_matmul(g, l->ffn_down_shexp, s));
            }
        }
        x = rf__g_add(g, y, x);
    }
    return rf__llm_logits(b, x);
}

const rf_arch rf__arch_glm4moe = {
    .name = "glm4moe",
    .load_hparams = glm4moe_hparams,
    .load_tensors = glm4moe_tensors,
    .build = glm4moe_build,
};
