/*
 * dot_legacy_avx2.c - AVX2 (+FMA, F16C) dot products of F32, F16, BF16 and
 * the 32-value block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL), and the
 * Q8_0 / Q8_1 / F16 activation quantizers.
 *
 * Integer products are exact (maddubs sums stay within int16), so results
 * differ from the scalar kernels only in the order floats are added.
 */
#include <math.h>

#include "core/core.h"
#include "cpu/dot_impl.h"
#include "cpu/x86/simd_x86.h"

#define RND (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) /* ties to even */

/* ---- float types ------------------------------------------------------------- */

static void dot_f32(int64_t n, float *s, const void *w, const void *a) {
    const float *x = w, *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    float sum = rf_hsum_ps256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++) sum += x[i] * y[i];
    *s = sum;
}

static inline __m256 load_f16x8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static void dot_f16(int64_t n, float *s, const void *w, const void *a) {
    const uint16_t *x = w, *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(load_f16x8(x + i), load_f16x8(y + i), acc0);
        acc1 = _mm256_fmadd_ps(load_f16x8(x + i + 8), load_f16x8(y + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(load_f16x8(x + i + 16), load_f16x8(y + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(load_f16x8(x + i + 24), load_f16x8(y + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_f16x8(x + i), load_f16x8(y + i), acc0);
    float sum = rf_hsum_ps256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++) sum += rf_f16(x[i]) * rf_f16(y[i]);
    *s = sum;
}

static inline __m256 load_bf16x8(const uint16_t *p) {
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

static void dot_bf16(int64_t n, float *s, const void *w, const void *a) {
    const uint16_t *x = w, *y = a;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(load_bf16x8(x + i), load_bf16x8(y + i), acc0);
        acc1 = _mm256_fmadd_ps(load_bf16x8(x + i + 8), load_bf16x8(y + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(load_bf16x8(x + i + 16), load_bf16x8(y + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(load_bf16x8(x + i + 24), load_bf16x8(y + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_bf16x8(x + i), load_bf16x8(y + i), acc0);
    float sum = rf_hsum_ps256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++) {
        uint32_t bx = (uint32_t)x[i] << 16, by = (uint32_t)y[i] << 16;
        float fx, fy;
        memcpy(&fx, &bx, 4);
        memcpy(&fy, &by, 4);
        sum += fx * fy;
    }
    *s = sum;
}

/* ---- activation quantizers ------------------------------------------------------ */

static void act_f16(const float *x, void *dst, int64_t n) {
    uint16_t *y = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = (uint16_t)_cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}

/* Quantizes 32 floats to int8 with scale 1/id; returns the codes' sum. */
static inline int quant32(const float *x, int8_t *q, float *d_out) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
    __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                             _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    float amax = _mm_cvtss_f32(m4);
    /* ggml's formula (127 / amax, not 1 / d): the same codes as llama.cpp */
    float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
    *d_out = d;
    const __m256 vid = _mm256_set1_ps(id);
    __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, vid), RND));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, vid), RND));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, vid), RND));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, vid), RND));
    int sum = rf_hsum_epi32_256(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
    /* packs interleave 128-bit lanes; the permute puts them back in order */
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, p);
    return sum;
}

static void act_q8_0(const float *x, void *dst, int64_t n) {
    rf_blk_q8_0 *y = dst;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        float d;
        quant32(x + 32 * ib, y[ib].qs, &d);
        y[ib].d = (uint16_t)_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    }
}

static void act_q8_1(const float *x, void *dst, int64_t n) {
    rf_blk_q8_1 *y = dst;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        float d;
        int sum = quant32(x + 32 * ib, y[ib].qs, &d);
        y[ib].d = (uint16_t)_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        y[ib].s = (uint16_t)_cvtss_sh(d * (float)sum, _MM_FROUND_TO_NEAREST_INT);
    }
}

/* ---- 32-value blocks ----------------------------------------------------------- */

/* Q8_0 and Q4_1 in ggml's order (see dot_legacy.c): one 8-lane accumulator,
 * one FMA per block, then the horizontal sum. */
static void dot_q8_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q8_0 *x = w;
    const rf_blk_q8_0 *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < n / 32; ib++) {
        __m256 d = _mm256_set1_ps(rf_f16(x[ib].d) * rf_f16(y[ib].d));
        __m256i p = rf_dot_s8s8(_mm256_loadu_si256((const __m256i *)x[ib].qs), _mm256_loadu_si256((const __m256i *)y[ib].qs));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
    }
    *s = rf_hsum_ps256(acc);
}

static void dot_q4_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_0 *x = w;
    const rf_blk_q8_0 *y = a;
    const int64_t nb = n / 32;
    const __m256i off = _mm256_set1_epi8(8);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t ib = 0;
    for (; ib + 2 <= nb; ib += 2) {
        __m256i q0 = _mm256_sub_epi8(rf_nibbles32(x[ib].qs), off);
        __m256i q1 = _mm256_sub_epi8(rf_nibbles32(x[ib + 1].qs), off);
        __m256i p0 = rf_dot_s8s8(q0, _mm256_loadu_si256((const __m256i *)y[ib].qs));
        __m256i p1 = rf_dot_s8s8(q1, _mm256_loadu_si256((const __m256i *)y[ib + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[ib].d) * rf_f16(y[ib].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[ib + 1].d) * rf_f16(y[ib + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; ib < nb; ib++) {
        __m256i q0 = _mm256_sub_epi8(rf_nibbles32(x[ib].qs), off);
        __m256i p0 = rf_dot_s8s8(q0, _mm256_loadu_si256((const __m256i *)y[ib].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[ib].d) * rf_f16(y[ib].d)), _mm256_cvtepi32_ps(p0), acc0);
    }
    *s = rf_hsum_ps256(_mm256_add_ps(acc0, acc1));
}

static void dot_q4_1(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_1 *x = w;
    const rf_blk_q8_1 *y = a;
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        summs = fmaf(rf_f16(x[ib].m), rf_f16(y[ib].s), summs);
        __m256 d = _mm256_set1_ps(rf_f16(x[ib].d) * rf_f16(y[ib].d));
        __m256i p = rf_dot_u8s8(rf_nibbles32(x[ib].qs), _mm256_loadu_si256((const __m256i *)y[ib].qs));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc);
    }
    *s = rf_hsum_ps256(acc) + summs;
}

static void dot_q5_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_0 *x = w;
    const rf_blk_q8_0 *y = a;
    const int64_t nb = n / 32;
    const __m256i f0 = _mm256_set1_epi8((char)0xF0);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < nb; ib++) {
        /* nibble | 0xF0 where the fifth bit is clear = nibble + 16*bit - 16 */
        __m256i q = _mm256_or_si256(rf_nibbles32(x[ib].qs), _mm256_andnot_si256(rf_bits32(rf__rd32(x[ib].qh)), f0));
        __m256i p = rf_dot_s8s8(q, _mm256_loadu_si256((const __m256i *)y[ib].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[ib].d) * rf_f16(y[ib].d)), _mm256_cvtepi32_ps(p), acc);
    }
    *s = rf_hsum_ps256(acc);
}

static void dot_q5_1(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_1 *x = w;
    const rf_blk_q8_1 *y = a;
    const int64_t nb = n / 32;
    const __m256i b4 = _mm256_set1_epi8(0x10);
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int64_t ib = 0; ib < nb; ib++) {
        __m256i q = _mm256_or_si256(rf_nibbles32(x[ib].qs), _mm256_and_si256(rf_bits32(rf__rd32(x[ib].qh)), b4));
        __m256i p = rf_dot_u8s8(q, _mm256_loadu_si256((const __m256i *)y[ib].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[ib].d) * rf_f16(y[ib].d)), _mm256_cvtepi32_ps(p), acc);
        summs += rf_f16(x[ib].m) * rf_f16(y[ib].s);
    }
    *s = rf_hsum_ps256(acc) + summs;
}

static void dot_iq4_nl(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq4_nl *x = w;
    const rf_blk_q8_0 *y = a;
    const int64_t nb = n / 32;
    const __m256i lut = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)rf__kvalues_iq4nl));
    __m256 acc = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < nb; ib++) {
        __m256i q = _mm256_shuffle_epi8(lut, rf_nibbles32(x[ib].qs));
        __m256i p = rf_dot_s8s8(q, _mm256_loadu_si256((const __m256i *)y[ib].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[ib].d) * rf_f16(y[ib].d)), _mm256_cvtepi32_ps(p), acc);
    }
    *s = rf_hsum_ps256(acc);
}

/* ---- several activation rows per weight row (prefill) -------------------------------- */

#define MULTI_MAX 4

/* Each row's sum in exactly the order of dot_q8_0 / dot_q4_1 (bit-identical
 * results); the weight block is decoded once for all rows. */
__attribute__((always_inline)) static inline void q8_0_multi(int64_t n, float *s, const void *w,
                                                              const void *const *a, const int na) {
    const rf_blk_q8_0 *x = w;
    __m256 acc[MULTI_MAX];
    for (int r = 0; r < na; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < n / 32; ib++) {
        __m256i qx = _mm256_loadu_si256((const __m256i *)x[ib].qs);
        __m256i ax = _mm256_sign_epi8(qx, qx);
        float dx = rf_f16(x[ib].d);
        for (int r = 0; r < na; r++) {
            const rf_blk_q8_0 *y = (const rf_blk_q8_0 *)a[r] + ib;
            __m256i p = rf_dot_u8s8(ax, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)y->qs), qx));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * rf_f16(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
        }
    }
    for (int r = 0; r < na; r++) s[r] = rf_hsum_ps256(acc[r]);
}

__attribute__((always_inline)) static inline void q4_1_multi(int64_t n, float *s, const void *w,
                                                              const void *const *a, const int na) {
    const rf_blk_q4_1 *x = w;
    __m256 acc[MULTI_MAX];
    float summs[MULTI_MAX];
    for (int r = 0; r < na; r++) {
        acc[r] = _mm256_setzero_ps();
        summs[r] = 0.0f;
    }
    for (int64_t ib = 0; ib < n / 32; ib++) {
        __m256i u = rf_nibbles32(x[ib].qs);
        float dx = rf_f16(x[ib].d), mx = rf_f16(x[ib].m);
        for (int r = 0; r < na; r++) {
            const rf_blk_q8_1 *y = (const rf_blk_q8_1 *)a[r] + ib;
            summs[r] = fmaf(mx, rf_f16(y->s), summs[r]);
            __m256i p = rf_dot_u8s8(u, _mm256_loadu_si256((const __m256i *)y->qs));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * rf_f16(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
        }
    }
    for (int r = 0; r < na; r++) s[r] = rf_hsum_ps256(acc[r]) + summs[r];
}

#define MULTI_ENTRY(NAME, KERNEL)                                                          \
    static void NAME(int64_t n, float *s, const void *w, const void *const *a, int na) { \
        for (; na >= 4; na -= 4, s += 4, a += 4) KERNEL(n, s, w, a, 4);                   \
        if (na == 3) KERNEL(n, s, w, a, 3);                                                \
        else if (na == 2) KERNEL(n, s, w, a, 2);                                           \
        else if (na == 1) KERNEL(n, s, w, a, 1);                                           \
    }
MULTI_ENTRY(dot_multi_q8_0, q8_0_multi)
MULTI_ENTRY(dot_multi_q4_1, q4_1_multi)

void rf__dot_fill_avx2_legacy(rf_dot_table *t) {
    t->dot_multi[RF_TYPE_Q8_0] = dot_multi_q8_0;
    t->dot_multi[RF_TYPE_Q4_1] = dot_multi_q4_1;
    t->dot[RF_TYPE_F32] = dot_f32;
    t->dot[RF_TYPE_F16] = dot_f16;
    t->dot[RF_TYPE_BF16] = dot_bf16;
    t->dot[RF_TYPE_Q4_0] = dot_q4_0;
    t->dot[RF_TYPE_Q4_1] = dot_q4_1;
    t->dot[RF_TYPE_Q5_0] = dot_q5_0;
    t->dot[RF_TYPE_Q5_1] = dot_q5_1;
    t->dot[RF_TYPE_Q8_0] = dot_q8_0;
    t->dot[RF_TYPE_IQ4_NL] = dot_iq4_nl;
    t->quant[RF_TYPE_F16] = act_f16;
    t->quant[RF_TYPE_Q8_0] = act_q8_0;
    t->quant[RF_TYPE_Q8_1] = act_q8_1;
}

void rf__dot_fill_avx2(rf_dot_table *t) {
    rf__dot_fill_avx2_legacy(t);
    rf__dot_fill_avx2_kquant(t);
    rf__dot_fill_avx2_iquant(t);
}
