/*
 * quant_mix.c - per-tensor type choice of a quantization file type.
 *
 * A faithful port of llama.cpp's src/llama-quant.cpp (tensor_allows_quantization,
 * llama_tensor_get_type, llama_tensor_get_type_impl, tensor_type_fallback),
 * so that a model quantized here has the same tensor types as one quantized
 * by llama.cpp with the same file type. Some rules depend on counters that
 * advance as tensors are visited (attn_v "use more bits" layers), so tensors
 * are visited in llama.cpp's order: by layer number ("blk.N."; others first),
 * then by name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/quant_mix.h"

typedef enum cat {
    CAT_TOKEN_EMBD, CAT_ATTN_Q, CAT_ATTN_V, CAT_ATTN_K, CAT_ATTN_QKV, CAT_ATTN_KV_B,
    CAT_ATTN_OUTPUT, CAT_FFN_UP, CAT_FFN_GATE, CAT_FFN_DOWN, CAT_OUTPUT, CAT_OTHER
} cat;

typedef struct state {
    const rf__mix_model *m;
    rf_ftype ftype;
    int n_attention_wv, i_attention_wv;
    int n_ffn_down, n_ffn_gate, n_ffn_up;
    int i_ffn_down, i_ffn_gate, i_ffn_up;
    uint32_t n_fallback;
    bool has_tied_embeddings;
} state;

static bool has(const char *name, const char *part) { return strstr(name, part) != NULL; }

static bool is_token_embd(const char *name) {
    return !strcmp(name, "token_embd.weight") || !strcmp(name, "per_layer_token_embd.weight");
}

static cat category(const char *name) {
    if (!strcmp(name, "output.weight")) return CAT_OUTPUT;
    if (is_token_embd(name)) return CAT_TOKEN_EMBD;
    if (has(name, "attn_qkv.weight")) return CAT_ATTN_QKV;
    if (has(name, "attn_kv_b.weight")) return CAT_ATTN_KV_B;
    if (has(name, "attn_v.weight")) return CAT_ATTN_V;
    if (has(name, "attn_k.weight")) return CAT_ATTN_K;
    if (has(name, "attn_q.weight")) return CAT_ATTN_Q;
    if (has(name, "attn_output.weight")) return CAT_ATTN_OUTPUT;
    if (has(name, "ffn_up")) return CAT_FFN_UP;
    if (has(name, "ffn_gate")) return CAT_FFN_GATE;
    if (has(name, "ffn_down")) return CAT_FFN_DOWN;
    return CAT_OTHER;
}

static bool cat_is_attn_v(cat c) { return c == CAT_ATTN_V || c == CAT_ATTN_QKV || c == CAT_ATTN_KV_B; }

/* ggml_n_dims: trailing dimensions of size 1 do not count. */
static int n_dims(const int64_t ne[RF_GGUF_MAX_DIMS]) {
    for (int i = RF_GGUF_MAX_DIMS - 1; i >= 1; i--)
        if (ne[i] > 1) return i + 1;
    return 1;
}

static bool arch_is(const rf__mix_model *m, const char *a) { return !strcmp(m->arch, a); }

bool rf__mix_allows_quantization(const rf__mix_model *m, const char *name, const int64_t ne[RF_GGUF_MAX_DIMS]) {
    if (n_dims(ne) < 2) return false;
    size_t len = strlen(name);
    /* ends with "weight" (llama.cpp: name.rfind("weight") == size - 6) */
    const char *last = NULL;
    for (const char *p = strstr(name, "weight"); p; p = strstr(p + 1, "weight")) last = p;
    bool q = last && (size_t)(last - name) + 6 == len;
    static const char *const never[] = {
        "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
        "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight",
        "indexer.q_proj.weight", "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight",
        "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
        "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight",
        "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.",
        "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
    };
    for (size_t i = 0; q && i < RF_ARRAY_LEN(never); i++)
        if (has(name, never[i])) q = false;
    if (!strcmp(name, "position_embd.weight") || !strcmp(name, "token_types.weight")) q = false;
    if (arch_is(m, "glm5-next")) {
        static const char *const glm[] = {
            "hc_", "indexer.attn_q_b", "indexer.attn_k", "indexer.proj", "indexer_compressor_gate",
            "indexer_compressor_ape", "ssm_f_a.weight", "ssm_f_b.weight", "ssm_g_a.weight", "ssm_g_b.weight",
            "ssm_beta.weight", "attn_kv_a_mqa.weight", "attn_k_b.weight", "attn_v_b.weight",
        };
        for (size_t i = 0; q && i < RF_ARRAY_LEN(glm); i++)
            if (has(name, glm[i])) q = false;
    }
    return q;
}

static bool use_more_bits(int i_layer, int n_layers) {
    return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

/* llama.cpp's layer_info: with experts the layer comes from the name. */
static rf_status layer_info(const state *s, int counter, int n_layer, const char *name, int *i_layer,
                            rf_err *err) {
    *i_layer = counter;
    if (s->m->n_expert > 1) {
        int l;
        if (sscanf(name, "blk.%d.", &l) != 1)
            return rf__err(err, RF_ERR_FORMAT, "cannot determine the layer of tensor '%s'", name);
        if (l < 0 || l >= n_layer)
            return rf__err(err, RF_ERR_FORMAT, "tensor '%s': layer %d is outside [0, %d)", name, l, n_layer);
        *i_layer = l;
    }
    return RF_OK;
}

static uint32_t n_gqa(const rf__mix_model *m) { return m->n_head_kv ? m->n_head / m->n_head_kv : 0; }

static int64_t blck(rf_type t) {
    const rf_type_traits *tr = rf_type_get(t);
    return tr ? tr->block_size : 1;
}

static bool is_quantized(rf_type t) {
    const rf_type_traits *tr = rf_type_get(t);
    return tr && tr->is_quantized;
}

static rf_status type_fallback(state *s, int64_t ncols, rf_type target, rf_type *out, rf_err *err) {
    rf_type r = target;
    int64_t qk = blck(target);
    if (ncols % qk != 0) {
        s->n_fallback++;
        switch (target) {
        case RF_TYPE_IQ1_S: case RF_TYPE_IQ1_M: case RF_TYPE_IQ2_XXS: case RF_TYPE_IQ2_XS:
        case RF_TYPE_IQ2_S: case RF_TYPE_IQ3_XXS: case RF_TYPE_IQ3_S: case RF_TYPE_IQ4_XS:
            r = RF_TYPE_IQ4_NL; break;
        case RF_TYPE_Q2_K: case RF_TYPE_Q3_K: case RF_TYPE_TQ1_0: case RF_TYPE_TQ2_0:
            r = RF_TYPE_Q4_0; break;
        case RF_TYPE_Q4_K: r = RF_TYPE_Q5_0; break;
        case RF_TYPE_Q5_K: r = RF_TYPE_Q5_1; break;
        case RF_TYPE_Q6_K: r = RF_TYPE_Q8_0; break;
        default:
            if (qk > 32)
                return rf__err(err, RF_ERR_UNSUPPORTED, "no fallback type is defined for %s",
                               rf_type_get(target)->name);
            break;
        }
        if (ncols % blck(r) != 0) r = RF_TYPE_F16;
    }
    *out = r;
    return RF_OK;
}

#define FT(x) (f == RF_FTYPE_MOSTLY_##x)

/* llama_tensor_get_type_impl */
static rf_status type_impl(state *s, rf_type new_type, const char *name, const int64_t *ne, cat c,
                           rf_type *out, rf_err *err) {
    const rf__mix_model *m = s->m;
    const rf_ftype f = s->ftype;
    const bool falcon = arch_is(m, "falcon");
    const uint32_t gqa = n_gqa(m);
    rf_status st;
    int i_layer;

    if (arch_is(m, "glm5-next") && (has(name, "attn_q_a") || has(name, "attn_q_b") || has(name, "nextn.eh_proj"))) {
        if (new_type != RF_TYPE_F32 && new_type != RF_TYPE_BF16 && new_type != RF_TYPE_F16) {
            *out = RF_TYPE_Q8_0;
            return RF_OK;
        }
    }

    if (c == CAT_OUTPUT || (s->has_tied_embeddings && c == CAT_TOKEN_EMBD)) {
        int64_t nx = ne[0], qk = blck(new_type);
        if (FT(MXFP4_MOE)) new_type = RF_TYPE_Q8_0;
        else if (falcon || nx % qk != 0) new_type = RF_TYPE_Q8_0;
        else if (FT(IQ2_XXS) || FT(IQ2_XS) || FT(IQ3_XXS) || FT(IQ1_S) || FT(IQ2_S) || FT(IQ2_M) || FT(IQ1_M))
            new_type = RF_TYPE_Q5_K;
        else if (new_type != RF_TYPE_Q8_0) new_type = RF_TYPE_Q6_K;
    } else if (FT(MXFP4_MOE)) {
        bool bailing_expert = arch_is(m, "bailingmoe3") && (c == CAT_FFN_UP || c == CAT_FFN_GATE || c == CAT_FFN_DOWN);
        new_type = (ne[2] > 1 && (!arch_is(m, "bailingmoe3") || bailing_expert)) ? RF_TYPE_MXFP4 : RF_TYPE_Q8_0;
    } else if (c == CAT_TOKEN_EMBD) {
        if (FT(IQ2_XXS) || FT(IQ2_XS) || FT(IQ1_S) || FT(IQ1_M)) new_type = RF_TYPE_Q2_K;
        else if (FT(IQ2_S) || FT(IQ2_M)) new_type = RF_TYPE_IQ3_S;
        else if (FT(IQ3_XXS)) new_type = RF_TYPE_IQ3_S;
        else if (FT(TQ1_0) || FT(TQ2_0)) new_type = RF_TYPE_Q4_K;
    } else if (FT(IQ2_XXS) || FT(IQ2_XS) || FT(IQ1_S) || FT(IQ2_S) || FT(IQ2_M) || FT(IQ1_M)) {
        if (cat_is_attn_v(c)) {
            if (gqa >= 4 || m->n_expert >= 4) new_type = RF_TYPE_Q4_K;
            else new_type = FT(IQ2_S) || FT(IQ2_M) ? RF_TYPE_IQ3_S : RF_TYPE_Q2_K;
            s->i_attention_wv++;
        } else if (m->n_expert == 8 && c == CAT_ATTN_K) {
            new_type = RF_TYPE_Q4_K;
        } else if (c == CAT_FFN_DOWN) {
            if (s->i_ffn_down < s->n_ffn_down / 8)
                new_type = FT(IQ2_S) || FT(IQ2_M) ? RF_TYPE_IQ3_S : RF_TYPE_Q2_K;
            s->i_ffn_down++;
        } else if (c == CAT_ATTN_OUTPUT) {
            if (m->n_expert == 8) new_type = RF_TYPE_Q5_K;
            else if (FT(IQ1_S) || FT(IQ1_M)) new_type = RF_TYPE_IQ2_XXS;
            else if (FT(IQ2_S) || FT(IQ2_M)) new_type = RF_TYPE_IQ3_S;
        }
    } else if (cat_is_attn_v(c)) {
        if (FT(Q2_K)) new_type = gqa >= 4 ? RF_TYPE_Q4_K : RF_TYPE_Q3_K;
        else if (FT(Q2_K_S) && gqa >= 4) new_type = RF_TYPE_Q4_K;
        else if (FT(IQ3_XXS)) new_type = gqa >= 4 ? RF_TYPE_Q4_K : RF_TYPE_IQ3_S; /* no imatrix */
        else if ((FT(IQ3_XS) || FT(IQ3_S)) && gqa >= 4) new_type = RF_TYPE_Q4_K;
        else if (FT(IQ3_M)) new_type = RF_TYPE_Q4_K;
        else if (FT(Q3_K_M)) new_type = s->i_attention_wv < 2 ? RF_TYPE_Q5_K : RF_TYPE_Q4_K;
        else if (FT(Q3_K_L)) new_type = RF_TYPE_Q5_K;
        else if ((FT(IQ4_NL) || FT(IQ4_XS)) && gqa >= 4) new_type = RF_TYPE_Q5_K;
        else if ((FT(Q4_K_M) || FT(Q5_K_M)) && use_more_bits(s->i_attention_wv, s->n_attention_wv))
            new_type = RF_TYPE_Q6_K;
        else if (FT(Q4_K_S) && s->i_attention_wv < 4) new_type = RF_TYPE_Q5_K;
        if (m->is_70b && (new_type == RF_TYPE_Q3_K || new_type == RF_TYPE_Q4_K)) new_type = RF_TYPE_Q5_K;
        if (m->n_expert == 8) new_type = RF_TYPE_Q8_0;
        s->i_attention_wv++;
    } else if (c == CAT_ATTN_K) {
        if (m->n_expert == 8) new_type = RF_TYPE_Q8_0;
        else if (FT(IQ3_XS)) new_type = RF_TYPE_IQ3_XXS;
        else if (FT(IQ3_XXS)) new_type = RF_TYPE_IQ2_S;
    } else if (c == CAT_ATTN_Q) {
        if (FT(IQ3_XS)) new_type = RF_TYPE_IQ3_XXS;
        else if (FT(IQ3_XXS)) new_type = RF_TYPE_IQ2_S;
    } else if (c == CAT_FFN_DOWN) {
        int n_layer = s->n_ffn_down;
        if ((st = layer_info(s, s->i_ffn_down, n_layer, name, &i_layer, err))) return st;
        if (FT(Q2_K)) new_type = RF_TYPE_Q3_K;
        else if (FT(Q2_K_S)) {
            if (i_layer < n_layer / 8) new_type = RF_TYPE_Q4_K;
        } else if (FT(IQ3_XXS)) { /* no imatrix */
            new_type = i_layer < n_layer / 8 ? RF_TYPE_Q4_K : RF_TYPE_Q3_K;
        } else if (FT(Q3_K_M)) {
            new_type = i_layer < n_layer / 16                        ? RF_TYPE_Q5_K
                       : !falcon || use_more_bits(i_layer, n_layer) ? RF_TYPE_Q4_K
                                                                    : RF_TYPE_Q3_K;
        } else if (FT(IQ3_M) && (i_layer < n_layer / 8 || (m->n_expert == 8 && use_more_bits(i_layer, n_layer)))) {
            new_type = RF_TYPE_Q4_K;
        } else if (FT(Q3_K_L)) {
            new_type = falcon ? RF_TYPE_Q4_K : RF_TYPE_Q5_K;
        } else if (FT(Q4_K_M)) {
            if (falcon)
                new_type = i_layer < n_layer / 16 ? RF_TYPE_Q6_K
                           : use_more_bits(i_layer, n_layer) ? RF_TYPE_Q5_K : RF_TYPE_Q4_K;
            else if (use_more_bits(i_layer, n_layer))
                new_type = RF_TYPE_Q6_K;
        } else if (i_layer < n_layer / 8 && (FT(IQ4_NL) || FT(IQ4_XS))) { /* no imatrix */
            new_type = RF_TYPE_Q5_K;
        } else if (FT(Q5_K_M) && use_more_bits(i_layer, n_layer)) {
            new_type = RF_TYPE_Q6_K;
        } else if (FT(Q4_K_S) && !falcon && i_layer < n_layer / 8) {
            new_type = RF_TYPE_Q5_K;
        }
        /* (Q4_0/Q5_0 -> Q4_1/Q5_1 in the first layers applies only with an importance matrix) */
        s->i_ffn_down++;
    } else if (c == CAT_ATTN_OUTPUT) {
        if (!falcon) {
            if (m->n_expert == 8) {
                if (FT(Q2_K) || FT(IQ3_XS) || FT(IQ3_XXS) || FT(Q3_K_S) || FT(Q3_K_M) || FT(IQ4_NL) ||
                    FT(Q4_K_S) || FT(Q4_K_M) || FT(IQ3_S) || FT(IQ3_M) || FT(IQ4_XS))
                    new_type = RF_TYPE_Q5_K;
            } else {
                if (FT(Q2_K)) new_type = RF_TYPE_Q3_K;
                else if (FT(IQ3_XXS)) new_type = RF_TYPE_IQ3_S;
                else if (FT(Q3_K_M)) new_type = RF_TYPE_Q4_K;
                else if (FT(Q3_K_L)) new_type = RF_TYPE_Q5_K;
                else if (FT(IQ3_M)) new_type = RF_TYPE_Q4_K;
            }
        } else if (FT(Q3_K_L)) {
            new_type = RF_TYPE_Q4_K;
        }
    } else if (c == CAT_ATTN_QKV) {
        if (FT(Q3_K_M) || FT(Q3_K_L) || FT(IQ3_M)) new_type = RF_TYPE_Q4_K;
        else if (FT(Q4_K_M)) new_type = RF_TYPE_Q5_K;
        else if (FT(Q5_K_M)) new_type = RF_TYPE_Q6_K;
    } else if (c == CAT_FFN_GATE || c == CAT_FFN_UP) {
        int *counter = c == CAT_FFN_GATE ? &s->i_ffn_gate : &s->i_ffn_up;
        int n_layer = c == CAT_FFN_GATE ? s->n_ffn_gate : s->n_ffn_up;
        if ((st = layer_info(s, *counter, n_layer, name, &i_layer, err))) return st;
        if (FT(IQ3_XS) && i_layer >= n_layer / 8 && i_layer < 7 * n_layer / 8) new_type = RF_TYPE_IQ3_XXS;
        (*counter)++;
    }
    *out = new_type;
    return RF_OK;
}

#undef FT

/* ---- visiting order: llama.cpp's weight_name_comparer ---- */

static int layer_of(const char *name) {
    int l = -1;
    if (sscanf(name, "blk.%d.", &l) != 1) l = -1;
    return l;
}

static int cmp_weights(const char *const *names, uint64_t a, uint64_t b) {
    int la = layer_of(names[a]), lb = layer_of(names[b]);
    if (la != lb) return la < lb ? -1 : 1;
    return strcmp(names[a], names[b]);
}

/* Merge sort of indices by (layer, name); tmp holds n entries. */
static void sort_indices(uint64_t *idx, uint64_t *tmp, uint64_t n, const char *const *names) {
    if (n < 2) return;
    uint64_t h = n / 2;
    sort_indices(idx, tmp, h, names);
    sort_indices(idx + h, tmp, n - h, names);
    uint64_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp_weights(names, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

rf_status rf__mix_types(const rf__mix_model *m, rf_ftype ftype, rf_type default_type, bool pure, uint64_t n,
                        const char *const *names, const int64_t (*ne)[RF_GGUF_MAX_DIMS], const rf_type *src_types,
                        rf_type *out, uint32_t *n_fallback, rf_err *err) {
    rf_status st = RF_OK;
    uint64_t *idx = NULL, *tmp = NULL;
    state s = {.m = m, .ftype = ftype, .has_tied_embeddings = true};
    s.n_ffn_down = s.n_ffn_gate = s.n_ffn_up = (int)m->n_layer;
    for (uint64_t i = 0; i < n; i++) {
        cat c = category(names[i]);
        if (cat_is_attn_v(c)) s.n_attention_wv++;
        if (c == CAT_OUTPUT) s.has_tied_embeddings = false;
    }
    idx = rf__calloc(n ? n : 1, sizeof *idx);
    tmp = rf__calloc(n ? n : 1, sizeof *tmp);
    if (!idx || !tmp) { st = rf__err(err, RF_ERR_NOMEM, "out of memory"); goto out; }
    for (uint64_t i = 0; i < n; i++) idx[i] = i;
    sort_indices(idx, tmp, n, names);

    for (uint64_t k = 0; k < n; k++) {
        uint64_t i = idx[k];
        const char *name = names[i];
        if (!rf__mix_allows_quantization(m, name, ne[i])) {
            out[i] = src_types[i];
            continue;
        }
        rf_type t = default_type;
        if (is_quantized(default_type)) {
            if (!pure && (st = type_impl(&s, t, name, ne[i], category(name), &t, err))) goto out;
            if ((st = type_fallback(&s, ne[i][0], t, &t, err))) goto out;
        }
        out[i] = t;
    }
    if (n_fallback) *n_fallback = s.n_fallback;
out:
    rf__free(idx);
    rf__free(tmp);
    return st;
}
