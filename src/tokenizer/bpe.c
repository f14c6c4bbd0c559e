/*
 * bpe.c - byte-level BPE (tokenizer.ggml.model "gpt2"): the pre-tokenizer
 * splits the text into words, every byte of a word becomes one symbol (its
 * GPT-2 byte-level code point), and adjacent symbols are merged lowest rank
 * first, leftmost first among equal ranks, with a binary heap: O(n log n)
 * per word.
 *
 * Merges are keyed by token ids: a merge's two halves are vocabulary tokens
 * (checked at load), so a symbol whose text is not a token can never merge
 * again, exactly as with text keys.
 */
#include <string.h>

#include "tokenizer/tok_heap.h"
#include "tokenizer/tok_internal.h"

typedef struct sym {
    int32_t prev, next;
    int32_t id;   /* token of the symbol's text, or -1 */
    uint32_t off; /* first byte in the word */
    uint32_t n;   /* bytes; 0 once merged into its left neighbour */
} sym;

typedef struct bigram {
    uint32_t rank;
    int32_t left;    /* the right symbol is left's next while the sizes hold */
    uint16_t nl, nr; /* sizes when queued: a changed size means stale */
    int32_t result;  /* token of the merged text, or -1 */
} bigram;

static inline bool bg_before(const bigram *a, const bigram *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

RF_HEAP_DEFINE(heap, bigram, bg_before)

typedef struct work {
    sym *s;
    size_t cap;
    heap h;
    rf__buf word;  /* UTF-8 of the word */
    rf__buf enc;   /* byte-level encoding of the word (ignore_merges lookups) */
} work;

/* The bigram (l, l's next) if its texts merge; `push` false: only append. */
static bool add_bigram(const rf_tokenizer *t, work *w, int32_t l, bool push) {
    if (l < 0 || w->s[l].next < 0) return true;
    const sym *L = &w->s[l], *R = &w->s[L->next];
    int32_t res = -1;
    int64_t rank = rf__tok_merge(t, L->id, R->id, &res);
    if (rank < 0) return true;
    bigram b = {(uint32_t)rank, l, (uint16_t)L->n, (uint16_t)R->n, res};
    if (push) return heap_push(&w->h, b);
    if (!heap_reserve(&w->h, 1)) return false;
    w->h.v[w->h.n++] = b;
    return true;
}

static rf_status encode_word(const rf_tokenizer *t, work *w, const uint8_t *bytes, size_t n, rf__ivec *out,
                             rf_err *err) {
    if (n == 0) return RF_OK;
    if (t->ignore_merges) {
        w->enc.n = 0;
        for (size_t i = 0; i < n; i++) rf__buf_put(&w->enc, t->byte_enc[bytes[i]], t->byte_enc_len[bytes[i]]);
        if (w->enc.oom) return rf__err(err, RF_ERR_NOMEM, "out of memory");
        int32_t id = rf__tok_find(t, w->enc.p, w->enc.n);
        if (id >= 0) {
            rf__ivec_push(out, id);
            return RF_OK;
        }
    }
    if (n > w->cap) {
        sym *ns = rf__realloc(w->s, n * sizeof *ns);
        if (!ns) return rf__err(err, RF_ERR_NOMEM, "out of memory for a %zu-byte word", n);
        w->s = ns;
        w->cap = n;
    }
    for (size_t i = 0; i < n; i++)
        w->s[i] = (sym){(int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1, t->byte_tok[bytes[i]], (uint32_t)i, 1};
    w->h.n = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (!add_bigram(t, w, (int32_t)i, false)) goto nomem;
    heap_heapify(&w->h);
    while (w->h.n) {
        bigram b = heap_pop(&w->h);
        sym *L = &w->s[b.left];
        if (L->n != b.nl || L->next < 0) continue;
        int32_t r = L->next;
        sym *R = &w->s[r];
        if (R->n != b.nr) continue;
        L->n += R->n;
        L->id = b.result;
        R->n = 0;
        L->next = R->next;
        if (R->next >= 0) w->s[R->next].prev = b.left;
        if (!add_bigram(t, w, L->prev, true) || !add_bigram(t, w, b.left, true)) goto nomem;
    }
    for (int32_t i = 0; i >= 0; i = w->s[i].next) {
        const sym *s = &w->s[i];
        if (s->id >= 0) {
            rf__ivec_push(out, s->id);
            continue;
        }
        /* not a token: look up each byte of its byte-level text on its own */
        for (uint32_t k = 0; k < s->n; k++) {
            uint8_t b = bytes[s->off + k];
            for (int j = 0; j < t->byte_enc_len[b]; j++) {
                int32_t id = t->char_tok[(uint8_t)t->byte_enc[b][j]];
                if (id >= 0) rf__ivec_push(out, id);
            }
        }
    }
    return RF_OK;
nomem:
    return rf__err(err, RF_ERR_NOMEM, "out of memory merging a %zu-byte word", n);
}

rf_status rf__bpe_encode(const rf_tokenizer *t, const char *text, size_t n, rf__ivec *out, rf_err *err) {
    rf_status st = RF_OK;
    uint32_t *cp = NULL, *bnd = NULL;
    size_t ncp = 0, nw = 0;
    work w = {0};
    if (n == 0) return RF_OK;
    cp = rf__utf8_to_cpts(text, n, &ncp);
    if (!cp) {
        st = rf__err(err, RF_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rf__pretok_split(&t->pretok, cp, ncp, &bnd, &nw, err))) goto out;
    for (size_t i = 0; i < nw && !st; i++) {
        w.word.n = 0;
        for (uint32_t k = bnd[i]; k < bnd[i + 1]; k++) {
            char u[4];
            rf__buf_put(&w.word, u, rf__utf8_encode(cp[k], u));
        }
        if (w.word.oom) {
            st = rf__err(err, RF_ERR_NOMEM, "out of memory");
            break;
        }
        st = encode_word(t, &w, (const uint8_t *)w.word.p, w.word.n, out, err);
    }
out:
    rf__free(cp);
    rf__free(bnd);
    rf__free(w.s);
    rf__free(w.h.v);
    rf__free(w.word.p);
    rf__free(w.enc.p);
    return st;
}
