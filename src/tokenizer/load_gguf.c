/* load_gguf.c - fills an rf_vocab_desc from the tokenizer.ggml.* metadata of a GGUF file. */
#include <stdio.h>
#include <string.h>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

#define KP "tokenizer.ggml."

/* NUL-terminated copy of a string key (absent: *out = NULL). */
static rf_status get_cstr(const rf_gguf *g, const char *key, char **out, rf_err *err) {
    rf_str s;
    *out = NULL;
    rf_status st = rf_gguf_get_str(g, key, &s);
    if (st == RF_ERR_NOT_FOUND) return RF_OK;
    if (st) return rf__err(err, RF_ERR_FORMAT, "%s is not a string", key);
    if (s.len > 4096) return rf__err(err, RF_ERR_FORMAT, "%s is %llu bytes long", key, (unsigned long long)s.len);
    *out = rf__strndup(s.ptr, (size_t)s.len);
    if (!*out) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    return RF_OK;
}

static rf_status get_id(const rf_gguf *g, const char *name, int64_t *out, rf_err *err) {
    char key[96];
    snprintf(key, sizeof key, KP "%s", name);
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_OK;
    switch (v->type) {
    case RF_GGUF_U8: case RF_GGUF_U16: case RF_GGUF_U32: case RF_GGUF_U64:
        *out = v->v.u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v->v.u;
        return RF_OK;
    case RF_GGUF_I8: case RF_GGUF_I16: case RF_GGUF_I32: case RF_GGUF_I64:
        *out = v->v.i < 0 ? -1 : v->v.i; /* a negative id means "none" */
        return RF_OK;
    default:
        return rf__err(err, RF_ERR_FORMAT, "%s has type %s, not an integer", key, rf_gguf_vtype_name(v->type));
    }
}

static rf_status get_flag(const rf_gguf *g, const char *key, int8_t *out, rf_err *err) {
    bool b;
    rf_status st = rf_gguf_get_bool(g, key, &b);
    if (st == RF_ERR_NOT_FOUND) return RF_OK;
    if (st) return rf__err(err, RF_ERR_FORMAT, "%s is not a boolean", key);
    *out = b;
    return RF_OK;
}

/* Views of the strings of an array key; NULL/0 when absent. */
static rf_status get_strings(const rf_gguf *g, const char *key, rf_tok_text **out, uint32_t *n, rf_err *err) {
    *out = NULL;
    *n = 0;
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_OK;
    if (v->type != RF_GGUF_ARRAY || v->v.arr.elem_type != RF_GGUF_STRING)
        return rf__err(err, RF_ERR_FORMAT, "%s is not an array of strings", key);
    if (v->v.arr.n > (uint64_t)INT32_MAX - 1)
        return rf__err(err, RF_ERR_FORMAT, "%s has %llu elements", key, (unsigned long long)v->v.arr.n);
    rf_tok_text *a = rf__malloc((v->v.arr.n ? v->v.arr.n : 1) * sizeof *a);
    if (!a) return rf__err(err, RF_ERR_NOMEM, "out of memory for %s", key);
    rf_gguf_arr_iter it;
    rf_gguf_value e;
    uint32_t k = 0;
    rf_gguf_arr_iter_init(&it, v);
    while (k < v->v.arr.n && rf_gguf_arr_iter_next(&it, &e)) {
        a[k].ptr = e.v.s.ptr;
        a[k].len = (size_t)e.v.s.len;
        k++;
    }
    *out = a;
    *n = k;
    return RF_OK;
}

rf_status rf__tokenizer_load(const rf_gguf *g, rf_tokenizer **out, rf_err *err) {
    rf_status st = RF_OK;
    rf_vocab_desc d;
    char *model = NULL, *pre = NULL, *name = NULL, *arch = NULL;
    rf_tok_text *tokens = NULL, *merges = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    uint32_t n_tokens = 0, n_merges = 0;
    rf__vocab_desc_init(&d);
    if (!g || !out) return rf__err(err, RF_ERR_INVALID_ARG, "rf__tokenizer_load: NULL argument");
    *out = NULL;

    if ((st = get_cstr(g, KP "model", &model, err))) goto out;
    if (!model) {
        st = rf__err(err, RF_ERR_NOT_FOUND, "the file has no tokenizer (" KP "model is missing)");
        goto out;
    }
    if ((st = get_cstr(g, KP "pre", &pre, err))) goto out;
    if ((st = get_cstr(g, "general.name", &name, err))) goto out;
    if ((st = get_cstr(g, "general.architecture", &arch, err))) goto out;
    if ((st = get_strings(g, KP "tokens", &tokens, &n_tokens, err))) goto out;
    if (!tokens) {
        st = rf__err(err, RF_ERR_FORMAT, KP "tokens is missing");
        goto out;
    }
    if ((st = get_strings(g, KP "merges", &merges, &n_merges, err))) goto out;

    const rf_gguf_value *v = rf_gguf_get(g, KP "scores");
    if (v) {
        if (v->type != RF_GGUF_ARRAY || (v->v.arr.elem_type != RF_GGUF_F32 && v->v.arr.elem_type != RF_GGUF_I32)) {
            st = rf__err(err, RF_ERR_FORMAT, KP "scores is not an array of f32 or i32");
            goto out;
        }
        if (v->v.arr.n < n_tokens) {
            st = rf__err(err, RF_ERR_FORMAT, KP "scores has %llu entries for %u tokens",
                         (unsigned long long)v->v.arr.n, n_tokens);
            goto out;
        }
        scores = rf__malloc(v->v.arr.n * sizeof *scores);
        if (!scores) {
            st = rf__err(err, RF_ERR_NOMEM, "out of memory for scores");
            goto out;
        }
        if ((st = rf_gguf_get_arr_f32(g, KP "scores", scores, v->v.arr.n))) {
            st = rf__err(err, RF_ERR_FORMAT, "cannot read " KP "scores");
            goto out;
        }
    }
    v = rf_gguf_get(g, KP "token_type");
    if (v) {
        if (v->type != RF_GGUF_ARRAY || v->v.arr.elem_type != RF_GGUF_I32) {
            st = rf__err(err, RF_ERR_FORMAT, KP "token_type is not an array of i32");
            goto out;
        }
        if (v->v.arr.n < n_tokens) {
            st = rf__err(err, RF_ERR_FORMAT, KP "token_type has %llu entries for %u tokens",
                         (unsigned long long)v->v.arr.n, n_tokens);
            goto out;
        }
        types = rf__malloc(v->v.arr.n * sizeof *types);
        if (!types) {
            st = rf__err(err, RF_ERR_NOMEM, "out of memory for token types");
            goto out;
        }
        if ((st = rf_gguf_get_arr_i32(g, KP "token_type", types, v->v.arr.n))) {
            st = rf__err(err, RF_ERR_FORMAT, "cannot read " KP "token_type");
            goto out;
        }
    }
    v = rf_gguf_get(g, KP "precompiled_charsmap");
    if (v) {
        if (v->type != RF_GGUF_ARRAY || (v->v.arr.elem_type != RF_GGUF_U8 && v->v.arr.elem_type != RF_GGUF_I8)) {
            st = rf__err(err, RF_ERR_FORMAT, KP "precompiled_charsmap is not a byte array");
            goto out;
        }
        d.charsmap = v->v.arr.data;
        d.charsmap_len = (size_t)v->v.arr.n;
    }

    struct {
        const char *key;
        int64_t *slot;
    } ids[] = {
        {"bos_token_id", &d.bos}, {"eos_token_id", &d.eos}, {"eot_token_id", &d.eot},
        {"eom_token_id", &d.eom}, {"unknown_token_id", &d.unk}, {"seperator_token_id", &d.sep},
        {"padding_token_id", &d.pad}, {"mask_token_id", &d.mask},
        {"fim_pre_token_id", &d.fim_pre}, {"fim_suf_token_id", &d.fim_suf},
        {"fim_mid_token_id", &d.fim_mid}, {"fim_pad_token_id", &d.fim_pad},
        {"fim_rep_token_id", &d.fim_rep}, {"fim_sep_token_id", &d.fim_sep},
        {"prefix_token_id", &d.fim_pre}, {"suffix_token_id", &d.fim_suf}, {"middle_token_id", &d.fim_mid},
    };
    for (size_t i = 0; i < RF_ARRAY_LEN(ids); i++)
        if ((st = get_id(g, ids[i].key, ids[i].slot, err))) goto out;
    if ((st = get_flag(g, KP "add_bos_token", &d.add_bos, err)) ||
        (st = get_flag(g, KP "add_eos_token", &d.add_eos, err)) ||
        (st = get_flag(g, KP "add_sep_token", &d.add_sep, err)) ||
        (st = get_flag(g, KP "add_space_prefix", &d.add_space_prefix, err)) ||
        (st = get_flag(g, KP "remove_extra_whitespaces", &d.remove_extra_ws, err)) ||
        (st = get_flag(g, KP "normalizer.lowercase", &d.lowercase, err)) ||
        (st = get_flag(g, KP "normalizer.strip_accents", &d.strip_accents, err)))
        goto out;

    d.model = model;
    d.pre = pre;
    d.name = name;
    d.arch = arch;
    d.n_tokens = n_tokens;
    d.tokens = tokens;
    d.scores = scores;
    d.types = types;
    d.n_merges = n_merges;
    d.merges = merges;
    st = rf__tokenizer_create(&d, out, err);
out:
    rf__free(model);
    rf__free(pre);
    rf__free(name);
    rf__free(arch);
    rf__free(tokens);
    rf__free(merges);
    rf__free(scores);
    rf__free(types);
    return st;
}
