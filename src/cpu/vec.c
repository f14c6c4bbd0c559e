/* vec.c - small f32/f16 vector helpers for the CPU ops (scalar reference and
 * run-time choice of the AVX2/F16C variant in x86/vec_avx2.c). */
#include <math.h>
#include <pthread.h>

#include "cpu/cpu.h"
#include "cpu/cpu_features.h"
#include "cpu/vexp.h"

static float dot_f32(int64_t n, const float *a, const float *b) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static float dot_f16(int64_t n, const uint16_t *a, const float *b) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += rf__fp16_to_fp32(a[i]) * b[i];
    return s;
}

static void axpy_f32(int64_t n, float a, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = fmaf(a, x[i], y[i]); /* fused, as the SIMD variants */
}

static void axpy_f16(int64_t n, float a, const uint16_t *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] += a * rf__fp16_to_fp32(x[i]);
}

static void f16_to_f32(int64_t n, const uint16_t *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = rf__fp16_to_fp32(x[i]);
}

static void f32_to_f16(int64_t n, const float *x, uint16_t *y) {
    for (int64_t i = 0; i < n; i++) y[i] = rf__fp32_to_fp16(x[i]);
}

static inline float kval(const void *k, bool f16, int64_t i) {
    return f16 ? rf__fp16_to_fp32(((const uint16_t *)k)[i]) : ((const float *)k)[i];
}

static float kq_batch(int64_t n, const void *k, bool f16, const float *q) {
    float acc[16] = {0};
    for (int64_t c = 0; c < n; c += 16)
        for (int l = 0; l < 16; l++) acc[l] = fmaf(kval(k, f16, c + l), q[c + l], acc[l]);
    return rf__reduce16(acc);
}

static float kq_single(int64_t n, const void *k, bool f16, const float *q) {
    float a[4][16] = {{0}}, r[16];
    int64_t np = n & ~(int64_t)63;
    for (int64_t i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 16; l++)
                a[j][l] = fmaf(kval(k, f16, i + 16 * j + l), q[i + 16 * j + l], a[j][l]);
    for (int l = 0; l < 16; l++) r[l] = (a[0][l] + a[2][l]) + (a[1][l] + a[3][l]);
    double sum = (double)rf__reduce16(r);
    for (int64_t i = np; i < n; i++) sum += (double)(kval(k, f16, i) * q[i]);
    return (float)sum;
}

static const rf_cpu_vec vec_scalar = {
    dot_f32, dot_f16, axpy_f32, axpy_f16, f16_to_f32, f32_to_f16, kq_batch, kq_single, "scalar",
};

const rf_cpu_vec *rf__cpu_vec_scalar(void) { return &vec_scalar; }

#if defined(__x86_64__) || defined(__i386__)
const rf_cpu_vec *rf__cpu_vec_avx2_table(void);
const rf_cpu_vec *rf__cpu_vec_avx2(void) {
    /* CPUID + XGETBV (cpu_features.c): clang's __builtin_cpu_supports knows no "f16c" */
    return rf__cpu_has_avx2() ? rf__cpu_vec_avx2_table() : NULL;
}
#else
const rf_cpu_vec *rf__cpu_vec_avx2(void) { return NULL; }
#endif

static const rf_cpu_vec *chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static void choose(void) {
    const rf_cpu_vec *v = rf__cpu_vec_avx2();
    chosen = v ? v : &vec_scalar;
}

const rf_cpu_vec *rf__cpu_vec(void) {
    pthread_once(&chosen_once, choose);
    return chosen;
}
