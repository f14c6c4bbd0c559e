/*
 * dot_iquant_avx2.c - AVX2 dot products of the lattice i-quants (IQ1_S,
 * IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S) against Q8_K, and of TQ2_0
 * (Q8_K), NVFP4 and Q1_0 (Q8_0).
 *
 * Grid rows are gathered with scalar loads into a vector of unsigned bytes;
 * signs go onto the activations ((q ^ m) - m with m = 0 or -1, exact since
 * activations lie in [-127, 127]); maddubs and madd with the group scale
 * then sum into int32 lanes.
 */
#include "core/core.h"
#include "cpu/dot_impl.h"
#include "cpu/x86/simd_x86.h"
#include "quant/iq_grids.h"

static inline __m256i ld(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline __m256i neg_where(__m256i q, __m256i m) { return _mm256_sub_epi8(_mm256_xor_si256(q, m), m); }
static inline __m256i grid4x64(const uint64_t *g, unsigned i0, unsigned i1, unsigned i2, unsigned i3) {
    return _mm256_set_epi64x((long long)g[i3], (long long)g[i2], (long long)g[i1], (long long)g[i0]);
}
static inline __m256i signs4x64(unsigned s0, unsigned s1, unsigned s2, unsigned s3) {
    return _mm256_set_epi64x((long long)rf__ksigns64[s3], (long long)rf__ksigns64[s2],
                             (long long)rf__ksigns64[s1], (long long)rf__ksigns64[s0]);
}
/* Scale vector: ls1 for the first 16 values, ls2 for the last 16. */
static inline __m256i scale2x16(int ls1, int ls2) {
    return _mm256_set_m128i(_mm_set1_epi16((short)ls2), _mm_set1_epi16((short)ls1));
}

static void dot_iq2_xxs(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq2_xxs *x = w;
    const rf_blk_q8_k *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++) {
            const uint16_t *q2 = x[i].qs + 4 * ib;
            uint32_t idx = (uint32_t)q2[0] | ((uint32_t)q2[1] << 16), sg = (uint32_t)q2[2] | ((uint32_t)q2[3] << 16);
            __m256i g = grid4x64(rf__iq2xxs_grid, idx & 0xFF, (idx >> 8) & 0xFF, (idx >> 16) & 0xFF, idx >> 24);
            __m256i m = signs4x64(sg & 127, (sg >> 7) & 127, (sg >> 14) & 127, (sg >> 21) & 127);
            __m256i p = _mm256_maddubs_epi16(g, neg_where(ld(y[i].qs + 32 * ib), m));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, _mm256_set1_epi16((short)(2 * (sg >> 28) + 1))));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = 0.125f * rf_hsum_ps256(acc);
}

static void dot_iq2_xs(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq2_xs *x = w;
    const rf_blk_q8_k *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++) {
            const uint16_t *q2 = x[i].qs + 4 * ib;
            __m256i g = grid4x64(rf__iq2xs_grid, q2[0] & 511, q2[1] & 511, q2[2] & 511, q2[3] & 511);
            __m256i m = signs4x64(q2[0] >> 9, q2[1] >> 9, q2[2] >> 9, q2[3] >> 9);
            __m256i p = _mm256_maddubs_epi16(g, neg_where(ld(y[i].qs + 32 * ib), m));
            int sc = x[i].scales[ib];
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale2x16(2 * (sc & 0xF) + 1, 2 * (sc >> 4) + 1)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = 0.125f * rf_hsum_ps256(acc);
}

static void dot_iq2_s(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq2_s *x = w;
    const rf_blk_q8_k *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *qs = x[i].qs, *signs = x[i].qs + 32;
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++, qs += 4, signs += 4) {
            unsigned h = x[i].qh[ib];
            __m256i g = grid4x64(rf__iq2s_grid, qs[0] | ((h << 8) & 0x300), qs[1] | ((h << 6) & 0x300),
                                 qs[2] | ((h << 4) & 0x300), qs[3] | ((h << 2) & 0x300));
            __m256i p = _mm256_maddubs_epi16(g, neg_where(ld(y[i].qs + 32 * ib), rf_bits32(rf__rd32(signs))));
            int sc = x[i].scales[ib];
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale2x16(2 * (sc & 0xF) + 1, 2 * (sc >> 4) + 1)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = 0.125f * rf_hsum_ps256(acc);
}

static void dot_iq3_xxs(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq3_xxs *x = w;
    const rf_blk_q8_k *y = a;
    const uint32_t *gr = rf__iq3xxs_grid;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *q3 = x[i].qs;
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++, q3 += 8) {
            uint32_t aux = rf__rd32(x[i].qs + 64 + 4 * ib);
            __m256i g = _mm256_set_epi32((int)gr[q3[7]], (int)gr[q3[6]], (int)gr[q3[5]], (int)gr[q3[4]],
                                         (int)gr[q3[3]], (int)gr[q3[2]], (int)gr[q3[1]], (int)gr[q3[0]]);
            __m256i m = signs4x64(aux & 127, (aux >> 7) & 127, (aux >> 14) & 127, (aux >> 21) & 127);
            __m256i p = _mm256_maddubs_epi16(g, neg_where(ld(y[i].qs + 32 * ib), m));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, _mm256_set1_epi16((short)(2 * (aux >> 28) + 1))));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = 0.25f * rf_hsum_ps256(acc);
}

static void dot_iq3_s(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq3_s *x = w;
    const rf_blk_q8_k *y = a;
    const uint32_t *gr = rf__iq3s_grid;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *qs = x[i].qs, *signs = x[i].signs;
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++, qs += 8, signs += 4) {
            unsigned h = x[i].qh[ib];
#define IDX(k) (int)gr[qs[k] | (((h >> (k)) & 1) << 8)]
            __m256i g = _mm256_set_epi32(IDX(7), IDX(6), IDX(5), IDX(4), IDX(3), IDX(2), IDX(1), IDX(0));
#undef IDX
            __m256i p = _mm256_maddubs_epi16(g, neg_where(ld(y[i].qs + 32 * ib), rf_bits32(rf__rd32(signs))));
            int ls = 2 * ((x[i].scales[ib / 2] >> (4 * (ib % 2))) & 0xF) + 1;
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, _mm256_set1_epi16((short)ls)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = rf_hsum_ps256(acc);
}

/* IQ1_S: grid values -1, 0, +1 (signed bytes); the shift by +-delta per group
 * of 32 comes from the activations' block sums. */
static void dot_iq1_s(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq1_s *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *qs = x[i].qs;
        __m256i sumi = _mm256_setzero_si256();
        int sumd = 0;
        for (int ib = 0; ib < 8; ib++, qs += 4) {
            unsigned qh = x[i].qh[ib];
            __m256i g = grid4x64(rf__iq1s_grid, qs[0] | ((qh << 8) & 0x700), qs[1] | ((qh << 5) & 0x700),
                                 qs[2] | ((qh << 2) & 0x700), qs[3] | ((qh >> 1) & 0x700));
            __m256i q8 = ld(y[i].qs + 32 * ib);
            __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(g, g), _mm256_sign_epi8(q8, g));
            int ls = 2 * ((qh >> 12) & 7) + 1;
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, _mm256_set1_epi16((short)ls)));
            int delta = qh & 0x8000 ? -1 : 1;
            sumd += ls * delta * (y[i].bsums[2 * ib] + y[i].bsums[2 * ib + 1]);
        }
        sum += rf_f16(x[i].d) * y[i].d * ((float)rf_hsum_epi32_256(sumi) + RF_IQ1S_DELTA * (float)sumd);
    }
    *s = sum;
}

static void dot_iq1_m(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq1_m *x = w;
    const rf_blk_q8_k *y = a;
    const __m256i one = _mm256_set1_epi8(1);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *qs = x[i].qs, *qh = x[i].qh;
        uint16_t sc[4];
        memcpy(sc, x[i].scales, 8);
        uint16_t d16 = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000));
        __m256i s1 = _mm256_setzero_si256(), s2 = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++, qs += 4, qh += 2) {
            unsigned h0 = qh[0], h1 = qh[1];
            __m256i g = grid4x64(rf__iq1s_grid, qs[0] | ((h0 << 8) & 0x700), qs[1] | ((h0 << 4) & 0x700),
                                 qs[2] | ((h1 << 8) & 0x700), qs[3] | ((h1 << 4) & 0x700));
            /* +-1 per group of 8: the sign of that group's delta */
            __m256i dv = _mm256_set_epi64x(h1 & 0x80 ? -1ll : 0, h1 & 0x08 ? -1ll : 0, h0 & 0x80 ? -1ll : 0,
                                           h0 & 0x08 ? -1ll : 0);
            int ls1 = 2 * ((sc[ib / 2] >> (6 * (ib % 2))) & 7) + 1;
            int ls2 = 2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 7) + 1;
            __m256i scl = scale2x16(ls1, ls2);
            __m256i q8 = ld(y[i].qs + 32 * ib);
            __m256i p1 = _mm256_maddubs_epi16(_mm256_sign_epi8(g, g), _mm256_sign_epi8(q8, g));
            __m256i p2 = _mm256_maddubs_epi16(one, neg_where(q8, dv));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(p1, scl));
            s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(p2, scl));
        }
        sum += rf_f16(d16) * y[i].d *
               ((float)rf_hsum_epi32_256(s1) + RF_IQ1M_DELTA * (float)rf_hsum_epi32_256(s2));
    }
    *s = sum;
}

/* TQ2_0: 2-bit codes c (value c - 1); sum (c - 1) q = sum c q - sum q. */
static void dot_tq2_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_tq2_0 *x = w;
    const rf_blk_q8_k *y = a;
    const __m256i m3 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 2; j++) {
            __m256i q = ld(x[i].qs + 32 * j);
            for (int l = 0; l < 4; l++) {
                __m256i c = _mm256_and_si256(_mm256_srli_epi16(q, 2 * l), m3);
                sumi = _mm256_add_epi32(sumi, rf_dot_u8s8(c, ld(y[i].qs + 128 * j + 32 * l)));
            }
        }
        int bs = 0;
        for (int j = 0; j < 16; j++) bs += y[i].bsums[j];
        sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(bs, 0, 0, 0, 0, 0, 0, 0));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = rf_hsum_ps256(acc);
}

/* NVFP4: two 16-value sub-blocks per Q8_0 block, each with its own scale. */
static void dot_nvfp4(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_nvfp4 *x = w;
    const rf_blk_q8_0 *y = a;
    const __m128i lut = _mm_loadu_si128((const __m128i *)rf__kvalues_mxfp4);
    const __m128i m4 = _mm_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t ib = 0; ib < n / 64; ib++) {
        for (int h = 0; h < 2; h++) {
            const rf_blk_q8_0 *yb = &y[2 * ib + h];
            /* 16 bytes = 2 sub-blocks of 8: [lo(0..7) hi(0..7)] [lo(8..15) hi(8..15)] */
            __m128i b = _mm_loadu_si128((const __m128i *)(x[ib].qs + 16 * h));
            __m128i lo = _mm_and_si128(b, m4), hi = _mm_and_si128(_mm_srli_epi16(b, 4), m4);
            __m128i v0 = _mm_unpacklo_epi64(lo, hi), v1 = _mm_unpackhi_epi64(lo, hi);
            __m256i q = _mm256_set_m128i(_mm_shuffle_epi8(lut, v1), _mm_shuffle_epi8(lut, v0));
            __m256i p = rf_dot_s8s8(q, ld(yb->qs));
            float dy = rf_f16(yb->d);
            __m256 sc = _mm256_set_m128(_mm_set1_ps(dy * rf__ue4m3_half_table[x[ib].d[2 * h + 1]]),
                                        _mm_set1_ps(dy * rf__ue4m3_half_table[x[ib].d[2 * h]]));
            acc = _mm256_fmadd_ps(sc, _mm256_cvtepi32_ps(p), acc);
        }
    }
    *s = rf_hsum_ps256(acc);
}

/* Q1_0: bit set = +q, clear = -q, over four Q8_0 blocks per weight block. */
static void dot_q1_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q1_0 *x = w;
    const rf_blk_q8_0 *y = a;
    const __m256i ones = _mm256_set1_epi8(1);
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / 128; ib++) {
        __m256 acc = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            const rf_blk_q8_0 *yb = &y[4 * ib + k];
            __m256i clear = _mm256_xor_si256(rf_bits32(rf__rd32(x[ib].qs + 4 * k)), _mm256_set1_epi8(-1));
            __m256i p = rf_dot_u8s8(ones, neg_where(ld(yb->qs), clear));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(yb->d)), _mm256_cvtepi32_ps(p), acc);
        }
        sum += rf_f16(x[ib].d) * rf_hsum_ps256(acc);
    }
    *s = sum;
}

void rf__dot_fill_avx2_iquant(rf_dot_table *t) {
    t->dot[RF_TYPE_IQ2_XXS] = dot_iq2_xxs;
    t->dot[RF_TYPE_IQ2_XS] = dot_iq2_xs;
    t->dot[RF_TYPE_IQ2_S] = dot_iq2_s;
    t->dot[RF_TYPE_IQ3_XXS] = dot_iq3_xxs;
    t->dot[RF_TYPE_IQ3_S] = dot_iq3_s;
    t->dot[RF_TYPE_IQ1_S] = dot_iq1_s;
    t->dot[RF_TYPE_IQ1_M] = dot_iq1_m;
    t->dot[RF_TYPE_TQ2_0] = dot_tq2_0;
    t->dot[RF_TYPE_NVFP4] = dot_nvfp4;
    t->dot[RF_TYPE_Q1_0] = dot_q1_0;
}
