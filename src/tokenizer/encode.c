/*
 * encode.c - text to ids: splitting out special tokens found in the text
 * (llama.cpp's partitioning: longest special text first, leftmost first), then
 * handing each stretch of raw text to the model's algorithm.
 */
#include <string.h>

#include "tokenizer/tok_internal.h"

typedef struct frag {
    int32_t token; /* >= 0: a special token; -1: raw text [off, off + len) */
    size_t off, len;
} frag;

typedef struct frag_vec {
    frag *v;
    size_t n, cap;
} frag_vec;

static bool frag_push(frag_vec *f, int32_t token, size_t off, size_t len) {
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16;
        frag *nv = rf__realloc(f->v, nc * sizeof *nv);
        if (!nv) return false;
        f->v = nv;
        f->cap = nc;
    }
    f->v[f->n++] = (frag){token, off, len};
    return true;
}

static bool c_isspace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static bool special_active(const rf_tokenizer *t, int32_t id, bool parse_special) {
    unsigned a = t->attr[id];
    if (!(a & (RF_TOKATTR_CONTROL | RF_TOKATTR_USER_DEFINED | RF_TOKATTR_UNKNOWN))) return false;
    if (!parse_special && (a & (RF_TOKATTR_CONTROL | RF_TOKATTR_UNKNOWN))) return false;
    return true;
}

typedef struct claim {
    size_t pos;
    uint32_t len;
    int32_t id;
} claim;

static int cmp_claim(const void *a, const void *b) {
    size_t x = ((const claim *)a)->pos, y = ((const claim *)b)->pos;
    return (x > y) - (x < y);
}

/* Splits text into raw fragments and special tokens. Special tokens are
 * taken longest text first; among texts of one length, leftmost first. A
 * token only matches inside text not yet taken; LSTRIP/RSTRIP tokens remove
 * the whitespace next to them. */
static rf_status partition(const rf_tokenizer *t, const char *text, size_t len, bool parse_special,
                           frag_vec *out, rf_err *err) {
    rf_status st = RF_OK;
    uint8_t *state = NULL; /* 0 free, 1 removed whitespace, 2 taken by a token */
    claim *cl = NULL;
    size_t ncl = 0, capcl = 0;
    size_t first_active = t->n_special;
    for (size_t i = 0; i < t->n_special; i++)
        if (special_active(t, t->special[i], parse_special) && t->len[t->special[i]] <= len) {
            first_active = i;
            break;
        }
    if (len == 0) goto out;
    if (first_active == t->n_special) {
        if (!frag_push(out, -1, 0, len)) goto nomem;
        goto out;
    }
    state = rf__calloc(len, 1);
    if (!state) goto nomem;
    for (size_t gi = first_active; gi < t->n_special;) {
        uint32_t L = t->len[t->special[gi]];
        size_t ge = gi;
        uint8_t first[32] = {0};
        bool any = false;
        while (ge < t->n_special && t->len[t->special[ge]] == L) {
            int32_t id = t->special[ge];
            if (special_active(t, id, parse_special)) {
                uint8_t c = (uint8_t)rf__tok_text(t, id)[0];
                first[c >> 3] |= (uint8_t)(1u << (c & 7));
                any = true;
            }
            ge++;
        }
        if (any && L <= len) {
            for (size_t p = 0; p + L <= len; p++) {
                uint8_t c = (uint8_t)text[p];
                if (!(first[c >> 3] & (1u << (c & 7)))) continue;
                if (state[p] || state[p + L - 1]) continue;
                int32_t id = rf__tok_find(t, text + p, L);
                if (id < 0 || !special_active(t, id, parse_special)) continue;
                bool free_run = true;
                for (size_t k = 1; k + 1 < L; k++)
                    if (state[p + k]) {
                        free_run = false;
                        break;
                    }
                if (!free_run) continue;
                memset(state + p, 2, L);
                if (ncl == capcl) {
                    size_t nc = capcl ? capcl * 2 : 16;
                    claim *ncp = rf__realloc(cl, nc * sizeof *ncp);
                    if (!ncp) goto nomem;
                    cl = ncp;
                    capcl = nc;
                }
                cl[ncl++] = (claim){p, L, id};
                if (t->attr[id] & RF_TOKATTR_LSTRIP)
                    for (size_t q = p; q > 0 && state[q - 1] == 0 && c_isspace(text[q - 1]); q--) state[q - 1] = 1;
                if (t->attr[id] & RF_TOKATTR_RSTRIP)
                    for (size_t q = p + L; q < len && state[q] == 0 && c_isspace(text[q]); q++) state[q] = 1;
                p += L - 1;
            }
        }
        gi = ge;
    }
    if (ncl) qsort(cl, ncl, sizeof *cl, cmp_claim);
    size_t pos = 0;
    for (size_t i = 0; i <= ncl; i++) {
        size_t end = i < ncl ? cl[i].pos : len;
        size_t a = pos, b = end;
        while (a < b && state[a] != 0) a++;
        while (b > a && state[b - 1] != 0) b--;
        if (b > a && !frag_push(out, -1, a, b - a)) goto nomem;
        if (i < ncl) {
            if (!frag_push(out, cl[i].id, cl[i].pos, cl[i].len)) goto nomem;
            pos = cl[i].pos + cl[i].len;
        }
    }
    goto out;
nomem:
    st = rf__err(err, RF_ERR_NOMEM, "out of memory splitting special tokens");
out:
    rf__free(state);
    rf__free(cl);
    return st;
}

static rf_status encode_vec(const rf_tokenizer *t, const char *text, size_t len, bool add_special,
                            bool parse_special, rf__ivec *out, rf_err *err) {
    rf_status st = RF_OK;
    frag_vec fr = {0};
    if (!t) return rf__err(err, RF_ERR_INVALID_ARG, "tokenizer is NULL");
    if (!text && len) return rf__err(err, RF_ERR_INVALID_ARG, "text is NULL");
    if (len > RF_TOK_MAX_INPUT)
        return rf__err(err, RF_ERR_RANGE, "text of %zu bytes is longer than the %zu-byte limit", len,
                       (size_t)RF_TOK_MAX_INPUT);
    if ((st = partition(t, text, len, parse_special, &fr, err))) goto out;

    switch (t->kind) {
    case RF_TOK_SPM: {
        bool prev_special = true;
        if (add_special && t->add_bos && t->bos >= 0) rf__ivec_push(out, t->bos);
        for (size_t i = 0; i < fr.n && !st; i++) {
            if (fr.v[i].token >= 0) {
                rf__ivec_push(out, fr.v[i].token);
                prev_special = true;
            } else {
                st = rf__spm_encode(t, text + fr.v[i].off, fr.v[i].len, t->add_space_prefix && prev_special,
                                    out, err);
                prev_special = false;
            }
        }
        if (add_special && t->add_eos && t->eos >= 0) rf__ivec_push(out, t->eos);
        break;
    }
    case RF_TOK_BPE:
    case RF_TOK_UGM:
        if (add_special && t->add_bos && t->bos >= 0) rf__ivec_push(out, t->bos);
        for (size_t i = 0; i < fr.n && !st; i++) {
            if (fr.v[i].token >= 0) rf__ivec_push(out, fr.v[i].token);
            else if (t->kind == RF_TOK_BPE) st = rf__bpe_encode(t, text + fr.v[i].off, fr.v[i].len, out, err);
            else st = rf__ugm_encode(t, text + fr.v[i].off, fr.v[i].len, out, err);
        }
        if (add_special && t->add_eos && t->eos >= 0) rf__ivec_push(out, t->eos);
        break;
    case RF_TOK_WPM:
        if (add_special && t->bos >= 0) rf__ivec_push(out, t->bos);
        for (size_t i = 0; i < fr.n && !st; i++) {
            if (fr.v[i].token >= 0) rf__ivec_push(out, fr.v[i].token);
            else st = rf__wpm_encode(t, text + fr.v[i].off, fr.v[i].len, out, err);
        }
        if (add_special && t->sep >= 0) rf__ivec_push(out, t->sep);
        break;
    }
    if (!st && out->oom) st = rf__err(err, RF_ERR_NOMEM, "out of memory for token ids");
out:
    rf__free(fr.v);
    return st;
}

rf_status rf__tokenizer_encode(const rf_tokenizer *t, const char *text, size_t len, bool add_special,
                               bool parse_special, int32_t **ids, size_t *n_ids, rf_err *err) {
    rf__ivec v = {0};
    if (!ids || !n_ids) return rf__err(err, RF_ERR_INVALID_ARG, "encode: ids or n_ids is NULL");
    *ids = NULL;
    *n_ids = 0;
    rf_status st = encode_vec(t, text, len, add_special, parse_special, &v, err);
    if (st) {
        rf__free(v.v);
        return st;
    }
    if (!v.v) {
        v.v = rf__malloc(sizeof *v.v);
        if (!v.v) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    }
    *ids = v.v;
    *n_ids = v.n;
    return RF_OK;
}

rf_status rf__tokenizer_encode_into(const rf_tokenizer *t, const char *text, size_t len,
                                    bool add_special, bool parse_special, int32_t *buf, size_t cap,
                                    size_t *n_ids, rf_err *err) {
    rf__ivec v = {0};
    if (!n_ids || (!buf && cap)) return rf__err(err, RF_ERR_INVALID_ARG, "encode_into: bad buffer");
    *n_ids = 0;
    rf_status st = encode_vec(t, text, len, add_special, parse_special, &v, err);
    if (!st) {
        *n_ids = v.n;
        if (v.n) memcpy(buf, v.v, RF_MIN(v.n, cap) * sizeof *buf);
        if (v.n > cap)
            st = rf__err(err, RF_ERR_RANGE, "%zu token ids do not fit a buffer of %zu", v.n, cap);
    }
    rf__free(v.v);
    return st;
}
