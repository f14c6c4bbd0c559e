/*
 * dot_legacy_avx512.c - AVX-512 (F, BW, VL, DQ, VNNI) dot products of F32,
 * F16, BF16 and the 32-value block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
 * IQ4_NL, MXFP4).
 *
 * Two blocks fill one 512-bit register; VNNI's vpdpbusd sums unsigned x
 * signed byte products into int32 lanes without saturation, so signed
 * weights are handled as (w + c) * y - c * y where that is cheaper than
 * moving signs onto the activations.
 */
#include <immintrin.h>
#include <math.h>

#include "core/core.h"
#include "cpu/cpu_features.h"
#include "cpu/dot_impl.h"
#include "cpu/x86/simd_x86.h"

static inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

/* ---- float types ------------------------------------------------------------- */

static void dot_f32(int64_t n, float *s, const void *w, const void *a) {
    const float *x = w, *y = a;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), acc3);
    }
    for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
        acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, x + i), _mm512_maskz_loadu_ps(k, y + i), acc1);
    }
    *s = hsum512(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

static inline __m512 f16x16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

static void dot_f16(int64_t n, float *s, const void *w, const void *a) {
    const uint16_t *x = w, *y = a;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_fmadd_ps(f16x16(x + i), f16x16(y + i), acc0);
        acc1 = _mm512_fmadd_ps(f16x16(x + i + 16), f16x16(y + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(f16x16(x + i + 32), f16x16(y + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(f16x16(x + i + 48), f16x16(y + i + 48), acc3);
    }
    for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(f16x16(x + i), f16x16(y + i), acc0);
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
        __m512 vx = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, x + i));
        __m512 vy = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, y + i));
        acc1 = _mm512_fmadd_ps(vx, vy, acc1);
    }
    *s = hsum512(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

static inline __m512 bf16x16(__m256i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
}

static void dot_bf16(int64_t n, float *s, const void *w, const void *a) {
    const uint16_t *x = w, *y = a;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(bf16x16(_mm256_loadu_si256((const __m256i *)(x + i))),
                               bf16x16(_mm256_loadu_si256((const __m256i *)(y + i))), acc0);
        acc1 = _mm512_fmadd_ps(bf16x16(_mm256_loadu_si256((const __m256i *)(x + i + 16))),
                               bf16x16(_mm256_loadu_si256((const __m256i *)(y + i + 16))), acc1);
    }
    for (; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        acc0 = _mm512_fmadd_ps(bf16x16(_mm256_maskz_loadu_epi16(k, x + i)), bf16x16(_mm256_maskz_loadu_epi16(k, y + i)), acc0);
    }
    *s = hsum512(_mm512_add_ps(acc0, acc1));
}

/* With AVX512_BF16: vdpbf16ps multiplies pairs of bf16 and adds them in f32. */
__attribute__((target("avx512bf16")))
static void dot_bf16_dp(int64_t n, float *s, const void *w, const void *a) {
    const uint16_t *x = w, *y = a;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_dpbf16_ps(acc0, (__m512bh)_mm512_loadu_si512(x + i), (__m512bh)_mm512_loadu_si512(y + i));
        acc1 = _mm512_dpbf16_ps(acc1, (__m512bh)_mm512_loadu_si512(x + i + 32), (__m512bh)_mm512_loadu_si512(y + i + 32));
    }
    for (; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        acc0 = _mm512_fmadd_ps(bf16x16(_mm256_maskz_loadu_epi16(k, x + i)), bf16x16(_mm256_maskz_loadu_epi16(k, y + i)), acc0);
    }
    *s = hsum512(_mm512_add_ps(acc0, acc1));
}

/* ---- 32-value blocks ------------------------------------------------------------ */

/* The 32 activation bytes of two blocks. */
static inline __m512i y2(const int8_t *p0, const int8_t *p1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)p0)),
                              _mm256_loadu_si256((const __m256i *)p1), 1);
}
/* Two blocks of 16 nibble-pair bytes -> 64 values 0..15 in element order. */
static inline __m512i nib2(const uint8_t *q0, const uint8_t *q1) {
    __m256i t = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)q0)),
                                        _mm_loadu_si128((const __m128i *)q1), 1);
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(t), _mm256_srli_epi16(t, 4), 1);
    z = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
}
/* 8 lanes of s0, then 8 of s1. */
static inline __m512 scale2(float s0, float s1) {
    return _mm512_insertf32x8(_mm512_set1_ps(s0), _mm256_set1_ps(s1), 1);
}
static inline __m512i dpbusd(__m512i u, __m512i s) { return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, s); }

/* Q8_0 and Q4_1 sum in ggml's order (see dot_legacy.c) so they agree with
 * llama.cpp bit for bit: one 8-lane accumulator and one FMA per block; VNNI
 * forms the same integer lane sums as ggml's maddubs/madd. */
static inline __m256i dp256_s8s8(__m256i x, __m256i y) { /* lane i: sum of 4 products */
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

static void dot_q8_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q8_0 *x = w;
    const rf_blk_q8_0 *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < n / 32; ib++) {
        __m256i p = dp256_s8s8(_mm256_loadu_si256((const __m256i *)x[ib].qs), _mm256_loadu_si256((const __m256i *)y[ib].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[ib].d) * rf_f16(y[ib].d)), _mm256_cvtepi32_ps(p), acc);
    }
    *s = rf_hsum_ps256(acc);
}

/* Blocks whose weights decode to u - c with u unsigned bytes (Q4_0: c = 8,
 * IQ4_NL and MXFP4 through a table shifted by c = 128). */
#define DOT_U_MINUS_C(NAME, BLK, DECODE, C, SCALE)                                                 \
    static void NAME(int64_t n, float *s, const void *w, const void *a) {                           \
        const BLK *x = w;                                                                           \
        const rf_blk_q8_0 *y = a;                                                                   \
        const int64_t nb = n / 32;                                                                  \
        const __m512i c = _mm512_set1_epi8((char)(C));                                              \
        __m512 acc = _mm512_setzero_ps();                                                           \
        int64_t ib = 0;                                                                             \
        for (; ib + 2 <= nb; ib += 2) {                                                             \
            __m512i u = DECODE(x[ib].qs, x[ib + 1].qs);                                             \
            __m512i qy = y2(y[ib].qs, y[ib + 1].qs);                                                \
            __m512i p = _mm512_sub_epi32(dpbusd(u, qy), dpbusd(c, qy));                             \
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p),                                            \
                                  scale2(SCALE(x[ib]) * rf_f16(y[ib].d), SCALE(x[ib + 1]) * rf_f16(y[ib + 1].d)), acc); \
        }                                                                                           \
        if (ib < nb) { /* last odd block: the same on the lower half */                            \
            __m512i u = DECODE(x[ib].qs, x[ib].qs);                                                 \
            __m512i qy = y2(y[ib].qs, y[ib].qs);                                                    \
            __m512i p = _mm512_sub_epi32(dpbusd(u, qy), dpbusd(c, qy));                             \
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), scale2(SCALE(x[ib]) * rf_f16(y[ib].d), 0.0f), acc); \
        }                                                                                           \
        *s = hsum512(acc);                                                                          \
    }

#define F16_D(b) rf_f16((b).d)
#define E8M0_D(b) rf__e8m0_half((b).e)

static inline __m512i lut_iq4nl(const uint8_t *q0, const uint8_t *q1) {
    static const int8_t t[16] = {1, 24, 45, 63, 79, 93, 106, 118, -127, -115, -103, -90, -75, -59, -39, -15};
    /* kvalues_iq4nl + 128 as bytes */
    return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)t)), nib2(q0, q1));
}
static inline __m512i lut_mxfp4(const uint8_t *q0, const uint8_t *q1) {
    static const uint8_t t[16] = {128, 129, 130, 131, 132, 134, 136, 140, 128, 127, 126, 125, 124, 122, 120, 116};
    return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)t)), nib2(q0, q1));
}

DOT_U_MINUS_C(dot_q4_0, rf_blk_q4_0, nib2, 8, F16_D)
DOT_U_MINUS_C(dot_iq4_nl, rf_blk_iq4_nl, lut_iq4nl, 128, F16_D)
DOT_U_MINUS_C(dot_mxfp4, rf_blk_mxfp4, lut_mxfp4, 128, E8M0_D)

static void dot_q5_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_0 *x = w;
    const rf_blk_q8_0 *y = a;
    const int64_t nb = n / 32;
    const __m512i c16 = _mm512_set1_epi8(16);
    __m512 acc = _mm512_setzero_ps();
    int64_t ib = 0;
    for (; ib + 2 <= nb; ib += 2) {
        __mmask64 hb = (__mmask64)rf__rd32(x[ib].qh) | ((__mmask64)rf__rd32(x[ib + 1].qh) << 32);
        __m512i u = nib2(x[ib].qs, x[ib + 1].qs);
        u = _mm512_mask_add_epi8(u, hb, u, c16);
        __m512i qy = y2(y[ib].qs, y[ib + 1].qs);
        __m512i p = _mm512_sub_epi32(dpbusd(u, qy), dpbusd(c16, qy));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p),
                              scale2(rf_f16(x[ib].d) * rf_f16(y[ib].d), rf_f16(x[ib + 1].d) * rf_f16(y[ib + 1].d)), acc);
    }
    if (ib < nb) {
        __mmask64 hb = (__mmask64)rf__rd32(x[ib].qh);
        __m512i u = _mm512_mask_add_epi8(nib2(x[ib].qs, x[ib].qs), hb, nib2(x[ib].qs, x[ib].qs), c16);
        __m512i qy = y2(y[ib].qs, y[ib].qs);
        __m512i p = _mm512_sub_epi32(dpbusd(u, qy), dpbusd(c16, qy));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), scale2(rf_f16(x[ib].d) * rf_f16(y[ib].d), 0.0f), acc);
    }
    *s = hsum512(acc);
}

static void dot_q4_1(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_1 *x = w;
    const rf_blk_q8_1 *y = a;
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        summs = fmaf(rf_f16(x[ib].m), rf_f16(y[ib].s), summs);
        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), rf_nibbles32(x[ib].qs),
                                        _mm256_loadu_si256((const __m256i *)y[ib].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[ib].d) * rf_f16(y[ib].d)), _mm256_cvtepi32_ps(p), acc);
    }
    *s = rf_hsum_ps256(acc) + summs;
}

static void dot_q5_1(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_1 *x = w;
    const rf_blk_q8_1 *y = a;
    const int64_t nb = n / 32;
    const __m512i c16 = _mm512_set1_epi8(16);
    __m512 acc = _mm512_setzero_ps();
    float summs = 0.0f;
    int64_t ib = 0;
    for (; ib + 2 <= nb; ib += 2) {
        __mmask64 hb = (__mmask64)rf__rd32(x[ib].qh) | ((__mmask64)rf__rd32(x[ib + 1].qh) << 32);
        __m512i u = nib2(x[ib].qs, x[ib + 1].qs);
        u = _mm512_mask_add_epi8(u, hb, u, c16);
        __m512i p = dpbusd(u, y2(y[ib].qs, y[ib + 1].qs));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p),
                              scale2(rf_f16(x[ib].d) * rf_f16(y[ib].d), rf_f16(x[ib + 1].d) * rf_f16(y[ib + 1].d)), acc);
        summs += rf_f16(x[ib].m) * rf_f16(y[ib].s) + rf_f16(x[ib + 1].m) * rf_f16(y[ib + 1].s);
    }
    if (ib < nb) {
        __mmask64 hb = (__mmask64)rf__rd32(x[ib].qh);
        __m512i u = _mm512_mask_add_epi8(nib2(x[ib].qs, x[ib].qs), hb, nib2(x[ib].qs, x[ib].qs), c16);
        __m512i p = dpbusd(u, y2(y[ib].qs, y[ib].qs));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), scale2(rf_f16(x[ib].d) * rf_f16(y[ib].d), 0.0f), acc);
        summs += rf_f16(x[ib].m) * rf_f16(y[ib].s);
    }
    *s = hsum512(acc) + summs;
}

/* ---- several activation rows per weight row (prefill) -------------------------------- */

#define MULTI_MAX 4

/* Each row in exactly the order of dot_q8_0 / dot_q4_1 (bit-identical); the
 * weight block is decoded once for all rows. */
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
            __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ax,
                                            _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)y->qs), qx));
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
            __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, _mm256_loadu_si256((const __m256i *)y->qs));
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

void rf__dot_fill_avx512_legacy(rf_dot_table *t) {
    t->dot_multi[RF_TYPE_Q8_0] = dot_multi_q8_0;
    t->dot_multi[RF_TYPE_Q4_1] = dot_multi_q4_1;
    t->dot[RF_TYPE_F32] = dot_f32;
    t->dot[RF_TYPE_F16] = dot_f16;
    t->dot[RF_TYPE_BF16] = rf__cpu_features()->avx512bf16 ? dot_bf16_dp : dot_bf16;
    t->dot[RF_TYPE_Q4_0] = dot_q4_0;
    t->dot[RF_TYPE_Q4_1] = dot_q4_1;
    t->dot[RF_TYPE_Q5_0] = dot_q5_0;
    t->dot[RF_TYPE_Q5_1] = dot_q5_1;
    t->dot[RF_TYPE_Q8_0] = dot_q8_0;
    t->dot[RF_TYPE_IQ4_NL] = dot_iq4_nl;
    t->dot[RF_TYPE_MXFP4] = dot_mxfp4;
}

void rf__dot_fill_avx512(rf_dot_table *t) {
    rf__dot_fill_avx512_legacy(t);
    rf__dot_fill_avx512_kquant(t);
}
