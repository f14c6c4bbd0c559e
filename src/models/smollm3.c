/*
 * smollm3.c - the smollm3 architecture (SmolLM3): a llama block (RMSNorm,
 * grouped KV heads, SwiGLU, rotary embedding over adjacent pairs) in which
 * every fourth layer (layers 3, 7, 11, ...) attends without positional
 * encoding (NoPE), as llama.cpp fixes it for this architecture.
 */
#include <stdio.h>

#include "models/models.h"

enum { NOPE_STEP = 4 };

static rf_status smollm3_hparams(rf_hparams *hp, const rf_gguf *g, rf_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", hp->arch);
    if (!rf_gguf_get(g, key)) return rf__err(err, RF_ERR_FORMAT, "missing required key '%s'", key);
    if (hp->n_rot != hp->head_dim_k || hp->head_dim_k != hp->head_dim_v)
        return rf__err(err, RF_ERR_FORMAT, "%s: rotary dims %u must equal the head size %u/%u",
                       hp->arch, hp->n_rot, hp->head_dim_k, hp->head_dim_v);
    hp->rope_mode = RF_ROPE_NORMAL;
    return RF_OK;
}

static rf_status smollm3_tensors(rf_model_impl *m, rf_err *err) {
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
    for (uint32_t i = 0; i < hp->n_layer; i++) {
        rf_layer *l = &w->layers[i];
        const int64_t nq = hd * hp->n_head[i], nkv = hd * hp->n_head_kv[i];
        const int64_t n_ff = hp->n_ff[i];
        T(&l->attn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.attn_norm.weight", i);
        T(&l->wq, REQ, n_embd, nq, -1, "blk.%u.attn_q.weight", i);
        T(&l->wk, REQ, n_embd, nkv, -1, "blk.%u.attn_k.weight", i);
        T(&l->wv, REQ, n_embd, nkv, -1, "blk.%u.attn_v.weight", i);
        T(&l->bq, OPT | F32, nq, -1, -1, "blk.%u.attn_q.bias", i);
        T(&l->bk, OPT | F32, nkv, -1, -1, "blk.%u.attn_k.bias", i);
        T(&l->bv, OPT | F32, nkv, -1, -1, "blk.%u.attn_v.bias", i);
        T(&l->wo, REQ, nq, n_embd, -1, "blk.%u.attn_output.weight", i);
        T(&l->bo, OPT | F32, n_embd, -1, -1, "blk.%u.attn_output.bias", i);
        T(&l->ffn_norm, REQ | F32, n_embd, -1, -1, "blk.%u.ffn_norm.weight", i);
        T(&l->ffn_gate, REQ, n_embd, n_ff, -1, "blk.%u.ffn_gate.weight", i);
        T(&l->ffn_up, REQ, n_embd, n_ff, -1, "blk.%u.ffn_up.weight", i);
        T(&l->ffn_down, REQ, n_ff, n_embd, -1, "blk.%u.ffn_down.weight", i);
        T(&l->ffn_gate_b, OPT | F32, n_ff, -1, -1, "blk.%u.ffn_gate.bias", i);
        T(&l->ffn_up_b, OPT | F32, n_ff, -1, -1, "blk.%u.ffn_up.bias", i);
        T(&l->ffn_down_b, OPT | F32, n_embd, -1, -1, "blk.%u.ffn_down.bias", i);
    }
#undef T
    return RF_OK;
}

static rf_tensor *smollm3_build(const rf_build *b) {
    const rf_hparams *hp = b->hp;
    const rf_weights *w = b->w;
    rf_graph *g = b->g;
    rf_tensor *x = rf__g_get_rows(g, w->tok_embd, b->tokens); /* [n_embd, n] */
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        const rf_layer *l = &w->layers[il];
        const bool rope = (il + 1) % NOPE_STEP != 0;
        rf_tensor *h = rf__g_rms_norm(g, x, l->attn_norm, hp->norm_rms_eps);
        rf_tensor *q = rf__llm_linear(g, l->wq, l->bq, h);
        rf_tensor *k = rf__llm_linear(g, l->wk, l->bk, h);
        rf_tensor *v = rf__llm_linear(g, l->wv, l->bv, h);
        rf_tensor *a = rf__llm_attention(b, il, q, k, v, rope);
        x = rf__g_add(g, rf__llm_linear(g, l->wo, l->bo, a), x);
        h = rf__g_rms_norm(g, x, l->ffn_norm, hp->norm_rms_eps);
        x = rf__g_add(g, rf__llm_ffn_gated(g, l, h, false), x);
    }
    return rf__llm_logits(b, x);
}

const rf_arch rf__arch_smollm3 = {
    .name = "smollm3",
    .load_hparams = smollm3_hparams,
    .load_tensors = smollm3_tensors,
    .build = smollm3_build,
};
