/*
 * dot_kquant_avx2.c - AVX2 dot products of the K-quants (Q2_K .. Q6_K) and
 * IQ4_XS against Q8_K, and the Q8_K activation quantizer.
 *
 * Weights are widened to unsigned bytes (a signed type's offset folded into
 * a correction from the activations' block sums), multiplied with maddubs
 * (every pair sum fits int16), then scaled per 16 or 32 values with madd.
 */
#include <math.h>

#include "core/core.h"
#include "cpu/dot_impl.h"
#include "cpu/x86/simd_x86.h"

#define RND (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) /* ties to even */

/* Shuffle masks: in an 8 x int16 vector broadcast to both 128-bit lanes,
 * kPair[k] fills the low lane with element 2k and the high lane with
 * element 2k+1; kOne[k] fills both with element k. */
static const uint8_t kPair[4][32] = {
#define P(a, b) {a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, \
                 b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1}
    P(0, 2), P(4, 6), P(8, 10), P(12, 14),
#undef P
};
static const uint8_t kOne[8][32] = {
#define O(a) {a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, \
              a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1}
    O(0), O(2), O(4), O(6), O(8), O(10), O(12), O(14),
#undef O
};

static inline __m256i pair(__m256i s16, int k) {
    return _mm256_shuffle_epi8(s16, _mm256_loadu_si256((const __m256i *)kPair[k]));
}
static inline __m256i one(__m256i s16, int k) {
    return _mm256_shuffle_epi8(s16, _mm256_loadu_si256((const __m256i *)kOne[k]));
}
/* 8 bytes (unsigned or signed) -> 8 x int16 in both lanes. */
static inline __m256i bcast_u8x8(const uint8_t *p) {
    return _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)p)));
}
static inline __m256i bcast_s8x8(const int8_t *p) {
    return _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)p)));
}
static inline __m256i ld(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* ---- Q8_K activations ------------------------------------------------------------ */

static void act_q8_k(const float *x, void *dst, int64_t n) {
    rf_blk_q8_k *y = dst;
    for (int64_t ib = 0; ib < n / 256; ib++, x += 256) {
        __m256 vmax = _mm256_loadu_ps(x), vmin = vmax;
        for (int j = 8; j < 256; j += 8) {
            __m256 v = _mm256_loadu_ps(x + j);
            vmax = _mm256_max_ps(vmax, v);
            vmin = _mm256_min_ps(vmin, v);
        }
        float mx[8], mn[8], hi = -INFINITY, lo = INFINITY;
        _mm256_storeu_ps(mx, vmax);
        _mm256_storeu_ps(mn, vmin);
        for (int j = 0; j < 8; j++) { hi = mx[j] > hi ? mx[j] : hi; lo = mn[j] < lo ? mn[j] : lo; }
        float max = -lo > hi ? lo : hi;
        if (max == 0.0f) {
            memset(&y[ib], 0, sizeof(y[ib]));
            continue;
        }
        float iscale = -127.0f / max;
        const __m256 vs = _mm256_set1_ps(iscale);
        const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        for (int j = 0; j < 256; j += 32) {
            __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j), vs), RND));
            __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8), vs), RND));
            __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j + 16), vs), RND));
            __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j + 24), vs), RND));
            __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
            p = _mm256_min_epi8(_mm256_permutevar8x32_epi32(p, perm), _mm256_set1_epi8(127));
            _mm256_storeu_si256((__m256i *)(y[ib].qs + j), p);
            /* block sums of 16: sum of (q + 128) over 8 bytes via sad, minus 8 * 128 */
            __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(p, _mm256_set1_epi8((char)0x80)), _mm256_setzero_si256());
            int64_t l[4];
            _mm256_storeu_si256((__m256i *)l, sad);
            y[ib].bsums[j / 16] = (int16_t)(l[0] + l[1] - 2048);
            y[ib].bsums[j / 16 + 1] = (int16_t)(l[2] + l[3] - 2048);
        }
        y[ib].d = 1.0f / iscale;
    }
}

/* ---- K-quants --------------------------------------------------------------------- */

static void dot_q2_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q2_k *x = w;
    const rf_blk_q8_k *y = a;
    const __m256i m3 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        __m128i sc = _mm_loadu_si128((const __m128i *)x[i].scales);
        __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc, 4), _mm_set1_epi8(0x0F)));
        __m256i msum = _mm256_madd_epi16(mins, ld(y[i].bsums));
        uint8_t lsc[16];
        _mm_storeu_si128((__m128i *)lsc, _mm_and_si128(sc, _mm_set1_epi8(0x0F)));
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i s16 = bcast_u8x8(lsc + 8 * h);
            __m256i q2 = ld(x[i].qs + 32 * h);
            for (int sh = 0; sh < 4; sh++) {
                __m256i v = _mm256_and_si256(_mm256_srli_epi16(q2, 2 * sh), m3);
                __m256i p = _mm256_maddubs_epi16(v, ld(q8 + 128 * h + 32 * sh));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, pair(s16, sh)));
            }
        }
        float yd = y[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * yd), _mm256_cvtepi32_ps(sumi), acc);
        accm = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].dmin) * yd), _mm256_cvtepi32_ps(msum), accm);
    }
    *s = rf_hsum_ps256(_mm256_sub_ps(acc, accm));
}

static void dot_q3_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q3_k *x = w;
    const rf_blk_q8_k *y = a;
    const __m256i m3 = _mm256_set1_epi8(3), m1 = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        __m128i sc = rf_k3_scales_x86(x[i].scales);
        /* weights stored as value + 4 in 0..7: subtract 4 * sum(scale * bsum) */
        __m256i corr = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc), ld(y[i].bsums));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 2));
        __m256i hm = ld(x[i].hmask);
        for (int h = 0; h < 2; h++) {
            __m256i s16 = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(h ? _mm_srli_si128(sc, 8) : sc));
            __m256i q3 = ld(x[i].qs + 32 * h);
            for (int sh = 0; sh < 4; sh++) {
                __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + sh), m1);
                __m256i v = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q3, 2 * sh), m3), _mm256_slli_epi16(hb, 2));
                __m256i p = _mm256_maddubs_epi16(v, ld(q8 + 128 * h + 32 * sh));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, pair(s16, sh)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = rf_hsum_ps256(acc);
}

static void dot_q4_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_k *x = w;
    const rf_blk_q8_k *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        __m128i sc8, mn8;
        rf_k4_scales_x86(x[i].scales, &sc8, &mn8);
        float yd = y[i].d;
        accm = _mm_fmadd_ps(_mm_set1_ps(rf_f16(x[i].dmin) * yd), _mm_cvtepi32_ps(rf_k4_minsum_x86(mn8, y[i].bsums)), accm);
        __m256i s16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sc8));
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) {
            __m256i q4 = ld(x[i].qs + 32 * j);
            __m256i pl = _mm256_maddubs_epi16(_mm256_and_si256(q4, m4), ld(q8 + 64 * j));
            __m256i ph = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4), ld(q8 + 64 * j + 32));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(pl, one(s16, 2 * j)));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(ph, one(s16, 2 * j + 1)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * yd), _mm256_cvtepi32_ps(sumi), acc);
    }
    __m128 m = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    *s = rf_hsum_ps256(acc) - _mm_cvtss_f32(m);
}

static void dot_q5_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_k *x = w;
    const rf_blk_q8_k *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m1 = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        __m128i sc8, mn8;
        rf_k4_scales_x86(x[i].scales, &sc8, &mn8);
        float yd = y[i].d;
        accm = _mm_fmadd_ps(_mm_set1_ps(rf_f16(x[i].dmin) * yd), _mm_cvtepi32_ps(rf_k4_minsum_x86(mn8, y[i].bsums)), accm);
        __m256i s16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sc8));
        __m256i hb = ld(x[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) {
            __m256i q4 = ld(x[i].qs + 32 * j);
            __m256i hl = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j), m1), 4);
            __m256i hh = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j + 1), m1), 4);
            __m256i vl = _mm256_or_si256(_mm256_and_si256(q4, m4), hl);
            __m256i vh = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4), hh);
            __m256i pl = _mm256_maddubs_epi16(vl, ld(q8 + 64 * j));
            __m256i ph = _mm256_maddubs_epi16(vh, ld(q8 + 64 * j + 32));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(pl, one(s16, 2 * j)));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(ph, one(s16, 2 * j + 1)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * yd), _mm256_cvtepi32_ps(sumi), acc);
    }
    __m128 m = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    *s = rf_hsum_ps256(acc) - _mm_cvtss_f32(m);
}

static void dot_q6_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q6_k *x = w;
    const rf_blk_q8_k *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    const __m256i m2b = _mm256_set1_epi8(0x0C), m2c = _mm256_set1_epi8(0x30), m2d = _mm256_set1_epi8((char)0xC0);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        /* weights stored as value + 32: subtract 32 * sum(scale * bsum) */
        __m256i corr = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales)), ld(y[i].bsums));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5));
        for (int h = 0; h < 2; h++) {
            __m256i s16 = bcast_s8x8(x[i].scales + 8 * h);
            __m256i ql0 = ld(x[i].ql + 64 * h), ql1 = ld(x[i].ql + 64 * h + 32), qh = ld(x[i].qh + 32 * h);
            __m256i v0 = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            __m256i v1 = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2b), 2));
            __m256i v2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m2c));
            __m256i v3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                         _mm256_srli_epi16(_mm256_and_si256(qh, m2d), 2));
            const int8_t *q = q8 + 128 * h;
            __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(v0, ld(q)), pair(s16, 0));
            __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(v1, ld(q + 32)), pair(s16, 1));
            __m256i p2 = _mm256_madd_epi16(_mm256_maddubs_epi16(v2, ld(q + 64)), pair(s16, 2));
            __m256i p3 = _mm256_madd_epi16(_mm256_maddubs_epi16(v3, ld(q + 96)), pair(s16, 3));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(_mm256_add_epi32(p0, p1), _mm256_add_epi32(p2, p3)));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = rf_hsum_ps256(acc);
}

static void dot_iq4_xs(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq4_xs *x = w;
    const rf_blk_q8_k *y = a;
    const __m256i lut = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)rf__kvalues_iq4nl));
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((x[i].scales_h >> (2 * ib)) & 3) << 4);
            __m256i q = _mm256_shuffle_epi8(lut, rf_nibbles32(x[i].qs + 16 * ib));
            __m256i yq = ld(q8 + 32 * ib);
            __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(yq, q));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, _mm256_set1_epi16((short)(ls - 32))));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(rf_f16(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = rf_hsum_ps256(acc);
}

/* ---- several activation rows per weight row (prefill) -----------------------------
 * The weights of a super-block are decoded once and dotted with up to 4
 * activation rows; NA is a compile-time constant in each copy. */

#define MULTI_MAX 4

__attribute__((always_inline)) static inline void q4k_multi(int64_t n, float *s, const void *w,
                                                             const void *const *a, const int na) {
    const rf_blk_q4_k *x = w;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[MULTI_MAX];
    __m128 accm[MULTI_MAX];
    for (int r = 0; r < na; r++) { acc[r] = _mm256_setzero_ps(); accm[r] = _mm_setzero_ps(); }
    for (int64_t i = 0; i < n / 256; i++) {
        __m128i sc8, mn8;
        rf_k4_scales_x86(x[i].scales, &sc8, &mn8);
        __m256i s16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sc8));
        float d = rf_f16(x[i].d), dmin = rf_f16(x[i].dmin);
        for (int h = 0; h < 2; h++) { /* two halves keep the decoded weights in registers */
            __m256i u[4], sc[4];
            for (int j = 0; j < 2; j++) {
                __m256i q4 = ld(x[i].qs + 64 * h + 32 * j);
                u[2 * j] = _mm256_and_si256(q4, m4);
                u[2 * j + 1] = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
                sc[2 * j] = one(s16, 4 * h + 2 * j);
                sc[2 * j + 1] = one(s16, 4 * h + 2 * j + 1);
            }
            for (int r = 0; r < na; r++) {
                const rf_blk_q8_k *y = (const rf_blk_q8_k *)a[r] + i;
                const int8_t *q8 = y->qs + 128 * h;
                __m256i sumi = _mm256_madd_epi16(_mm256_maddubs_epi16(u[0], ld(q8)), sc[0]);
                for (int k = 1; k < 4; k++)
                    sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(u[k], ld(q8 + 32 * k)), sc[k]));
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * y->d), _mm256_cvtepi32_ps(sumi), acc[r]);
                if (h == 0)
                    accm[r] = _mm_fmadd_ps(_mm_set1_ps(dmin * y->d), _mm_cvtepi32_ps(rf_k4_minsum_x86(mn8, y->bsums)), accm[r]);
            }
        }
    }
    for (int r = 0; r < na; r++) {
        __m128 m = _mm_add_ps(accm[r], _mm_movehl_ps(accm[r], accm[r]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        s[r] = rf_hsum_ps256(acc[r]) - _mm_cvtss_f32(m);
    }
}

__attribute__((always_inline)) static inline void q6k_multi(int64_t n, float *s, const void *w,
                                                             const void *const *a, const int na) {
    const rf_blk_q6_k *x = w;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    const __m256i m2b = _mm256_set1_epi8(0x0C), m2c = _mm256_set1_epi8(0x30), m2d = _mm256_set1_epi8((char)0xC0);
    __m256 acc[MULTI_MAX];
    __m256i corr[MULTI_MAX];
    for (int r = 0; r < na; r++) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 256; i++) {
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
        for (int r = 0; r < na; r++) {
            const rf_blk_q8_k *y = (const rf_blk_q8_k *)a[r] + i;
            corr[r] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(sc16, ld(y->bsums)), 5));
        }
        for (int h = 0; h < 2; h++) {
            __m256i s16 = bcast_s8x8(x[i].scales + 8 * h);
            __m256i ql0 = ld(x[i].ql + 64 * h), ql1 = ld(x[i].ql + 64 * h + 32), qh = ld(x[i].qh + 32 * h);
            __m256i v[4], sc[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            v[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2b), 2));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m2c));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), _mm256_srli_epi16(_mm256_and_si256(qh, m2d), 2));
            for (int k = 0; k < 4; k++) sc[k] = pair(s16, k);
            for (int r = 0; r < na; r++) {
                const int8_t *q8 = ((const rf_blk_q8_k *)a[r] + i)->qs + 128 * h;
                for (int k = 0; k < 4; k++)
                    corr[r] = _mm256_add_epi32(corr[r], _mm256_madd_epi16(_mm256_maddubs_epi16(v[k], ld(q8 + 32 * k)), sc[k]));
            }
        }
        float d = rf_f16(x[i].d);
        for (int r = 0; r < na; r++) {
            const rf_blk_q8_k *y = (const rf_blk_q8_k *)a[r] + i;
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * y->d), _mm256_cvtepi32_ps(corr[r]), acc[r]);
        }
    }
    for (int r = 0; r < na; r++) s[r] = rf_hsum_ps256(acc[r]);
}

#define MULTI_ENTRY(NAME, KERNEL)                                                          \
    static void NAME(int64_t n, float *s, const void *w, const void *const *a, int na) { \
        for (; na >= 4; na -= 4, s += 4, a += 4) KERNEL(n, s, w, a, 4);                   \
        if (na == 3) KERNEL(n, s, w, a, 3);                                                \
        else if (na == 2) KERNEL(n, s, w, a, 2);                                           \
        else if (na == 1) KERNEL(n, s, w, a, 1);                                           \
    }
MULTI_ENTRY(dot_multi_q4_k, q4k_multi)
MULTI_ENTRY(dot_multi_q6_k, q6k_multi)

void rf__dot_fill_avx2_kquant(rf_dot_table *t) {
    t->dot_multi[RF_TYPE_Q4_K] = dot_multi_q4_k;
    t->dot_multi[RF_TYPE_Q6_K] = dot_multi_q6_k;
    t->dot[RF_TYPE_Q2_K] = dot_q2_k;
    t->dot[RF_TYPE_Q3_K] = dot_q3_k;
    t->dot[RF_TYPE_Q4_K] = dot_q4_k;
    t->dot[RF_TYPE_Q5_K] = dot_q5_k;
    t->dot[RF_TYPE_Q6_K] = dot_q6_k;
    t->dot[RF_TYPE_IQ4_XS] = dot_iq4_xs;
    t->quant[RF_TYPE_Q8_K] = act_q8_k;
}
