/* tok_util.c - byte buffer, hashing and the read-only byte trie used by the tokenizers. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

bool rf__buf_reserve(rf__buf *b, size_t extra) {
    if (b->oom) return false;
    if (b->cap - b->n >= extra) return true;
    size_t need;
    if (__builtin_add_overflow(b->n, extra, &need)) {
        b->oom = true;
        return false;
    }
    size_t nc = b->cap ? b->cap : 64;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) {
            nc = need;
            break;
        }
        nc *= 2;
    }
    char *np = rf__realloc(b->p, nc);
    if (!np) {
        b->oom = true;
        return false;
    }
    b->p = np;
    b->cap = nc;
    return true;
}

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t rf__hash_bytes(const void *p, size_t n) {
    const uint8_t *s = p;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, s, 8);
        k *= 0x87c37b91114253d5ull;
        k = rotl64(k, 31);
        k *= 0x4cf5ad432745937full;
        h ^= k;
        h = rotl64(h, 27) * 5 + 0x52dce729;
        s += 8;
        n -= 8;
    }
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++) k |= (uint64_t)s[i] << (8 * i);
    h ^= k * 0x87c37b91114253d5ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* ---- trie ---- */

typedef struct {
    const char *const *strs;
    const uint32_t *lens;
} sort_ctx;

static _Thread_local const sort_ctx *g_sort;

static int cmp_idx(const void *a, const void *b) {
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    uint32_t li = g_sort->lens[i], lj = g_sort->lens[j];
    int c = memcmp(g_sort->strs[i], g_sort->strs[j], RF_MIN(li, lj));
    if (c) return c;
    if (li != lj) return li < lj ? -1 : 1;
    return i < j ? -1 : (i > j);
}

rf_status rf__trie_build(rf__trie *t, const char *const *strs, const uint32_t *lens,
                         const int32_t *vals, size_t count, rf_err *err) {
    rf_status st = RF_OK;
    uint32_t *idx = NULL, *lo = NULL, *hi = NULL, *depth = NULL;
    uint64_t total = 1;
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < count; i++) total += lens[i];
    if (total > UINT32_MAX / 2 || count > UINT32_MAX) {
        st = rf__err(err, RF_ERR_RANGE, "tokenizer trie too large (%llu bytes)", (unsigned long long)total);
        goto fail;
    }
    t->nodes = rf__calloc(total, sizeof *t->nodes);
    idx = rf__malloc((count ? count : 1) * sizeof *idx);
    lo = rf__malloc(total * sizeof *lo);
    hi = rf__malloc(total * sizeof *hi);
    depth = rf__malloc(total * sizeof *depth);
    if (!t->nodes || !idx || !lo || !hi || !depth) {
        st = rf__err(err, RF_ERR_NOMEM, "out of memory building the tokenizer trie");
        goto fail;
    }
    for (size_t i = 0; i < count; i++) idx[i] = (uint32_t)i;
    sort_ctx sc = {strs, lens};
    g_sort = &sc;
    qsort(idx, count, sizeof *idx, cmp_idx);
    g_sort = NULL;

    t->n = 1;
    t->nodes[0].value = -1;
    lo[0] = 0;
    hi[0] = (uint32_t)count;
    depth[0] = 0;
    for (uint32_t nd = 0; nd < t->n; nd++) {
        uint32_t a = lo[nd], b = hi[nd], d = depth[nd];
        while (a < b && lens[idx[a]] == d) {
            if (t->nodes[nd].value < 0) t->nodes[nd].value = vals[idx[a]];
            a++;
        }
        t->nodes[nd].first = t->n;
        while (a < b) {
            uint8_t c = (uint8_t)strs[idx[a]][d];
            uint32_t e = a + 1;
            while (e < b && (uint8_t)strs[idx[e]][d] == c) e++;
            uint32_t ch = t->n++;
            t->nodes[ch].label = c;
            t->nodes[ch].value = -1;
            lo[ch] = a;
            hi[ch] = e;
            depth[ch] = d + 1;
            t->nodes[nd].nchild++;
            a = e;
        }
    }
    goto out;
fail:
    rf__trie_free(t);
out:
    rf__free(idx);
    rf__free(lo);
    rf__free(hi);
    rf__free(depth);
    return st;
}

void rf__trie_free(rf__trie *t) {
    if (!t) return;
    rf__free(t->nodes);
    t->nodes = NULL;
    t->n = 0;
}

uint32_t rf__trie_child(const rf__trie *t, uint32_t at, uint8_t c) {
    if (!t->nodes) return 0;
    const rf__trie_node *nd = &t->nodes[at];
    uint32_t a = nd->first, b = nd->first + nd->nchild;
    while (a < b) {
        uint32_t m = a + (b - a) / 2;
        uint8_t l = t->nodes[m].label;
        if (l == c) return m;
        if (l < c) a = m + 1;
        else b = m;
    }
    return 0;
}
