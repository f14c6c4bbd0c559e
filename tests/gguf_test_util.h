/* gguf_test_util.h - byte builder for hand-made GGUF files in tests. */
#ifndef RF_GGUF_TEST_UTIL_H
#define RF_GGUF_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bb {
    uint8_t *p;
    size_t n, cap;
} bb;

static inline void bb_raw(bb *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) { fprintf(stderr, "test: out of memory\n"); exit(1); }
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}
static inline void bb_u8(bb *b, uint8_t v) { bb_raw(b, &v, 1); }
static inline void bb_u16(bb *b, uint16_t v) { bb_raw(b, &v, 2); }
static inline void bb_u32(bb *b, uint32_t v) { bb_raw(b, &v, 4); }
static inline void bb_u64(bb *b, uint64_t v) { bb_raw(b, &v, 8); }
static inline void bb_strn(bb *b, const char *s, size_t n) { bb_u64(b, n); bb_raw(b, s, n); }
static inline void bb_str(bb *b, const char *s) { bb_strn(b, s, strlen(s)); }
static inline void bb_free(bb *b) { free(b->p); memset(b, 0, sizeof *b); }

static inline void bb_header(bb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    bb_raw(b, "GGUF", 4);
    bb_u32(b, version);
    bb_u64(b, n_tensors);
    bb_u64(b, n_kv);
}
static inline void bb_kv_u32(bb *b, const char *key, uint32_t v) { bb_str(b, key); bb_u32(b, 4); bb_u32(b, v); }
static inline void bb_kv_str(bb *b, const char *key, const char *v) { bb_str(b, key); bb_u32(b, 8); bb_str(b, v); }
/* Tensor description with up to 4 dims. */
static inline void bb_tensor(bb *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t off) {
    bb_str(b, name);
    bb_u32(b, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) bb_u64(b, ne[i]);
    bb_u32(b, type);
    bb_u64(b, off);
}
static inline void bb_pad(bb *b, size_t align) { while (b->n % align) bb_u8(b, 0); }
static inline void bb_fill(bb *b, size_t n, uint8_t v) { for (size_t i = 0; i < n; i++) bb_u8(b, (uint8_t)(v + i)); }

/* Reads a whole file into malloc'd memory; NULL on failure. */
static inline uint8_t *read_whole(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *q = realloc(buf, cap);
            if (!q) { free(buf); fclose(f); return NULL; }
            buf = q;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    fclose(f);
    *size = n;
    return buf;
}

#endif
