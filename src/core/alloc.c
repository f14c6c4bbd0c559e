/* alloc.c - the library's single allocation wrapper: counters, cap, fault hook. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Each block carries its size in a header so live bytes can be tracked. The
 * header is 16 bytes to keep the user pointer 16-byte aligned. */
typedef struct { size_t size; size_t pad; } hdr_t;

static atomic_long fail_countdown = -1;
static atomic_bool failed_injected = false;
static atomic_size_t live_blocks = 0;
static atomic_size_t live_bytes = 0;
static atomic_size_t size_cap = 0;

void rf__alloc_fail_after(long n) {
    atomic_store(&fail_countdown, n);
    atomic_store(&failed_injected, false);
}

bool rf__alloc_failed_injected(void) { return atomic_load(&failed_injected); }
size_t rf__alloc_live_blocks(void) { return atomic_load(&live_blocks); }
size_t rf__alloc_live_bytes(void) { return atomic_load(&live_bytes); }
void rf__alloc_set_cap(size_t cap) { atomic_store(&size_cap, cap); }

static bool should_fail(size_t n) {
    size_t cap = atomic_load(&size_cap);
    if (cap && n > cap) return true;
    if (n > SIZE_MAX - sizeof(hdr_t)) return true;
    long c = atomic_load(&fail_countdown);
    while (c >= 0) {
        if (c == 0) { atomic_store(&failed_injected, true); return true; }
        if (atomic_compare_exchange_weak(&fail_countdown, &c, c - 1)) return false;
    }
    return false;
}

void *rf__malloc(size_t n) {
    if (should_fail(n)) return NULL;
    hdr_t *h = malloc(sizeof(hdr_t) + n);
    if (!h) return NULL;
    h->size = n;
    atomic_fetch_add(&live_blocks, 1);
    atomic_fetch_add(&live_bytes, n);
    return h + 1;
}

void *rf__calloc(size_t count, size_t size) {
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) return NULL;
    void *p = rf__malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

void *rf__realloc(void *p, size_t n) {
    if (!p) return rf__malloc(n);
    if (should_fail(n)) return NULL;
    hdr_t *old = (hdr_t *)p - 1;
    size_t old_size = old->size;
    hdr_t *h = realloc(old, sizeof(hdr_t) + n);
    if (!h) return NULL;
    h->size = n;
    atomic_fetch_sub(&live_bytes, old_size);
    atomic_fetch_add(&live_bytes, n);
    return h + 1;
}

void rf__free(void *p) {
    if (!p) return;
    hdr_t *h = (hdr_t *)p - 1;
    atomic_fetch_sub(&live_blocks, 1);
    atomic_fetch_sub(&live_bytes, h->size);
    free(h);
}

char *rf__strndup(const char *s, size_t n) {
    char *d = rf__malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *rf__strdup(const char *s) { return rf__strndup(s, strlen(s)); }
