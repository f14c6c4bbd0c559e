/*
 * api.c - the public API for models, tokens, contexts and chat templates
 * (generation is in generate.c).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/api.h"
#include "template/template.h"

void rf__err_copy(const rf_err *e, char *buf, size_t len) {
    if (buf && len) snprintf(buf, len, "%s", e->msg[0] ? e->msg : rf_status_str(e->status));
}

/* ---- models ---- */

rf_model_params rf_model_params_default(void) {
    return (rf_model_params){.progress = NULL, .progress_user = NULL, .prefault = true};
}

static const char *ftype_name(uint32_t ft) {
    static const char *const names[] = {
        [0] = "F32",      [1] = "F16",     [2] = "Q4_0",    [3] = "Q4_1",    [7] = "Q8_0",
        [8] = "Q5_0",     [9] = "Q5_1",    [10] = "Q2_K",   [11] = "Q3_K_S", [12] = "Q3_K_M",
        [13] = "Q3_K_L",  [14] = "Q4_K_S", [15] = "Q4_K_M", [16] = "Q5_K_S", [17] = "Q5_K_M",
        [18] = "Q6_K",    [19] = "IQ2_XXS", [20] = "IQ2_XS", [21] = "Q2_K_S", [22] = "IQ3_XS",
        [23] = "IQ3_XXS", [24] = "IQ1_S",  [25] = "IQ4_NL", [26] = "IQ3_S",  [27] = "IQ3_M",
        [28] = "IQ2_S",   [29] = "IQ2_M",  [30] = "IQ4_XS", [31] = "IQ1_M",  [32] = "BF16",
        [36] = "TQ1_0",   [37] = "TQ2_0",  [38] = "MXFP4_MOE",
    };
    return ft < RF_ARRAY_LEN(names) ? names[ft] : NULL;
}

static void make_desc(rf_model *m) {
    const rf_model_impl *mi = m->impl;
    char size[32];
    double p = (double)mi->n_params;
    if (p < 1e9)
        snprintf(size, sizeof size, "%.0fM", p / 1e6);
    else
        snprintf(size, sizeof size, "%.1fB", p / 1e9);
    uint32_t ft;
    const char *tn = NULL;
    if (rf_gguf_get_u32(mi->gguf, "general.file_type", &ft) == RF_OK) tn = ftype_name(ft);
    if (!tn && mi->w.layers[0].wq) tn = rf_type_get(mi->w.layers[0].wq->type)->name;
    snprintf(m->desc, sizeof m->desc, "%s %s %s", mi->hp.arch, size, tn ? tn : "?");
}

rf_status rf_model_load(const char *path, const rf_model_params *params, rf_model **out, char *errbuf,
                        size_t errlen) {
    rf_err err = {0};
    rf_status st;
    rf_model_params def = rf_model_params_default();
    if (!params) params = &def;
    if (!out) return RF_ERR_INVALID_ARG;
    *out = NULL;
    if (!path) {
        st = rf__err(&err, RF_ERR_INVALID_ARG, "no model path");
        goto fail_msg;
    }
    rf_model *m = rf__calloc(1, sizeof *m);
    if (!m) {
        st = rf__err(&err, RF_ERR_NOMEM, "out of memory");
        goto fail_msg;
    }
    rf_load_opts o = {params->progress, params->progress_user, params->prefault};
    st = rf__model_impl_load(path, &o, &m->impl, &err);
    if (st != RF_OK) goto fail;
    st = rf__tokenizer_load(m->impl->gguf, &m->tok, &err);
    if (st != RF_OK) goto fail;
    if (rf__tokenizer_n_vocab(m->tok) != m->impl->hp.n_vocab) {
        st = rf__err(&err, RF_ERR_FORMAT, "the tokenizer has %u tokens but the model %u",
                     rf__tokenizer_n_vocab(m->tok), m->impl->hp.n_vocab);
        goto fail;
    }
    rf_str t;
    if (rf_gguf_get_str(m->impl->gguf, "tokenizer.chat_template", &t) == RF_OK) {
        m->chat_template = rf__strndup(t.ptr, (size_t)t.len);
        if (!m->chat_template) {
            st = rf__err(&err, RF_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    make_desc(m);
    *out = m;
    return RF_OK;
fail:
    rf_model_free(m);
fail_msg:
    rf__err_copy(&err, errbuf, errlen);
    return st;
}

void rf_model_free(rf_model *m) {
    if (!m) return;
    rf__tokenizer_free(m->tok);
    rf__free(m->chat_template);
    rf__model_impl_free(m->impl);
    rf__free(m);
}

const char *rf_model_arch(const rf_model *m) { return m->impl->hp.arch; }
const char *rf_model_name(const rf_model *m) { return m->impl->hp.name; }
const char *rf_model_desc(const rf_model *m) { return m->desc; }
uint64_t rf_model_n_params(const rf_model *m) { return m->impl->n_params; }
uint64_t rf_model_size(const rf_model *m) { return m->impl->weight_bytes; }
uint32_t rf_model_n_vocab(const rf_model *m) { return m->impl->hp.n_vocab; }
uint32_t rf_model_n_ctx_train(const rf_model *m) { return m->impl->hp.n_ctx_train; }
uint32_t rf_model_n_embd(const rf_model *m) { return m->impl->hp.n_embd; }
uint32_t rf_model_n_layer(const rf_model *m) { return m->impl->hp.n_layer; }
const char *rf_model_chat_template(const rf_model *m) { return m->chat_template; }

/* ---- tokens ---- */

rf_status rf_tokenize(const rf_model *m, const char *text, size_t len, bool add_special,
                      bool parse_special, rf_token *tokens, size_t cap, size_t *n_tokens) {
    if (!m || (!text && len) || !n_tokens || (!tokens && cap)) return RF_ERR_INVALID_ARG;
    return rf__tokenizer_encode_into(m->tok, text ? text : "", len, add_special, parse_special,
                                     tokens, cap, n_tokens, NULL);
}

rf_status rf_token_to_piece(const rf_model *m, rf_token token, bool special, char *buf, size_t cap,
                            size_t *len) {
    const char *p;
    size_t n;
    if (!m || !len || (!buf && cap)) return RF_ERR_INVALID_ARG;
    rf_status st = rf__tokenizer_token_to_piece(m->tok, token, special, &p, &n, NULL);
    if (st != RF_OK) return st;
    *len = n;
    if (n > cap) return RF_ERR_RANGE;
    if (n) memcpy(buf, p, n);
    return RF_OK;
}

rf_token rf_token_bos(const rf_model *m) { return rf__tokenizer_bos(m->tok); }
rf_token rf_token_eos(const rf_model *m) { return rf__tokenizer_eos(m->tok); }
bool rf_token_is_eog(const rf_model *m, rf_token t) { return rf__tokenizer_is_eog(m->tok, t); }
bool rf_model_add_bos(const rf_model *m) { return rf__tokenizer_add_bos(m->tok); }

/* ---- contexts ---- */

rf_context_params rf_context_params_default(void) {
    return (rf_context_params){.n_ctx = 0, .n_batch = 0, .n_threads = 0, .kv_f32 = false};
}

rf_status rf_context_create(rf_model *m, const rf_context_params *params, rf_context **out,
                            char *errbuf, size_t errlen) {
    rf_err err = {0};
    rf_status st;
    rf_context_params def = rf_context_params_default();
    if (!params) params = &def;
    if (!out) return RF_ERR_INVALID_ARG;
    *out = NULL;
    if (!m) {
        st = rf__err(&err, RF_ERR_INVALID_ARG, "no model");
        rf__err_copy(&err, errbuf, errlen);
        return st;
    }
    rf_context *c = rf__calloc(1, sizeof *c);
    if (!c) {
        st = rf__err(&err, RF_ERR_NOMEM, "out of memory");
        rf__err_copy(&err, errbuf, errlen);
        return st;
    }
    c->model = m;
    int32_t nt = params->n_threads;
    if (nt <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nt = n > 0 ? (int32_t)RF_MIN(n, 64) : 1;
    }
    c->n_threads = nt;
    st = rf__ctx_impl_create(m->impl, params->n_ctx, params->n_batch, nt,
                             params->kv_f32 ? RF_TYPE_F32 : RF_TYPE_F16, &c->impl, &err);
    if (st != RF_OK) goto fail;
    c->hist = rf__malloc((size_t)c->impl->n_ctx * sizeof *c->hist);
    c->logits = rf__malloc((size_t)m->impl->hp.n_vocab * sizeof *c->logits);
    if (!c->hist || !c->logits) {
        st = rf__err(&err, RF_ERR_NOMEM, "out of memory");
        goto fail;
    }
    *out = c;
    return RF_OK;
fail:
    rf_context_free(c);
    rf__err_copy(&err, errbuf, errlen);
    return st;
}

void rf_context_free(rf_context *c) {
    if (!c) return;
    rf__ctx_impl_free(c->impl);
    rf__free(c->hist);
    rf__free(c->logits);
    rf__free(c);
}

const char *rf_context_error(const rf_context *c) { return c ? c->err.msg : ""; }
uint32_t rf_context_n_ctx(const rf_context *c) { return c->impl->n_ctx; }
uint32_t rf_context_n_past(const rf_context *c) { return c->impl->n_past; }
int32_t rf_context_n_threads(const rf_context *c) { return c->n_threads; }
void rf_context_reset(rf_context *c) { rf__ctx_truncate(c->impl, 0); }

rf_status rf_eval(rf_context *c, const rf_token *tokens, size_t n, bool all_logits, float *logits) {
    if (!c) return RF_ERR_INVALID_ARG;
    rf__err_clear(&c->err);
    if (!tokens && n) return rf__err(&c->err, RF_ERR_INVALID_ARG, "no tokens");
    if (n > UINT32_MAX) return rf__err(&c->err, RF_ERR_CONTEXT_FULL, "too many tokens");
    uint32_t past = c->impl->n_past;
    rf_status st = rf__ctx_eval(c->impl, tokens, (uint32_t)n, all_logits, logits, &c->err);
    /* the history follows what reached the cache (also after a failure midway) */
    uint32_t added = c->impl->n_past - past;
    if (added) memcpy(c->hist + past, tokens, (size_t)added * sizeof *tokens);
    return st;
}

/* ---- chat templates ---- */

rf_status rf_chat_apply_template(const rf_model *m, const char *tmpl, const rf_chat_message *msgs,
                                 size_t n_msgs, bool add_generation_prompt, char *buf, size_t cap,
                                 size_t *len, char *errbuf, size_t errlen) {
    rf_err err = {0};
    rf_status st = RF_OK;
    json_t *arr = NULL;
    char *out = NULL;
    size_t out_len = 0;
    if (!m || !len || (!msgs && n_msgs) || (!buf && cap)) {
        st = rf__err(&err, RF_ERR_INVALID_ARG, "invalid arguments");
        goto done;
    }
    if (!tmpl) tmpl = m->chat_template;
    if (!tmpl) {
        st = rf__err(&err, RF_ERR_NOT_FOUND, "the model has no chat template");
        goto done;
    }
    arr = json_array();
    if (!arr) {
        st = rf__err(&err, RF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_msgs; i++) {
        if (!msgs[i].role || !msgs[i].content) {
            st = rf__err(&err, RF_ERR_INVALID_ARG, "message %zu has no role or content", i);
            goto done;
        }
        json_t *o = json_pack("{s:s, s:s}", "role", msgs[i].role, "content", msgs[i].content);
        if (!o || json_array_append_new(arr, o) != 0) {
            st = rf__err(&err, RF_ERR_INVALID_ARG, "message %zu is not valid UTF-8", i);
            goto done;
        }
    }
    const char *bos = NULL, *eos = NULL;
    char bos_buf[256] = "", eos_buf[256] = "";
    size_t tl;
    int32_t id = rf__tokenizer_bos(m->tok);
    if (id >= 0 && (bos = rf__tokenizer_token_text(m->tok, id, &tl)) && tl < sizeof bos_buf) {
        memcpy(bos_buf, bos, tl);
        bos_buf[tl] = '\0';
    }
    id = rf__tokenizer_eos(m->tok);
    if (id >= 0 && (eos = rf__tokenizer_token_text(m->tok, id, &tl)) && tl < sizeof eos_buf) {
        memcpy(eos_buf, eos, tl);
        eos_buf[tl] = '\0';
    }
    st = rf__chat_apply_ex(tmpl, strlen(tmpl), arr, NULL, NULL, add_generation_prompt, bos_buf,
                           eos_buf, NULL, &out, &out_len, &err);
    if (st != RF_OK) goto done;
    *len = out_len;
    if (cap <= out_len) {
        st = RF_ERR_RANGE;
        rf__err(&err, st, "buffer of %zu bytes too small for %zu", cap, out_len + 1);
        goto done;
    }
    memcpy(buf, out, out_len + 1);
done:
    json_decref(arr);
    rf__free(out);
    if (st != RF_OK) rf__err_copy(&err, errbuf, errlen);
    return st;
}
