/*
 * core.h - internal foundations shared by every module: the allocator wrapper
 * (counters, cap, fault injection), error messages, checked size arithmetic.
 *
 * Naming: public symbols are rf_*, internal non-static symbols rf__*.
 */
#ifndef RF_CORE_H
#define RF_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rocmforge.h"

/* ---- allocation ------------------------------------------------------------
 * All heap memory of the library goes through these. They count live blocks
 * and bytes, honour an optional cap, and can be told to fail the Nth call
 * (for fault-injection tests). rf__free(NULL) is a no-op. */
void *rf__malloc(size_t n);
void *rf__calloc(size_t count, size_t size);
void *rf__realloc(void *p, size_t n);
void rf__free(void *p);
char *rf__strdup(const char *s);
char *rf__strndup(const char *s, size_t n);

/* Fault injection: after `n` more successful allocations, every later
 * allocation fails (returns NULL) until reset with n < 0. */
void rf__alloc_fail_after(long n);
/* True once an injected failure has happened since the last reset. */
bool rf__alloc_failed_injected(void);
/* Live allocation count and bytes (for leak checks in tests). */
size_t rf__alloc_live_blocks(void);
size_t rf__alloc_live_bytes(void);
/* Cap on a single allocation (bytes); 0 means no cap. */
void rf__alloc_set_cap(size_t cap);

/* ---- errors -----------------------------------------------------------------
 * A per-object last-error message. Functions that fail fill one with a
 * message naming the problem and return the matching rf_status. */
typedef struct rf_err {
    rf_status status;
    char msg[512];
} rf_err;

/* Record status and a printf-style message in `e` (may be NULL); returns st. */
rf_status rf__err(rf_err *e, rf_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rf__err_clear(rf_err *e);

/* ---- checked arithmetic ------------------------------------------------------ */
static inline bool rf__mul_ok(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool rf__add_ok(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}

#define RF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RF_MAX(a, b) ((a) > (b) ? (a) : (b))
#define RF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- half precision ------------------------------------------------------------ */
float rf__fp16_to_fp32(uint16_t h);
uint16_t rf__fp32_to_fp16(float f);   /* round to nearest even, like ggml and numpy */
float rf__bf16_to_fp32(uint16_t h);
uint16_t rf__fp32_to_bf16(float f);   /* round to nearest even, NaN kept quiet, like ggml */

/* Little-endian loads from possibly unaligned memory. */
static inline uint16_t rf__rd16(const void *p) { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
static inline uint32_t rf__rd32(const void *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
static inline uint64_t rf__rd64(const void *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }

/* Monotonic time in seconds. */
double rf__now(void);

#endif /* RF_CORE_H */
