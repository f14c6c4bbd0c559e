/*
 * spm.c - SentencePiece BPE (tokenizer.ggml.model "llama"): spaces become
 * U+2581, the text is split into UTF-8 characters, and the adjacent pair whose
 * concatenation is the highest-scoring vocabulary token is merged first
 * (leftmost first among equal scores), with a heap: O(n log n) for the whole
 * fragment. Symbols that are not tokens come out as byte tokens <0xXX>.
 */
#include <string.h>

#include "tokenizer/tok_heap.h"
#include "tokenizer/tok_internal.h"

typedef struct sym {
    int32_t prev, next;
    uint32_t off, n; /* bytes in the escaped text; n = 0 once merged away */
} sym;

typedef struct bigram {
    float score;
    int32_t left, right;
    uint32_t size;
} bigram;

/* Higher score first; equal scores: leftmost first. */
static inline bool bg_before(const bigram *a, const bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

RF_HEAP_DEFINE(heap, bigram, bg_before)

static bool try_add(const rf_tokenizer *t, const char *s, const sym *sy, heap *h, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return true;
    uint32_t size = sy[l].n + sy[r].n;
    int32_t id = rf__tok_find(t, s + sy[l].off, size);
    if (id < 0) return true;
    bigram b = {t->score[id], l, r, size};
    return heap_push(h, b);
}

rf_status rf__spm_encode(const rf_tokenizer *t, const char *text, size_t n, bool prefix_space,
                         rf__ivec *out, rf_err *err) {
    rf_status st = RF_OK;
    rf__buf esc = {0};
    sym *sy = NULL;
    heap h = {0};
    size_t nsym = 0;

    if (prefix_space) rf__buf_put(&esc, "\xe2\x96\x81", 3);
    for (size_t i = 0; i < n; i++) {
        if (text[i] == ' ') rf__buf_put(&esc, "\xe2\x96\x81", 3);
        else rf__buf_putc(&esc, text[i]);
    }
    if (esc.oom || esc.n > UINT32_MAX) goto nomem;
    if (esc.n == 0) goto out;
    sy = rf__malloc(esc.n * sizeof *sy);
    if (!sy) goto nomem;
    for (size_t off = 0; off < esc.n;) {
        size_t l = RF_MIN(rf__utf8_lead_len((uint8_t)esc.p[off]), esc.n - off);
        sy[nsym] = (sym){(int32_t)nsym - 1, off + l == esc.n ? -1 : (int32_t)nsym + 1, (uint32_t)off, (uint32_t)l};
        nsym++;
        off += l;
    }
    /* Merge within chunks: when no vocabulary token has U+2581 after
     * anything but U+2581, nothing merges across the start of a U+2581 that
     * follows another character, so each such stretch can be done alone (the
     * result is the same; the queue stays small and cache-resident). */
    for (size_t c0 = 0; c0 < nsym;) {
        size_t c1 = c0 + 1;
        if (t->spm_chunks)
            while (c1 < nsym && !(sy[c1].n == 3 && memcmp(esc.p + sy[c1].off, "\xe2\x96\x81", 3) == 0 &&
                                  (uint8_t)esc.p[sy[c1].off - 1] != 0x81))
                c1++;
        else
            c1 = nsym;
        sy[c0].prev = -1;
        sy[c1 - 1].next = -1;
        h.n = 0;
        for (size_t i = c0 + 1; i < c1; i++)
            if (!try_add(t, esc.p, sy, &h, (int32_t)i - 1, (int32_t)i)) goto nomem;
        while (h.n) {
            bigram b = heap_pop(&h);
            sym *L = &sy[b.left], *R = &sy[b.right];
            if (L->n == 0 || R->n == 0 || L->n + R->n != b.size) continue;
            L->n += R->n;
            R->n = 0;
            L->next = R->next;
            if (R->next >= 0) sy[R->next].prev = b.left;
            if (!try_add(t, esc.p, sy, &h, L->prev, b.left) || !try_add(t, esc.p, sy, &h, b.left, L->next))
                goto nomem;
        }
        for (int32_t i = (int32_t)c0; i >= 0; i = sy[i].next) {
            int32_t id = rf__tok_find(t, esc.p + sy[i].off, sy[i].n);
            if (id >= 0) {
                rf__ivec_push(out, id);
                continue;
            }
            for (uint32_t k = 0; k < sy[i].n; k++) {
                int32_t b = t->byte_tok[(uint8_t)esc.p[sy[i].off + k]];
                if (b < 0) b = t->unk; /* vocabulary without byte tokens */
                if (b >= 0) rf__ivec_push(out, b);
            }
        }
        c0 = c1;
    }
    goto out;
nomem:
    st = rf__err(err, RF_ERR_NOMEM, "out of memory in the SPM tokenizer");
out:
    rf__free(esc.p);
    rf__free(sy);
    rf__free(h.v);
    return st;
}
