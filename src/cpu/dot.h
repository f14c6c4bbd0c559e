/*
 * dot.h - CPU dot products between a weight row of any tensor type and an
 * activation row, the inner kernel of every CPU matrix product.
 *
 * As in ggml, each weight type pairs with an activation format: legacy 32-blocks
 * with Q8_0 (or Q8_1), K-quants and i-quants with Q8_K, F16/BF16/F32 with
 * themselves or F32. Activations are converted once per matrix product with
 * `quantize_act`, then every weight row is dotted with `vec_dot`. The
 * implementation (scalar, AVX2, AVX-512, NEON) is chosen at run time from the
 * CPU's reported features, so one binary serves old and new CPUs.
 */
#ifndef RF_CPU_DOT_H
#define RF_CPU_DOT_H

#include <stdint.h>

#include "quant/quant.h"

/* *s = dot(w[0..n), a[0..n)): w a weight row of the weight type, a an
 * activation row in act_type; n a multiple of both block sizes. */
typedef void (*rf_vec_dot_fn)(int64_t n, float *s, const void *w, const void *a);
/* s[j] = dot(w, a[j]) for j < na: one weight row against several
 * activation rows (prefill), decoding the weights once for all of them. */
typedef void (*rf_vec_dot_multi_fn)(int64_t n, float *s, const void *w, const void *const *a, int na);
/* Converts n f32 activations to act_type. */
typedef void (*rf_act_quant_fn)(const float *x, void *dst, int64_t n);

typedef struct rf_cpu_dot {
    rf_type act_type;
    rf_act_quant_fn quantize_act;
    rf_vec_dot_fn vec_dot;
    /* Optional (NULL where the implementation has none): call through
     * rf__cpu_dot_multi, which falls back to vec_dot. Results equal those of
     * vec_dot up to float rounding. */
    rf_vec_dot_multi_fn vec_dot_multi;
    const char *impl; /* "scalar", "avx2", "avx512", "neon" */
} rf_cpu_dot;

/* s[j] = dot(w, a[j]) for j < na, through vec_dot_multi where it exists. */
static inline void rf__cpu_dot_multi(const rf_cpu_dot *d, int64_t n, float *s, const void *w,
                                     const void *const *a, int na) {
    if (d->vec_dot_multi) {
        d->vec_dot_multi(n, s, w, a, na);
    } else {
        for (int j = 0; j < na; j++) d->vec_dot(n, &s[j], w, a[j]);
    }
}

/* The fastest implementation this CPU supports for weights of type t, or
 * NULL if no dot product exists for t. */
const rf_cpu_dot *rf__cpu_dot_get(rf_type t);
/* A specific implementation ("scalar", "avx2", ...), or NULL if not built or
 * not supported by this CPU: used by tests to compare every path. */
const rf_cpu_dot *rf__cpu_dot_get_impl(rf_type t, const char *impl);

/* The names rf__cpu_dot_get_impl knows, whether built and supported or not. */
const char *const *rf__cpu_dot_impls(int *count);

#endif /* RF_CPU_DOT_H */
