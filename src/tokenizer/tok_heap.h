/*
 * tok_heap.h - a 4-ary min-heap over a value type, for the merge queues of
 * the SPM and BPE tokenizers (4 children share a cache line, which halves the
 * misses of a binary heap on long words).
 *
 * RF_HEAP_DEFINE(name, T, before) defines `name` with push, pop and heapify;
 * before(const T *a, const T *b) is true when a must come out first.
 */
#ifndef RF_TOK_HEAP_H
#define RF_TOK_HEAP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"

#define RF_HEAP_DEFINE(name, T, before)                                                  \
    typedef struct name {                                                                \
        T *v;                                                                            \
        size_t n, cap;                                                                   \
    } name;                                                                              \
    __attribute__((unused)) static bool name##_reserve(name *h, size_t extra) {                                  \
        if (h->cap - h->n >= extra) return true;                                         \
        size_t nc = h->cap ? h->cap : 64;                                                \
        while (nc - h->n < extra) nc *= 2;                                               \
        T *nv = rf__realloc(h->v, nc * sizeof *nv);                                      \
        if (!nv) return false;                                                           \
        h->v = nv;                                                                       \
        h->cap = nc;                                                                     \
        return true;                                                                     \
    }                                                                                    \
    __attribute__((unused)) static void name##_down(name *h, size_t i) {                                         \
        T x = h->v[i];                                                                   \
        for (;;) {                                                                       \
            size_t c = 4 * i + 1, best;                                                  \
            if (c >= h->n) break;                                                        \
            best = c;                                                                    \
            size_t e = c + 4 < h->n ? c + 4 : h->n;                                      \
            for (size_t k = c + 1; k < e; k++)                                           \
                if (before(&h->v[k], &h->v[best])) best = k;                             \
            if (!before(&h->v[best], &x)) break;                                         \
            h->v[i] = h->v[best];                                                        \
            i = best;                                                                    \
        }                                                                                \
        h->v[i] = x;                                                                     \
    }                                                                                    \
    __attribute__((unused)) static bool name##_push(name *h, T x) {                                              \
        if (!name##_reserve(h, 1)) return false;                                         \
        size_t i = h->n++;                                                               \
        while (i > 0) {                                                                  \
            size_t p = (i - 1) / 4;                                                      \
            if (!before(&x, &h->v[p])) break;                                            \
            h->v[i] = h->v[p];                                                           \
            i = p;                                                                       \
        }                                                                                \
        h->v[i] = x;                                                                     \
        return true;                                                                     \
    }                                                                                    \
    __attribute__((unused)) static T name##_pop(name *h) {                                                       \
        T top = h->v[0];                                                                 \
        h->v[0] = h->v[--h->n];                                                          \
        if (h->n) name##_down(h, 0);                                                     \
        return top;                                                                      \
    }                                                                                    \
    /* restores the heap order after h->v[0..n) was filled in any order */               \
    __attribute__((unused)) static void name##_heapify(name *h) {                                                \
        if (h->n < 2) return;                                                            \
        for (size_t i = (h->n - 2) / 4 + 1; i-- > 0;) name##_down(h, i);                 \
    }

#endif /* RF_TOK_HEAP_H */
