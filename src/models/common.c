/* common.c - building blocks shared by the architecture files. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/models.h"

void rf__llm_rope_params(const rf_hparams *hp, uint32_t il, rf_rope_params *p) {
    bool swa = hp->swa_layer[il];
    p->n_dims = (int32_t)hp->n_rot;
    p->mode = hp->rope_mode;
    p->n_ctx_orig = (int32_t)hp->n_ctx_orig;
    p->freq_base = swa ? hp->rope_freq_base_swa : hp->rope_freq_base;
    p->freq_scale = swa ? hp->rope_freq_scale_swa : hp->rope_freq_scale;
    p->ext_factor = hp->yarn_ext_factor;
    p->attn_factor = hp->yarn_attn_factor;
    p->beta_fast = hp->yarn_beta_fast;
    p->beta_slow = hp->yarn_beta_slow;
}

rf_tensor *rf__llm_linear(rf_graph *g, rf_tensor *w, rf_tensor *b, rf_tensor *x) {
    rf_tensor *y = rf__g_matmul(g, w, x);
    return b ? rf__g_add(g, y, b) : y;
}

rf_tensor *rf__llm_attention(const rf_build *b, uint32_t il, rf_tensor *q, rf_tensor *k,
                             rf_tensor *v, bool rope) {
    const rf_hparams *hp = b->hp;
    rf_graph *g = b->g;
    int64_t n = b->n_tokens, nh = hp->n_head[il], nkv = hp->n_head_kv[il];
    q = rf__g_reshape(g, q, hp->head_dim_k, nh, n, 1);
    k = rf__g_reshape(g, k, hp->head_dim_k, nkv, n, 1);
    if (rope) {
        rf_rope_params rp;
        rf__llm_rope_params(hp, il, &rp);
        rf_tensor *ff = b->w->layers[il].rope_freqs ? b->w->layers[il].rope_freqs : b->w->rope_freqs;
        q = rf__g_rope(g, q, b->pos, ff, &rp);
        k = rf__g_rope(g, k, b->pos, ff, &rp);
    }
    rf__g_kv_store(g, b->k_cache[il], k, b->pos);
    rf__g_kv_store(g, b->v_cache[il], v, b->pos);
    rf_attn_params ap = {
        .n_head = (int32_t)nh,
        .n_head_kv = (int32_t)nkv,
        .head_dim_k = (int32_t)hp->head_dim_k,
        .head_dim_v = (int32_t)hp->head_dim_v,
        .window = hp->swa_layer[il] ? (int32_t)hp->n_swa : 0,
        .scale = hp->attn_scale != 0.0f ? hp->attn_scale : 1.0f / sqrtf((float)hp->head_dim_k),
        .softcap = hp->attn_softcap,
    };
    return rf__g_attention_sinks(g, q, b->k_cache[il], b->v_cache[il], b->pos,
                                 b->w->layers[il].attn_sinks, &ap);
}

rf_tensor *rf__llm_ffn_gated(rf_graph *g, const rf_layer *l, rf_tensor *x, bool gelu) {
    rf_tensor *gate = rf__llm_linear(g, l->ffn_gate, l->ffn_gate_b, x);
    rf_tensor *up = rf__llm_linear(g, l->ffn_up, l->ffn_up_b, x);
    rf_tensor *h = gelu ? rf__g_geglu(g, gate, up) : rf__g_swiglu(g, gate, up);
    return rf__llm_linear(g, l->ffn_down, l->ffn_down_b, h);
}

rf_tensor *rf__llm_moe(const rf_build *b, const rf_layer *l, rf_tensor *x) {
    const rf_hparams *hp = b->hp;
    rf_graph *g = b->g;
    int64_t n = b->n_tokens, nu = hp->n_expert_used;
    if (!x) return NULL;
    rf_tensor *logits = rf__g_matmul(g, l->ffn_gate_inp, x);          /* [n_expert, n] */
    rf_tensor *sel, *wts;
    if (hp->expert_gating == RF_GATING_SIGMOID) {
        /* sigmoid scores; experts chosen by score + selection bias, weighed by score */
        rf_tensor *probs = rf__llm_sigmoid(g, logits);
        rf_tensor *choose = l->ffn_exp_probs_b ? rf__g_add(g, probs, l->ffn_exp_probs_b) : probs;
        sel = rf__g_topk(g, choose, (int)nu);                           /* [n_used, n] */
        wts = rf__g_take(g, probs, sel);
        if (hp->expert_weights_norm) wts = rf__g_sum_norm(g, wts, 6.103515625e-5f);
    } else {
        sel = rf__g_topk(g, logits, (int)nu);                           /* [n_used, n] */
        if (hp->expert_weights_norm) /* softmax over the chosen = normalised softmax weights */
            wts = rf__g_softmax(g, rf__g_take(g, logits, sel), 1.0f);
        else
            wts = rf__g_take(g, rf__g_softmax(g, logits, 1.0f), sel);
    }
    if (hp->expert_weights_scale != 0.0f && hp->expert_weights_scale != 1.0f)
        wts = rf__g_scale(g, wts, hp->expert_weights_scale);
    rf_tensor *x3 = rf__g_reshape(g, x, x->ne[0], 1, n, 1);
    rf_tensor *gate = rf__g_matmul_id(g, l->ffn_gate_exps, x3, sel);   /* [n_ff, n_used, n] */
    rf_tensor *up = rf__g_matmul_id(g, l->ffn_up_exps, x3, sel);
    rf_tensor *h = rf__g_swiglu(g, gate, up);
    rf_tensor *y = rf__g_matmul_id(g, l->ffn_down_exps, h, sel);       /* [n_embd, n_used, n] */
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

rf_tensor *rf__llm_output_rows(const rf_build *b, rf_tensor *x) {
    if (!x || b->all_logits || b->n_tokens == 1) return x;
    return rf__g_rows(b->g, x, b->n_tokens - 1, 1);
}

rf_tensor *rf__llm_logits(const rf_build *b, rf_tensor *x) {
    const rf_hparams *hp = b->hp;
    rf_graph *g = b->g;
    x = rf__llm_output_rows(b, x);
    x = rf__g_rms_norm(g, x, b->w->output_norm, hp->norm_rms_eps);
    rf_tensor *logits = rf__g_matmul(g, b->w->output, x);
    if (hp->logit_scale != 0.0f) logits = rf__g_scale(g, logits, hp->logit_scale);
    if (hp->final_softcap != 0.0f) logits = rf__g_softcap(g, logits, hp->final_softcap);
    return logits;
}

/* ---- helpers for architectures beyond llama ---- */

rf_status rf__hparams_swa_pattern(rf_hparams *hp, const rf_gguf *g, uint32_t default_period,
                                  rf_err *err) {
    char key[160];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", hp->arch);
    const rf_gguf_value *v = rf_gguf_get(g, key);
    memset(hp->swa_layer, 0, sizeof hp->swa_layer);
    if (v && v->type == RF_GGUF_ARRAY) {
        /* one flag per layer */
        rf_gguf_arr_iter it;
        rf_gguf_value e;
        uint32_t i = 0;
        if (v->v.arr.n != hp->n_layer)
            return rf__err(err, RF_ERR_FORMAT, "key '%s' has %llu values, expected %u", key,
                           (unsigned long long)v->v.arr.n, hp->n_layer);
        rf_gguf_arr_iter_init(&it, v);
        while (i < hp->n_layer && rf_gguf_arr_iter_next(&it, &e)) {
            if (e.type == RF_GGUF_BOOL || e.type == RF_GGUF_U8 || e.type == RF_GGUF_U16 ||
                e.type == RF_GGUF_U32 || e.type == RF_GGUF_U64)
                hp->swa_layer[i] = e.v.u != 0;
            else if (e.type == RF_GGUF_I8 || e.type == RF_GGUF_I16 || e.type == RF_GGUF_I32 ||
                     e.type == RF_GGUF_I64)
                hp->swa_layer[i] = e.v.i != 0;
            else
                return rf__err(err, RF_ERR_FORMAT, "key '%s': elements must be booleans", key);
            i++;
        }
        if (i != hp->n_layer) return rf__err(err, RF_ERR_FORMAT, "key '%s' is truncated", key);
    } else {
        /* a period n: layer il slides unless il % n == n - 1 (n == 0: all slide) */
        uint32_t n = default_period;
        if (v) {
            rf_status st = rf_gguf_get_u32(g, key, &n);
            if (st != RF_OK)
                return rf__err(err, RF_ERR_FORMAT, "key '%s': %s", key, rf_status_str(st));
        }
        for (uint32_t il = 0; il < hp->n_layer; il++)
            hp->swa_layer[il] = n == 0 || il % n < n - 1;
    }
    if (hp->n_swa == 0) memset(hp->swa_layer, 0, sizeof hp->swa_layer);
    return RF_OK;
}

rf_tensor *rf__llm_head_norm(rf_graph *g, rf_tensor *x, rf_tensor *w, int64_t head_dim,
                             float eps) {
    if (!x) return NULL;
    int64_t ne0 = x->ne[0], ne1 = x->ne[1];
    rf_tensor *h = rf__g_reshape(g, x, head_dim, ne0 / head_dim * ne1, 1, 1);
    h = rf__g_rms_norm(g, h, w, eps);
    return rf__g_reshape(g, h, ne0, ne1, 1, 1);
}

rf_tensor *rf__llm_sigmoid(rf_graph *g, rf_tensor *x) {
    /* sigmoid(x) = 0.5 + 0.5 tanh(x / 2) = 0.25 * softcap_2(x) + 0.5 */
    rf_tensor *t = rf__g_softcap(g, x, 2.0f);
    if (!t) return NULL;
    rf_op_params p = {.scale = {0.25f, 0.5f}};
    rf_tensor *d = rf__g_new(g, RF_TYPE_F32, t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
    return rf__g_op(g, RF_OP_SCALE, d, (rf_tensor *[]){t}, 1, &p);
}

/* The llama tensor table (also Mistral 3, Granite): see models.h. */
rf_status rf__llm_llama_tensors(rf_model_impl *m, bool ff_exp_key, bool shared_experts, rf_err *err) {
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
            const int64_t n_exp = hp->n_expert;
            const int64_t n_ff_exp = ff_exp_key && hp->n_ff_exp ? hp->n_ff_exp : n_ff;
            T(&l->ffn_gate_inp, REQ, n_embd, n_exp, -1, "blk.%u.ffn_gate_inp.weight", i);
            T(&l->ffn_gate_exps, REQ, n_embd, n_ff_exp, n_exp, "blk.%u.ffn_gate_exps.weight", i);
            T(&l->ffn_up_exps, REQ, n_embd, n_ff_exp, n_exp, "blk.%u.ffn_up_exps.weight", i);
            T(&l->ffn_down_exps, REQ, n_ff_exp, n_embd, n_exp, "blk.%u.ffn_down_exps.weight", i);
            if (shared_experts && hp->n_ff_shexp) {
                const int64_t n_sh = hp->n_ff_shexp;
                T(&l->ffn_gate_shexp, REQ, n_embd, n_sh, -1, "blk.%u.ffn_gate_shexp.weight", i);
                T(&l->ffn_up_shexp, REQ, n_embd, n_sh, -1, "blk.%u.ffn_up_shexp.weight", i);
                T(&l->ffn_down_shexp, REQ, n_sh, n_embd, -1, "blk.%u.ffn_down_shexp.weight", i);
            }
        }
    }
#undef T
    if (hp->n_expert) {
        if (hp->n_expert_used == 0 || hp->n_expert_used > hp->n_expert)
            return rf__err(err, RF_ERR_FORMAT, "expert_used_count %u out of range 1..%u",
                           hp->n_expert_used, hp->n_expert);
    }
    return RF_OK;
}
