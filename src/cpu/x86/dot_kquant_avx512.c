/*
 * dot_kquant_avx512.c - AVX-512 (F, BW, VL, DQ, VNNI) dot products of the
 * K-quants (Q2_K .. Q6_K) and IQ4_XS against Q8_K.
 *
 * 64 weights per 512-bit register in element order, multiplied with the
 * activations by vpmaddubsw (pair sums fit int16), then scaled and summed
 * into int32 by VNNI's vpdpwssd, whose 16-bit scale operand holds, per
 * 128-bit lane, the scale of that lane's 16 values.
 */
#include <immintrin.h>

#include "core/core.h"
#include "cpu/dot_impl.h"
#include "cpu/x86/simd_x86.h"

static inline __m512i ld512(const void *p) { return _mm512_loadu_si512(p); }
static inline __m256i ld256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
/* [lo, hi] of two 256-bit halves */
static inline __m512i join(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
/* acc += sum over pairs of maddubs(u, y) * scale (int16 per lane) */
static inline __m512i mac(__m512i acc, __m512i u, __m512i y, __m512i sc) {
    return _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(u, y), sc);
}
/* Index vectors for vpermw: kGroup4[k] spreads int16 elements 4k..4k+3 over
 * the four 128-bit lanes; kGroup2[k] puts 2k in lanes 0-1, 2k+1 in 2-3. */
static const uint16_t kGroup4[4][32] = {
#define G(a) {a, a, a, a, a, a, a, a, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, \
              a + 2, a + 2, a + 2, a + 2, a + 2, a + 2, a + 2, a + 2, a + 3, a + 3, a + 3, a + 3, a + 3, a + 3, a + 3, a + 3}
    G(0), G(4), G(8), G(12),
#undef G
};
static const uint16_t kGroup2[4][32] = {
#define G(a) {a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, \
              a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1, a + 1}
    G(0), G(2), G(4), G(6),
#undef G
};
static inline __m512i perm16(const uint16_t *idx, __m512i v) { return _mm512_permutexvar_epi16(ld512(idx), v); }

static inline float finish(__m512 acc) { return _mm512_reduce_add_ps(acc); }

static void dot_q2_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q2_k *x = w;
    const rf_blk_q8_k *y = a;
    const __m512i m3 = _mm512_set1_epi8(3);
    __m512 acc = _mm512_setzero_ps();
    __m256 accm = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        __m128i sc = _mm_loadu_si128((const __m128i *)x[i].scales);
        __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc, 4), _mm_set1_epi8(0x0F)));
        __m256i msum = _mm256_madd_epi16(mins, ld256(y[i].bsums));
        __m512i s16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(sc, _mm_set1_epi8(0x0F))));
        __m512i sumi = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m256i q2 = ld256(x[i].qs + 32 * h);
            __m512i z = join(q2, _mm256_srli_epi16(q2, 2));
            __m512i u0 = _mm512_and_si512(z, m3), u1 = _mm512_and_si512(_mm512_srli_epi16(z, 4), m3);
            sumi = mac(sumi, u0, ld512(q8 + 128 * h), perm16(kGroup4[2 * h], s16));
            sumi = mac(sumi, u1, ld512(q8 + 128 * h + 64), perm16(kGroup4[2 * h + 1], s16));
        }
        float yd = y[i].d;
        acc = _mm512_fmadd_ps(_mm512_set1_ps(rf_f16(x[i].d) * yd), _mm512_cvtepi32_ps(sumi), acc);
        accm = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].dmin) * yd), _mm256_cvtepi32_ps(msum), accm);
    }
    *s = finish(acc) - rf_hsum_ps256(accm);
}

static void dot_q3_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q3_k *x = w;
    const rf_blk_q8_k *y = a;
    const __m512i m3 = _mm512_set1_epi8(3), m1 = _mm512_set1_epi8(1);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        __m256i sc16 = _mm256_cvtepi8_epi16(rf_k3_scales_x86(x[i].scales));
        /* weights held as value + 4 in 0..7: subtract 4 * sum(scale * bsum) */
        __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(sc16, ld256(y[i].bsums)), 2);
        __m512i sumi = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), corr));
        __m512i s16 = _mm512_castsi256_si512(sc16);
        __m256i hm = ld256(x[i].hmask);
        for (int h = 0; h < 2; h++) {
            __m256i q3 = ld256(x[i].qs + 32 * h);
            __m512i z = join(q3, _mm256_srli_epi16(q3, 2));
            __m512i hz = join(_mm256_srli_epi16(hm, 4 * h), _mm256_srli_epi16(hm, 4 * h + 1));
            __m512i u0 = _mm512_or_si512(_mm512_and_si512(z, m3), _mm512_slli_epi16(_mm512_and_si512(hz, m1), 2));
            __m512i u1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(z, 4), m3),
                                         _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hz, 2), m1), 2));
            sumi = mac(sumi, u0, ld512(q8 + 128 * h), perm16(kGroup4[2 * h], s16));
            sumi = mac(sumi, u1, ld512(q8 + 128 * h + 64), perm16(kGroup4[2 * h + 1], s16));
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(rf_f16(x[i].d) * y[i].d), _mm512_cvtepi32_ps(sumi), acc);
    }
    *s = finish(acc);
}

static void dot_q4_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_k *x = w;
    const rf_blk_q8_k *y = a;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc = _mm512_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        __m128i sc8, mn8;
        rf_k4_scales_x86(x[i].scales, &sc8, &mn8);
        float yd = y[i].d;
        accm = _mm_fmadd_ps(_mm_set1_ps(rf_f16(x[i].dmin) * yd), _mm_cvtepi32_ps(rf_k4_minsum_x86(mn8, y[i].bsums)), accm);
        __m512i s16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(sc8));
        __m512i sumi = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) {
            __m256i q4 = ld256(x[i].qs + 32 * j);
            __m512i u = _mm512_and_si512(join(q4, _mm256_srli_epi16(q4, 4)), m4);
            sumi = mac(sumi, u, ld512(q8 + 64 * j), perm16(kGroup2[j], s16));
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(rf_f16(x[i].d) * yd), _mm512_cvtepi32_ps(sumi), acc);
    }
    __m128 m = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    *s = finish(acc) - _mm_cvtss_f32(m);
}

static void dot_q5_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_k *x = w;
    const rf_blk_q8_k *y = a;
    const __m512i m4 = _mm512_set1_epi8(0x0F), m1 = _mm512_set1_epi8(1);
    __m512 acc = _mm512_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        __m128i sc8, mn8;
        rf_k4_scales_x86(x[i].scales, &sc8, &mn8);
        float yd = y[i].d;
        accm = _mm_fmadd_ps(_mm_set1_ps(rf_f16(x[i].dmin) * yd), _mm_cvtepi32_ps(rf_k4_minsum_x86(mn8, y[i].bsums)), accm);
        __m512i s16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(sc8));
        __m256i qh = ld256(x[i].qh);
        __m512i hz = join(qh, _mm256_srli_epi16(qh, 1));
        __m512i sumi = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) {
            __m256i q4 = ld256(x[i].qs + 32 * j);
            __m512i hb = _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(hz, 2 * j), m1), 4);
            __m512i u = _mm512_or_si512(_mm512_and_si512(join(q4, _mm256_srli_epi16(q4, 4)), m4), hb);
            sumi = mac(sumi, u, ld512(q8 + 64 * j), perm16(kGroup2[j], s16));
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(rf_f16(x[i].d) * yd), _mm512_cvtepi32_ps(sumi), acc);
    }
    __m128 m = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    *s = finish(acc) - _mm_cvtss_f32(m);
}

static void dot_q6_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q6_k *x = w;
    const rf_blk_q8_k *y = a;
    const __m512i m4 = _mm512_set1_epi8(0x0F), m3 = _mm512_set1_epi8(0x03), m30 = _mm512_set1_epi8(0x30);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        /* weights held as value + 32: subtract 32 * sum(scale * bsum) */
        __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(sc16, ld256(y[i].bsums)), 5);
        __m512i sumi = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), corr));
        __m512i s16 = _mm512_castsi256_si512(sc16);
        for (int h = 0; h < 2; h++) {
            __m512i ql = ld512(x[i].ql + 64 * h);
            __m256i qh = ld256(x[i].qh + 32 * h);
            __m512i hz = join(qh, _mm256_srli_epi16(qh, 2));
            __m512i u0 = _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_slli_epi16(_mm512_and_si512(hz, m3), 4));
            __m512i u1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), _mm512_and_si512(hz, m30));
            sumi = mac(sumi, u0, ld512(q8 + 128 * h), perm16(kGroup4[2 * h], s16));
            sumi = mac(sumi, u1, ld512(q8 + 128 * h + 64), perm16(kGroup4[2 * h + 1], s16));
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(rf_f16(x[i].d) * y[i].d), _mm512_cvtepi32_ps(sumi), acc);
    }
    *s = finish(acc);
}

static void dot_iq4_xs(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq4_xs *x = w;
    const rf_blk_q8_k *y = a;
    const __m512i lut = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)rf__kvalues_iq4nl));
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        int16_t ls[8];
        for (int ib = 0; ib < 8; ib++)
            ls[ib] = (int16_t)((((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((x[i].scales_h >> (2 * ib)) & 3) << 4)) - 32);
        __m512i s16 = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)ls));
        __m512i sumi = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) {
            /* two sub-blocks of 16 nibble-pair bytes -> 64 values in order */
            __m256i t = ld256(x[i].qs + 32 * j);
            __m512i z = join(t, _mm256_srli_epi16(t, 4));
            z = _mm512_and_si512(_mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0)), m4);
            __m512i q = _mm512_shuffle_epi8(lut, z);
            __m512i yq = ld512(q8 + 64 * j);
            __mmask64 neg = _mm512_movepi8_mask(q);
            yq = _mm512_mask_sub_epi8(yq, neg, _mm512_setzero_si512(), yq);
            sumi = mac(sumi, _mm512_abs_epi8(q), yq, perm16(kGroup2[j], s16));
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(rf_f16(x[i].d) * y[i].d), _mm512_cvtepi32_ps(sumi), acc);
    }
    *s = finish(acc);
}

/* ---- several activation rows per weight row (prefill) -----------------------------
 * The weights of a super-block are decoded once into registers and dotted
 * with up to 8 activation rows; NA is a compile-time constant in each copy. */

#define MULTI_MAX 8

/* The prefill kernels multiply with vpdpbusd (4 products summed per int32,
 * one multiply instruction per 64 weights) instead of maddubs + dpwssd (two).
 * Each int32 is at most 4 * 63 * 128 = 32256 in magnitude (Q6_K; Q4_K less),
 * so two such vectors pack losslessly into int16 (vpackssdw), and a single
 * vpdpwssd applies the sub-block scales to 128 weights at once: 1.5 instead
 * of 2 multiply instructions per 64 weights and activation row. The integer
 * sums are exact, so only the float lane order differs from dot_q4_k/q6_k.
 *
 * vpackssdw(p, q) holds in each 128-bit lane k: p's 4 int32 of lane k as
 * int16 elements 0-3, then q's as 4-7. kPackQ4[h] / kPackQ6[h] are vpermw
 * indices giving each int16 element the scale of the sub-block it came from,
 * for p = register 2h and q = register 2h + 1. */
static const uint16_t kPackQ4[2][32] = {
/* Q4_K register j: lanes 0-1 sub-block 2j, lanes 2-3 sub-block 2j + 1 */
#define L(a, b) a, a, a, a, b, b, b, b
#define G(h) {L(4 * h, 4 * h + 2), L(4 * h, 4 * h + 2), L(4 * h + 1, 4 * h + 3), L(4 * h + 1, 4 * h + 3)}
    G(0), G(1),
#undef G
};
static const uint16_t kPackQ6[2][32] = {
/* Q6_K register m: lane k holds sub-block 4m + k */
#define G(h) {L(8 * h, 8 * h + 4), L(8 * h + 1, 8 * h + 5), L(8 * h + 2, 8 * h + 6), L(8 * h + 3, 8 * h + 7)}
    G(0), G(1),
#undef G
#undef L
};
/* acc += scales * (u0 . y0 | u1 . y1) for two registers of weights */
static inline __m512i mac2(__m512i acc, __m512i u0, __m512i y0, __m512i u1, __m512i y1, __m512i sc) {
    const __m512i z = _mm512_setzero_si512();
    __m512i p = _mm512_dpbusd_epi32(z, u0, y0), q = _mm512_dpbusd_epi32(z, u1, y1);
    return _mm512_dpwssd_epi32(acc, _mm512_packs_epi32(p, q), sc);
}

__attribute__((always_inline)) static inline void q4k_multi(int64_t n, float *s, const void *w,
                                                             const void *const *a, const int na) {
    const rf_blk_q4_k *x = w;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc[MULTI_MAX];
    __m128 accm[MULTI_MAX];
    for (int r = 0; r < na; r++) { acc[r] = _mm512_setzero_ps(); accm[r] = _mm_setzero_ps(); }
    for (int64_t i = 0; i < n / 256; i++) {
        __m128i sc8, mn8;
        rf_k4_scales_x86(x[i].scales, &sc8, &mn8);
        __m512i s16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(sc8));
        __m512i u[4], sc[2];
        for (int j = 0; j < 4; j++) {
            __m256i q4 = ld256(x[i].qs + 32 * j);
            u[j] = _mm512_and_si512(join(q4, _mm256_srli_epi16(q4, 4)), m4);
        }
        for (int h = 0; h < 2; h++) sc[h] = perm16(kPackQ4[h], s16);
        float d = rf_f16(x[i].d), dmin = rf_f16(x[i].dmin);
        for (int r = 0; r < na; r++) {
            const rf_blk_q8_k *y = (const rf_blk_q8_k *)a[r] + i;
            __m512i sumi = _mm512_setzero_si512();
            for (int h = 0; h < 2; h++)
                sumi = mac2(sumi, u[2 * h], ld512(y->qs + 128 * h), u[2 * h + 1], ld512(y->qs + 128 * h + 64), sc[h]);
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(d * y->d), _mm512_cvtepi32_ps(sumi), acc[r]);
            accm[r] = _mm_fmadd_ps(_mm_set1_ps(dmin * y->d), _mm_cvtepi32_ps(rf_k4_minsum_x86(mn8, y->bsums)), accm[r]);
        }
    }
    for (int r = 0; r < na; r++) {
        __m128 m = _mm_add_ps(accm[r], _mm_movehl_ps(accm[r], accm[r]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        s[r] = finish(acc[r]) - _mm_cvtss_f32(m);
    }
}

__attribute__((always_inline)) static inline void q6k_multi(int64_t n, float *s, const void *w,
                                                             const void *const *a, const int na) {
    const rf_blk_q6_k *x = w;
    const __m512i m4 = _mm512_set1_epi8(0x0F), m3 = _mm512_set1_epi8(0x03), m30 = _mm512_set1_epi8(0x30);
    __m512 acc[MULTI_MAX];
    for (int r = 0; r < na; r++) acc[r] = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        __m512i s16 = _mm512_castsi256_si512(sc16);
        __m512i u[4], sc[2];
        for (int h = 0; h < 2; h++) {
            __m512i ql = ld512(x[i].ql + 64 * h);
            __m256i qh = ld256(x[i].qh + 32 * h);
            __m512i hz = join(qh, _mm256_srli_epi16(qh, 2));
            u[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_slli_epi16(_mm512_and_si512(hz, m3), 4));
            u[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), _mm512_and_si512(hz, m30));
            sc[h] = perm16(kPackQ6[h], s16);
        }
        float d = rf_f16(x[i].d);
        for (int r = 0; r < na; r++) {
            const rf_blk_q8_k *y = (const rf_blk_q8_k *)a[r] + i;
            __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(sc16, ld256(y->bsums)), 5);
            __m512i sumi = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), corr));
            for (int h = 0; h < 2; h++)
                sumi = mac2(sumi, u[2 * h], ld512(y->qs + 128 * h), u[2 * h + 1], ld512(y->qs + 128 * h + 64), sc[h]);
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(d * y->d), _mm512_cvtepi32_ps(sumi), acc[r]);
        }
    }
    for (int r = 0; r < na; r++) s[r] = finish(acc[r]);
}

#define MULTI_ENTRY(NAME, KERNEL)                                                          \
    static void NAME(int64_t n, float *s, const void *w, const void *const *a, int na) { \
        for (; na >= 8; na -= 8, s += 8, a += 8) KERNEL(n, s, w, a, 8);                   \
        for (; na >= 4; na -= 4, s += 4, a += 4) KERNEL(n, s, w, a, 4);                   \
        if (na == 3) KERNEL(n, s, w, a, 3);                                                \
        else if (na == 2) KERNEL(n, s, w, a, 2);                                           \
        else if (na == 1) KERNEL(n, s, w, a, 1);                                           \
    }
MULTI_ENTRY(dot_multi_q4_k, q4k_multi)
MULTI_ENTRY(dot_multi_q6_k, q6k_multi)

void rf__dot_fill_avx512_kquant(rf_dot_table *t) {
    t->dot_multi[RF_TYPE_Q4_K] = dot_multi_q4_k;
    t->dot_multi[RF_TYPE_Q6_K] = dot_multi_q6_k;
    t->dot[RF_TYPE_Q2_K] = dot_q2_k;
    t->dot[RF_TYPE_Q3_K] = dot_q3_k;
    t->dot[RF_TYPE_Q4_K] = dot_q4_k;
    t->dot[RF_TYPE_Q5_K] = dot_q5_k;
    t->dot[RF_TYPE_Q6_K] = dot_q6_k;
    t->dot[RF_TYPE_IQ4_XS] = dot_iq4_xs;
}
