/*
 * ugm.c - Unigram (tokenizer.ggml.model "t5"): the text is normalised with
 * the model's precompiled_charsmap (a XOR-compressed double array of
 * replacements, as SentencePiece stores it), spaces become U+2581, and the
 * best-scoring segmentation is found by Viterbi over a trie of the
 * vocabulary: O(n * longest token). Characters no token covers become the
 * unknown token, consecutive unknowns one.
 */
#include <float.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

rf_status rf__ugm_init(rf_tokenizer *t, rf_err *err) {
    rf_status st = RF_OK;
    const char **strs = NULL;
    int32_t *vals = NULL;
    uint32_t *lens = NULL;
    size_t n = 0, nu = 0;
    float min_score = FLT_MAX;

    if (t->charsmap_len) {
        if (t->charsmap_len < 4) {
            st = rf__err(err, RF_ERR_FORMAT, "precompiled_charsmap of %zu bytes is too short", t->charsmap_len);
            goto out;
        }
        uint64_t blob = rf__rd32(t->charsmap);
        if (blob + 4 >= t->charsmap_len) {
            st = rf__err(err, RF_ERR_FORMAT, "precompiled_charsmap: double array of %llu bytes does not fit in %zu",
                         (unsigned long long)blob, t->charsmap_len);
            goto out;
        }
        t->xcda_n = (size_t)(blob / 4);
        t->repl_off = (size_t)(4 + blob);
    }
    strs = rf__malloc(t->n_tokens * sizeof *strs);
    vals = rf__malloc(t->n_tokens * sizeof *vals);
    lens = rf__malloc(t->n_tokens * sizeof *lens);
    if (!strs || !vals || !lens) {
        st = rf__err(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < t->n_tokens; i++) {
        unsigned a = t->attr[i];
        if ((a & RF_TOKATTR_NORMAL) && t->score[i] < min_score) min_score = t->score[i];
        if (a & (RF_TOKATTR_NORMAL | RF_TOKATTR_USER_DEFINED | RF_TOKATTR_UNUSED)) {
            strs[n] = rf__tok_text(t, (int32_t)i);
            lens[n] = t->len[i];
            vals[n++] = (int32_t)i;
        }
    }
    t->ugm_unk_score = (double)(min_score - 10.0f);
    if ((st = rf__trie_build(&t->trie, strs, lens, vals, n, err))) goto out;
    for (uint32_t i = 0; i < t->n_tokens; i++)
        if (t->attr[i] & RF_TOKATTR_USER_DEFINED) {
            strs[nu] = rf__tok_text(t, (int32_t)i);
            lens[nu] = t->len[i];
            vals[nu++] = (int32_t)i;
        }
    st = rf__trie_build(&t->ud_trie, strs, lens, vals, nu, err);
out:
    rf__free(strs);
    rf__free(vals);
    rf__free(lens);
    return st;
}

/* ---- normalisation ---- */

static bool xcda_node(const rf_tokenizer *t, size_t i, uint32_t *v) {
    if (i >= t->xcda_n) return false;
    *v = rf__rd32(t->charsmap + 4 + 4 * i);
    return true;
}
static uint32_t xcda_base(uint32_t p) { return (p >> 10) << ((p & (1u << 9)) >> 6); }
static uint32_t xcda_lcheck(uint32_t p) { return p & ((1u << 31) | 0xffu); }
static bool xcda_leaf(uint32_t p) { return (p >> 8) & 1; }
static uint32_t xcda_value(uint32_t p) { return p & ((1u << 31) - 1); }

/* Length of the well-formed-looking UTF-8 sequence at s (lead and
 * continuation bits only), or 0. */
static size_t seq_len(const uint8_t *s, size_t n) {
    size_t l = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (l == 0 || l > n) return 0;
    for (size_t k = 1; k < l; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return l;
}

/* Normalisation of the longest prefix of in[off..n): replacement text and
 * bytes consumed. */
static void normalize_prefix(const rf_tokenizer *t, const char *in, size_t n, size_t off, const char **rep,
                             size_t *rep_len, size_t *consumed) {
    /* user-defined tokens pass through (the reference takes the deepest trie
     * path, complete token or not) */
    uint32_t node = 0;
    size_t k = 0;
    while (off + k < n && (node = rf__trie_child(&t->ud_trie, node, (uint8_t)in[off + k])) != 0) k++;
    if (k > 0) {
        *rep = in + off;
        *rep_len = *consumed = k;
        return;
    }
    size_t best_len = 0, best_off = 0;
    if (t->xcda_n) {
        uint32_t p, ni;
        if (xcda_node(t, 0, &p)) {
            ni = xcda_base(p);
            for (size_t q = off; q < n; q++) {
                uint8_t c = (uint8_t)in[q];
                if (c == 0) break;
                ni ^= c;
                if (!xcda_node(t, ni, &p) || xcda_lcheck(p) != c) break;
                bool leaf = xcda_leaf(p);
                ni ^= xcda_base(p);
                if (leaf) {
                    if (!xcda_node(t, ni, &p)) break;
                    best_len = q - off + 1;
                    best_off = xcda_value(p);
                }
            }
        }
    }
    if (best_len > 0) {
        size_t repl_n = t->charsmap_len - t->repl_off;
        if (best_off < repl_n) {
            const char *r = (const char *)t->charsmap + t->repl_off + best_off;
            const char *z = memchr(r, 0, repl_n - best_off);
            if (z) {
                *rep = r;
                *rep_len = (size_t)(z - r);
                *consumed = best_len;
                return;
            }
        }
        /* a broken charsmap entry: leave the text as it is */
    }
    size_t l = seq_len((const uint8_t *)in + off, n - off);
    if (l) {
        *rep = in + off;
        *rep_len = *consumed = l;
    } else {
        *rep = "\xef\xbf\xbd";
        *rep_len = 3;
        *consumed = 1;
    }
}

static void normalize(const rf_tokenizer *t, const char *in, size_t n, rf__buf *out) {
    const char *space = t->escape_ws ? "\xe2\x96\x81" : " ";
    size_t space_n = t->escape_ws ? 3 : 1;
    bool prepend = !t->ws_suffix && t->add_space_prefix;
    bool append = t->ws_suffix && t->add_space_prefix;
    bool merge = t->remove_extra_ws;
    bool prepended = false, in_word = false;
    for (size_t off = 0; off < n;) {
        const char *rep;
        size_t rl, used;
        normalize_prefix(t, in, n, off, &rep, &rl, &used);
        for (size_t i = 0; i < rl; i++) {
            char c = rep[i];
            if (c != ' ') {
                if (!in_word) {
                    in_word = true;
                    if ((prepend && !prepended) || merge) {
                        rf__buf_put(out, space, space_n);
                        prepended = true;
                    }
                }
                rf__buf_putc(out, c);
            } else {
                in_word = false;
                if (!merge) rf__buf_put(out, space, space_n);
            }
        }
        off += used;
    }
    if (append) rf__buf_put(out, space, space_n);
}

typedef struct best {
    double score;
    int32_t id;
    uint32_t from;
} best;

rf_status rf__ugm_encode(const rf_tokenizer *t, const char *text, size_t n, rf__ivec *out, rf_err *err) {
    rf_status st = RF_OK;
    rf__buf nb = {0};
    best *bt = NULL;
    normalize(t, text, n, &nb);
    if (nb.oom || nb.n >= UINT32_MAX) goto nomem;
    size_t len = nb.n;
    const char *s = nb.p;
    if (len == 0) goto out;
    bt = rf__malloc((len + 1) * sizeof *bt);
    if (!bt) goto nomem;
    for (size_t i = 0; i <= len; i++) bt[i] = (best){-DBL_MAX, t->unk, 0};
    bt[0].score = 0;
    for (size_t off = 0; off < len;) {
        size_t units = RF_MIN(rf__utf8_lead_len((uint8_t)s[off]), len - off);
        bool single = false;
        const double cur = bt[off].score;
        uint32_t node = rf__trie_child(&t->trie, 0, (uint8_t)s[off]);
        size_t p = off + 1;
        while (p <= len && node) {
            int32_t id = t->trie.nodes[node].value;
            if (id >= 0) {
                if (p - off == units) single = true;
                double sc = (t->attr[id] & RF_TOKATTR_USER_DEFINED) ? 0.0 : (double)t->score[id];
                double ch = cur + sc;
                if (ch > bt[p].score) bt[p] = (best){ch, id, (uint32_t)off};
            }
            node = p < len ? rf__trie_child(&t->trie, node, (uint8_t)s[p]) : 0;
            p++;
        }
        if (!single) {
            double ch = cur + t->ugm_unk_score;
            size_t q = off + units;
            if (ch > bt[q].score) bt[q] = (best){ch, t->unk, (uint32_t)off};
        }
        off += units;
    }
    size_t start = out->n;
    bool prev_unk = false;
    for (size_t at = len;;) {
        const best *b = &bt[at];
        bool is_unk = b->id == t->unk;
        if (!(prev_unk && is_unk) && b->id >= 0) rf__ivec_push(out, b->id);
        if (b->from == 0) break;
        prev_unk = is_unk;
        at = b->from;
    }
    if (out->oom) goto nomem;
    for (size_t i = start, j = out->n; i + 1 < j; i++, j--) {
        int32_t tmp = out->v[i];
        out->v[i] = out->v[j - 1];
        out->v[j - 1] = tmp;
    }
    goto out;
nomem:
    st = rf__err(err, RF_ERR_NOMEM, "out of memory in the Unigram tokenizer");
out:
    rf__free(nb.p);
    rf__free(bt);
    return st;
}
