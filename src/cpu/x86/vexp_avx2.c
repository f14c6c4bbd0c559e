/* vexp_avx2.c - the block exp of vexp.h with AVX2 + FMA, two 8-lane halves.
 * AVX2 has no scalef: 2^n is applied in two exact steps (2^n1 with |n1| <=
 * 100 keeps the intermediate normal and exact, then 2^n2), so the single
 * rounding happens where vscalefps rounds. */
#include <immintrin.h>
#include <math.h>

#include "cpu/vexp.h"

static inline __m256 pow2i(__m256 n) { /* 2^n for integral n in [-126, 127] */
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}

static inline __m256 vexp8(__m256 x) {
    const __m256 shift = _mm256_set1_ps(0x1.8p23f);
    __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shift);
    __m256 n = _mm256_sub_ps(z, shift);
    __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    __m256 u = _mm256_mul_ps(b, b);
    __m256 p = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 big = _mm256_cmp_ps(_mm256_andnot_ps(sign, n), _mm256_set1_ps(192.0f), _CMP_GT_OQ);
    __m256 nc = _mm256_blendv_ps(n, _mm256_setzero_ps(), big); /* keep pow2i in range */
    __m256 n1 = _mm256_min_ps(_mm256_max_ps(nc, _mm256_set1_ps(-100.0f)), _mm256_set1_ps(100.0f));
    __m256 n2 = _mm256_sub_ps(nc, n1);
    __m256 r = _mm256_mul_ps(_mm256_mul_ps(p, pow2i(n1)), pow2i(n2));
    __m256 alt = _mm256_blendv_ps(_mm256_set1_ps(INFINITY), _mm256_setzero_ps(),
                                  _mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ));
    return _mm256_blendv_ps(r, alt, big);
}

static void vexp16(const float *x, float *y) {
    _mm256_storeu_ps(y, vexp8(_mm256_loadu_ps(x)));
    _mm256_storeu_ps(y + 8, vexp8(_mm256_loadu_ps(x + 8)));
}

rf_vexp16_fn rf__vexp16_avx2_impl(void);
rf_vexp16_fn rf__vexp16_avx2_impl(void) { return vexp16; }
