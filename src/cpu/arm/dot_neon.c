/*
 * dot_neon.c - AArch64 Advanced SIMD dot products: F32, F16, Q4_0, Q4_1,
 * Q5_0, Q5_1, Q8_0, IQ4_NL, Q4_K, Q5_K, Q6_K.
 *
 * Built with the dot-product extension (-march=armv8.2-a+dotprod, as
 * scripts/check-arm.sh does) the byte products use SDOT; without it they
 * fall back to widening multiplies with the same results.
 */
#include <arm_neon.h>

#include "core/core.h"
#include "cpu/dot_impl.h"

/* acc + per-lane sums of products of 4 adjacent signed bytes (SDOT); the
 * fallback groups the products differently, so callers only use totals of
 * whole vectors. */
static inline int32x4_t vdot(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    int16x8_t p0 = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    int16x8_t p1 = vmull_high_s8(a, b);
    return vaddq_s32(acc, vaddq_s32(vpaddlq_s16(p0), vpaddlq_s16(p1)));
#endif
}

/* ---- float types ------------------------------------------------------------ */

static void dot_f32(int64_t n, float *s, const void *w, const void *a) {
    const float *x = w, *y = a;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = vfmaq_f32(a0, vld1q_f32(x + i), vld1q_f32(y + i));
        a1 = vfmaq_f32(a1, vld1q_f32(x + i + 4), vld1q_f32(y + i + 4));
        a2 = vfmaq_f32(a2, vld1q_f32(x + i + 8), vld1q_f32(y + i + 8));
        a3 = vfmaq_f32(a3, vld1q_f32(x + i + 12), vld1q_f32(y + i + 12));
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; i < n; i++) sum += x[i] * y[i];
    *s = sum;
}

static void dot_f16(int64_t n, float *s, const void *w, const void *a) {
    const uint16_t *x = w, *y = a;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float16x8_t x0 = vreinterpretq_f16_u16(vld1q_u16(x + i)), y0 = vreinterpretq_f16_u16(vld1q_u16(y + i));
        float16x8_t x1 = vreinterpretq_f16_u16(vld1q_u16(x + i + 8)), y1 = vreinterpretq_f16_u16(vld1q_u16(y + i + 8));
        a0 = vfmaq_f32(a0, vcvt_f32_f16(vget_low_f16(x0)), vcvt_f32_f16(vget_low_f16(y0)));
        a1 = vfmaq_f32(a1, vcvt_high_f32_f16(x0), vcvt_high_f32_f16(y0));
        a2 = vfmaq_f32(a2, vcvt_f32_f16(vget_low_f16(x1)), vcvt_f32_f16(vget_low_f16(y1)));
        a3 = vfmaq_f32(a3, vcvt_high_f32_f16(x1), vcvt_high_f32_f16(y1));
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; i < n; i++) sum += rf__h2f(x[i]) * rf__h2f(y[i]);
    *s = sum;
}

/* ---- 32-value blocks ---------------------------------------------------------- */

static void dot_q8_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q8_0 *x = w;
    const rf_blk_q8_0 *y = a;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t ib = 0; ib < n / 32; ib++) {
        int32x4_t p = vdot(vdupq_n_s32(0), vld1q_s8(x[ib].qs), vld1q_s8(y[ib].qs));
        p = vdot(p, vld1q_s8(x[ib].qs + 16), vld1q_s8(y[ib].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), rf__h2f(x[ib].d) * rf__h2f(y[ib].d));
    }
    *s = vaddvq_f32(acc);
}

/* 16 nibble-pair bytes -> values 0..15 (low nibbles) and 16..31 (high). */
static inline void nibbles(const uint8_t *q, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t v = vld1q_u8(q);
    *lo = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F)));
    *hi = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
}

static void dot_q4_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_0 *x = w;
    const rf_blk_q8_0 *y = a;
    const int8x16_t off = vdupq_n_s8(8);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t ib = 0; ib < n / 32; ib++) {
        int8x16_t lo, hi;
        nibbles(x[ib].qs, &lo, &hi);
        int32x4_t p = vdot(vdupq_n_s32(0), vsubq_s8(lo, off), vld1q_s8(y[ib].qs));
        p = vdot(p, vsubq_s8(hi, off), vld1q_s8(y[ib].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), rf__h2f(x[ib].d) * rf__h2f(y[ib].d));
    }
    *s = vaddvq_f32(acc);
}

static void dot_q4_1(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_1 *x = w;
    const rf_blk_q8_1 *y = a;
    float32x4_t acc = vdupq_n_f32(0.0f);
    float summs = 0.0f;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        int8x16_t lo, hi;
        nibbles(x[ib].qs, &lo, &hi);
        int32x4_t p = vdot(vdupq_n_s32(0), lo, vld1q_s8(y[ib].qs));
        p = vdot(p, hi, vld1q_s8(y[ib].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), rf__h2f(x[ib].d) * rf__h2f(y[ib].d));
        summs += rf__h2f(x[ib].m) * rf__h2f(y[ib].s);
    }
    *s = vaddvq_f32(acc) + summs;
}

/* The fifth bits of Q5 blocks: 32 bits -> two vectors of 0x10 / 0 bytes. */
static inline void high_bits(const uint8_t *qh, uint8x16_t *h0, uint8x16_t *h1) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint32_t b = rf__rd32(qh);
    const uint8x16_t m = vld1q_u8(bit);
    uint8x16_t v0 = vcombine_u8(vdup_n_u8((uint8_t)b), vdup_n_u8((uint8_t)(b >> 8)));
    uint8x16_t v1 = vcombine_u8(vdup_n_u8((uint8_t)(b >> 16)), vdup_n_u8((uint8_t)(b >> 24)));
    *h0 = vandq_u8(vtstq_u8(v0, m), vdupq_n_u8(0x10));
    *h1 = vandq_u8(vtstq_u8(v1, m), vdupq_n_u8(0x10));
}

static void dot_q5_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_0 *x = w;
    const rf_blk_q8_0 *y = a;
    const int8x16_t off = vdupq_n_s8(16);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t ib = 0; ib < n / 32; ib++) {
        int8x16_t lo, hi;
        uint8x16_t h0, h1;
        nibbles(x[ib].qs, &lo, &hi);
        high_bits(x[ib].qh, &h0, &h1);
        lo = vsubq_s8(vorrq_s8(lo, vreinterpretq_s8_u8(h0)), off);
        hi = vsubq_s8(vorrq_s8(hi, vreinterpretq_s8_u8(h1)), off);
        int32x4_t p = vdot(vdot(vdupq_n_s32(0), lo, vld1q_s8(y[ib].qs)), hi, vld1q_s8(y[ib].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), rf__h2f(x[ib].d) * rf__h2f(y[ib].d));
    }
    *s = vaddvq_f32(acc);
}

static void dot_q5_1(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_1 *x = w;
    const rf_blk_q8_1 *y = a;
    float32x4_t acc = vdupq_n_f32(0.0f);
    float summs = 0.0f;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        int8x16_t lo, hi;
        uint8x16_t h0, h1;
        nibbles(x[ib].qs, &lo, &hi);
        high_bits(x[ib].qh, &h0, &h1);
        lo = vorrq_s8(lo, vreinterpretq_s8_u8(h0));
        hi = vorrq_s8(hi, vreinterpretq_s8_u8(h1));
        int32x4_t p = vdot(vdot(vdupq_n_s32(0), lo, vld1q_s8(y[ib].qs)), hi, vld1q_s8(y[ib].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), rf__h2f(x[ib].d) * rf__h2f(y[ib].d));
        summs += rf__h2f(x[ib].m) * rf__h2f(y[ib].s);
    }
    *s = vaddvq_f32(acc) + summs;
}

static void dot_iq4_nl(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq4_nl *x = w;
    const rf_blk_q8_0 *y = a;
    const int8x16_t lut = vld1q_s8(rf__kvalues_iq4nl);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t ib = 0; ib < n / 32; ib++) {
        int8x16_t lo, hi;
        nibbles(x[ib].qs, &lo, &hi);
        lo = vqtbl1q_s8(lut, vreinterpretq_u8_s8(lo));
        hi = vqtbl1q_s8(lut, vreinterpretq_u8_s8(hi));
        int32x4_t p = vdot(vdot(vdupq_n_s32(0), lo, vld1q_s8(y[ib].qs)), hi, vld1q_s8(y[ib].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), rf__h2f(x[ib].d) * rf__h2f(y[ib].d));
    }
    *s = vaddvq_f32(acc);
}

/* ---- K-quants ------------------------------------------------------------------- */

static inline int k4_minsum(const uint8_t mn[8], const int16_t *bsums) {
    int sum = 0;
    for (int j = 0; j < 8; j++) sum += mn[j] * (bsums[2 * j] + bsums[2 * j + 1]);
    return sum;
}

static void dot_q4_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_k *x = w;
    const rf_blk_q8_k *y = a;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        uint8_t sc[8], mn[8];
        rf__k4_scales(x[i].scales, sc, mn);
        const int8_t *q8 = y[i].qs;
        int32x4_t acc = vdupq_n_s32(0);
        for (int j = 0; j < 4; j++) {
            uint8x16_t q0 = vld1q_u8(x[i].qs + 32 * j), q1 = vld1q_u8(x[i].qs + 32 * j + 16);
            int32x4_t pl = vdot(vdupq_n_s32(0), vreinterpretq_s8_u8(vandq_u8(q0, m4)), vld1q_s8(q8 + 64 * j));
            pl = vdot(pl, vreinterpretq_s8_u8(vandq_u8(q1, m4)), vld1q_s8(q8 + 64 * j + 16));
            int32x4_t ph = vdot(vdupq_n_s32(0), vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), vld1q_s8(q8 + 64 * j + 32));
            ph = vdot(ph, vreinterpretq_s8_u8(vshrq_n_u8(q1, 4)), vld1q_s8(q8 + 64 * j + 48));
            acc = vmlaq_n_s32(acc, pl, sc[2 * j]);
            acc = vmlaq_n_s32(acc, ph, sc[2 * j + 1]);
        }
        float yd = y[i].d;
        sum += rf__h2f(x[i].d) * yd * (float)vaddvq_s32(acc) - rf__h2f(x[i].dmin) * yd * (float)k4_minsum(mn, y[i].bsums);
    }
    *s = sum;
}

static void dot_q5_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_k *x = w;
    const rf_blk_q8_k *y = a;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), b1 = vdupq_n_u8(1);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        uint8_t sc[8], mn[8];
        rf__k4_scales(x[i].scales, sc, mn);
        const int8_t *q8 = y[i].qs;
        uint8x16_t h0 = vld1q_u8(x[i].qh), h1 = vld1q_u8(x[i].qh + 16);
        int32x4_t acc = vdupq_n_s32(0);
        for (int j = 0; j < 4; j++) {
            uint8x16_t q0 = vld1q_u8(x[i].qs + 32 * j), q1 = vld1q_u8(x[i].qs + 32 * j + 16);
            /* fifth bits: bit 2j (low nibbles) and 2j+1 (high nibbles) of qh */
            uint8x16_t l0 = vorrq_u8(vandq_u8(q0, m4), vshlq_n_u8(vandq_u8(h0, b1), 4));
            uint8x16_t l1 = vorrq_u8(vandq_u8(q1, m4), vshlq_n_u8(vandq_u8(h1, b1), 4));
            uint8x16_t u0 = vorrq_u8(vshrq_n_u8(q0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 1), b1), 4));
            uint8x16_t u1 = vorrq_u8(vshrq_n_u8(q1, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 1), b1), 4));
            h0 = vshrq_n_u8(h0, 2);
            h1 = vshrq_n_u8(h1, 2);
            int32x4_t pl = vdot(vdot(vdupq_n_s32(0), vreinterpretq_s8_u8(l0), vld1q_s8(q8 + 64 * j)),
                                vreinterpretq_s8_u8(l1), vld1q_s8(q8 + 64 * j + 16));
            int32x4_t ph = vdot(vdot(vdupq_n_s32(0), vreinterpretq_s8_u8(u0), vld1q_s8(q8 + 64 * j + 32)),
                                vreinterpretq_s8_u8(u1), vld1q_s8(q8 + 64 * j + 48));
            acc = vmlaq_n_s32(acc, pl, sc[2 * j]);
            acc = vmlaq_n_s32(acc, ph, sc[2 * j + 1]);
        }
        float yd = y[i].d;
        sum += rf__h2f(x[i].d) * yd * (float)vaddvq_s32(acc) - rf__h2f(x[i].dmin) * yd * (float)k4_minsum(mn, y[i].bsums);
    }
    *s = sum;
}

static void dot_q6_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q6_k *x = w;
    const rf_blk_q8_k *y = a;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(0x03), m30 = vdupq_n_u8(0x30);
    const int8x16_t off = vdupq_n_s8(32);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *sc = x[i].scales;
        int32x4_t acc = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x[i].ql + 64 * h, *qh = x[i].qh + 32 * h;
            const int8_t *q8 = y[i].qs + 128 * h;
            for (int k = 0; k < 2; k++) { /* the two 16-value halves of each 32 */
                uint8x16_t la = vld1q_u8(ql + 16 * k), lb = vld1q_u8(ql + 32 + 16 * k), hb = vld1q_u8(qh + 16 * k);
                int8x16_t v[4];
                v[0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(la, m4), vshlq_n_u8(vandq_u8(hb, m3), 4)));
                v[1] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(lb, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4)));
                v[2] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(la, 4), vandq_u8(hb, m30)));
                v[3] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(lb, 4), vandq_u8(vshrq_n_u8(hb, 2), m30)));
                for (int g = 0; g < 4; g++) {
                    int32x4_t p = vdot(vdupq_n_s32(0), vsubq_s8(v[g], off), vld1q_s8(q8 + 32 * g + 16 * k));
                    acc = vmlaq_n_s32(acc, p, sc[8 * h + 2 * g + k]);
                }
            }
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)vaddvq_s32(acc);
    }
    *s = sum;
}

void rf__dot_fill_neon(rf_dot_table *t) {
    t->dot[RF_TYPE_F32] = dot_f32;
    t->dot[RF_TYPE_F16] = dot_f16;
    t->dot[RF_TYPE_Q4_0] = dot_q4_0;
    t->dot[RF_TYPE_Q4_1] = dot_q4_1;
    t->dot[RF_TYPE_Q5_0] = dot_q5_0;
    t->dot[RF_TYPE_Q5_1] = dot_q5_1;
    t->dot[RF_TYPE_Q8_0] = dot_q8_0;
    t->dot[RF_TYPE_IQ4_NL] = dot_iq4_nl;
    t->dot[RF_TYPE_Q4_K] = dot_q4_k;
    t->dot[RF_TYPE_Q5_K] = dot_q5_k;
    t->dot[RF_TYPE_Q6_K] = dot_q6_k;
}
