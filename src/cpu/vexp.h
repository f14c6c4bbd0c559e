/*
 * vexp.h - exp, SiLU and softmax rows computed bit for bit as ggml's CPU
 * backend computes them on x86-64 with AVX-512, so the CPU backend can be
 * checked against llama.cpp exactly rather than statistically.
 *
 * Rows are processed in blocks of 16 values with the single-precision exp of
 * ARM's optimized-routines (shift-based rounding of x/ln2, two-part
 * Cody-Waite reduction, degree-5 polynomial evaluated with FMAs, scaling by
 * 2^n, |n| > 192 saturating to 0 or inf); the last n % 16 values use the C
 * library's expf. The block routine has a scalar, an AVX2 and an AVX-512
 * implementation that return identical bits; the fastest the CPU runs is
 * used.
 */
#ifndef RF_CPU_VEXP_H
#define RF_CPU_VEXP_H

#include <stdint.h>

/* One value of the block routine (the scalar reference). */
float rf__vexpf_ref(float x);

/* y[i] = exp(x[i]) for 16 values with the block routine. */
typedef void (*rf_vexp16_fn)(const float *x, float *y);
rf_vexp16_fn rf__vexp16_scalar(void);
rf_vexp16_fn rf__vexp16_avx2(void);    /* NULL where not built or not supported */
rf_vexp16_fn rf__vexp16_avx512(void);
rf_vexp16_fn rf__vexp16(void);         /* the fastest supported */

/* y = silu(g) * u = g / (1 + exp(-g)) * u over n values. */
void rf__cpu_swiglu_row(int64_t n, const float *g, const float *u, float *y);
/* y = exp(x - mx) over n values; returns their sum in double (blocks of 16
 * are summed in float in the order _mm512_reduce_add_ps uses, then added). */
double rf__cpu_exp_sum_row(int64_t n, const float *x, float mx, float *y);

/* Sum of 16 floats in the order GCC's _mm512_reduce_add_ps adds them. */
static inline float rf__reduce16(const float *v) {
    float t[8], u[4];
    for (int i = 0; i < 8; i++) t[i] = v[i + 8] + v[i];
    for (int i = 0; i < 4; i++) u[i] = t[i + 4] + t[i];
    float a = u[0] + u[2], b = u[1] + u[3];
    return a + b;
}

#endif /* RF_CPU_VEXP_H */
