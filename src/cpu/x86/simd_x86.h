/*
 * simd_x86.h - small AVX2 helpers shared by the x86 kernels. Include only
 * from files compiled with AVX2 enabled (*_avx2.c, *_avx512.c).
 */
#ifndef RF_CPU_SIMD_X86_H
#define RF_CPU_SIMD_X86_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static inline float rf_hsum_ps256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int rf_hsum_epi32_256(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

static inline float rf_f16(uint16_t h) { return _cvtsh_ss(h); }

/* 16 bytes of nibble pairs -> 32 bytes: low nibbles first, then high. */
static inline __m256i rf_nibbles32(const uint8_t *p) {
    __m128i b = _mm_loadu_si128((const __m128i *)p);
    __m256i v = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* 32 bits -> 32 bytes, 0xFF where the bit is set (byte k <- bit k). */
static inline __m256i rf_bits32(uint32_t bits) {
    const __m256i pick = _mm256_set_epi64x(0x0303030303030303ll, 0x0202020202020202ll,
                                           0x0101010101010101ll, 0x0000000000000000ll);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
    /* each byte ORed with all bits but its own: all ones iff its bit is set */
    v = _mm256_or_si256(v, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfell));
    return _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
}

/* Sums of 4 adjacent products of unsigned a and signed b bytes: 8 x int32. */
static inline __m256i rf_dot_u8s8(__m256i a, __m256i b) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
}

/* The same for two signed operands (b must not be -128 where a < 0). */
static inline __m256i rf_dot_s8s8(__m256i a, __m256i b) {
    return rf_dot_u8s8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

/* Q4_1 / Q5_1 blocks (f16 d, m at bytes 0..3) against Q8_1 (f16 d, s): for 4
 * consecutive blocks, [d*dy, m*s] pairs as 8 floats, block k in lanes 2k, 2k+1. */
static inline __m256 rf_dm_ds4(const void *x, size_t xstride, const void *y, size_t ystride) {
    const uint8_t *px = (const uint8_t *)x, *py = (const uint8_t *)y;
    uint32_t a0, a1, a2, a3, b0, b1, b2, b3;
    memcpy(&a0, px, 4); memcpy(&a1, px + xstride, 4); memcpy(&a2, px + 2 * xstride, 4); memcpy(&a3, px + 3 * xstride, 4);
    memcpy(&b0, py, 4); memcpy(&b1, py + ystride, 4); memcpy(&b2, py + 2 * ystride, 4); memcpy(&b3, py + 3 * ystride, 4);
    __m256 fx = _mm256_cvtph_ps(_mm_setr_epi32((int)a0, (int)a1, (int)a2, (int)a3));
    __m256 fy = _mm256_cvtph_ps(_mm_setr_epi32((int)b0, (int)b1, (int)b2, (int)b3));
    return _mm256_mul_ps(fx, fy);
}

/* Q4_K / Q5_K: the 8 scales and 8 mins (6 bits each, packed in 12 bytes) as
 * the low 8 bytes of two vectors, built in registers (no store/reload). */
static inline void rf_k4_scales_x86(const uint8_t *q, __m128i *sc, __m128i *mn) {
    uint32_t u0, u1, u2;
    memcpy(&u0, q, 4);
    memcpy(&u1, q + 4, 4);
    memcpy(&u2, q + 8, 4);
    uint32_t s0 = u0 & 0x3f3f3f3fu, m0 = u1 & 0x3f3f3f3fu;
    uint32_t s1 = (u2 & 0x0f0f0f0fu) | ((u0 >> 6) & 0x03030303u) << 4;
    uint32_t m1 = ((u2 >> 4) & 0x0f0f0f0fu) | ((u1 >> 6) & 0x03030303u) << 4;
    *sc = _mm_set_epi32(0, 0, (int)s1, (int)s0);
    *mn = _mm_set_epi32(0, 0, (int)m1, (int)m0);
}

/* Q3_K: the 16 signed scales (6 bits minus 32) as bytes. */
static inline __m128i rf_k3_scales_x86(const uint8_t *q) {
    uint32_t a0, a1, a2;
    memcpy(&a0, q, 4);
    memcpy(&a1, q + 4, 4);
    memcpy(&a2, q + 8, 4);
    const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    uint32_t o0 = (a0 & m4) | ((a2 & m2) << 4);
    uint32_t o1 = (a1 & m4) | (((a2 >> 2) & m2) << 4);
    uint32_t o2 = ((a0 >> 4) & m4) | (((a2 >> 4) & m2) << 4);
    uint32_t o3 = ((a1 >> 4) & m4) | (((a2 >> 6) & m2) << 4);
    return _mm_sub_epi8(_mm_set_epi32((int)o3, (int)o2, (int)o1, (int)o0), _mm_set1_epi8(32));
}

/* sum over the 8 groups of 32 of min[g] * (bsums[2g] + bsums[2g+1]): 4 x int32 */
static inline __m128i rf_k4_minsum_x86(__m128i mn8, const int16_t *bsums) {
    __m128i b0 = _mm_loadu_si128((const __m128i *)bsums), b1 = _mm_loadu_si128((const __m128i *)(bsums + 8));
    return _mm_madd_epi16(_mm_cvtepu8_epi16(mn8), _mm_hadd_epi16(b0, b1));
}

#endif /* RF_CPU_SIMD_X86_H */
