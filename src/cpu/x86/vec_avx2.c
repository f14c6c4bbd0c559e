/* vec_avx2.c - AVX2 + FMA + F16C variants of the CPU vector helpers. */
#include <immintrin.h>

#include <stdbool.h>

#include "cpu/cpu.h"

static inline float hsum(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

static float dot_f32(int64_t n, const float *a, const float *b) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static inline __m256 ld16(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static float dot_f16(int64_t n, const uint16_t *a, const float *b) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(ld16(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(ld16(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(ld16(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += _cvtsh_ss(a[i]) * b[i];
    return s;
}

static void axpy_f32(int64_t n, float a, const float *x, float *y) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static void axpy_f16(int64_t n, float a, const uint16_t *x, float *y) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, ld16(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * _cvtsh_ss(x[i]);
}

static void f16_to_f32(int64_t n, const uint16_t *x, float *y) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, ld16(x + i));
    for (; i < n; i++) y[i] = _cvtsh_ss(x[i]);
}

static void f32_to_f16(int64_t n, const float *x, uint16_t *y) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}

/* 8 values of k as f32 */
static inline __m256 k8(const void *k, bool f16, int64_t i) {
    return f16 ? ld16((const uint16_t *)k + i) : _mm256_loadu_ps((const float *)k + i);
}

/* the 16-lane sum of vec.c/vexp.h (rf__reduce16) for lanes lo | hi */
static inline float reduce16(__m256 lo, __m256 hi) {
    __m256 t = _mm256_add_ps(hi, lo);
    __m128 u = _mm_add_ps(_mm256_extractf128_ps(t, 1), _mm256_castps256_ps128(t));
    u = _mm_add_ps(u, _mm_movehl_ps(u, u));
    u = _mm_add_ss(u, _mm_movehdup_ps(u));
    return _mm_cvtss_f32(u);
}

static float kq_batch(int64_t n, const void *k, bool f16, const float *q) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    for (int64_t c = 0; c < n; c += 16) {
        lo = _mm256_fmadd_ps(k8(k, f16, c), _mm256_loadu_ps(q + c), lo);
        hi = _mm256_fmadd_ps(k8(k, f16, c + 8), _mm256_loadu_ps(q + c + 8), hi);
    }
    return reduce16(lo, hi);
}

static float kq_single(int64_t n, const void *k, bool f16, const float *q) {
    __m256 a[8];
    for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
    int64_t np = n & ~(int64_t)63, i = 0;
    for (; i < np; i += 64)
        for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(k8(k, f16, i + 8 * j), _mm256_loadu_ps(q + i + 8 * j), a[j]);
    /* accumulator j of 16 lanes is a[2j] | a[2j+1] */
    __m256 lo = _mm256_add_ps(_mm256_add_ps(a[0], a[4]), _mm256_add_ps(a[2], a[6]));
    __m256 hi = _mm256_add_ps(_mm256_add_ps(a[1], a[5]), _mm256_add_ps(a[3], a[7]));
    double sum = (double)reduce16(lo, hi);
    for (; i < n; i++) {
        float kv = f16 ? _cvtsh_ss(((const uint16_t *)k)[i]) : ((const float *)k)[i];
        sum += (double)(kv * q[i]);
    }
    return (float)sum;
}

static const rf_cpu_vec vec_avx2 = {
    dot_f32, dot_f16, axpy_f32, axpy_f16, f16_to_f32, f32_to_f16, kq_batch, kq_single, "avx2",
};

/* Only the table: whether the CPU may run it is decided in vec.c, which is
 * compiled for the baseline instruction set. */
const rf_cpu_vec *rf__cpu_vec_avx2_table(void) { return &vec_avx2; }
