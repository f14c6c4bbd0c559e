/*
 * dot_kquant.c - scalar dot products of the K-quants (Q2_K .. Q6_K) and the
 * ternary types (TQ1_0, TQ2_0) against Q8_K activations, and the Q8_K
 * activation quantizer.
 *
 * Q8_K scales by -127/max (so every value is in [-127, 127]; SIMD kernels may
 * negate activations freely) and rounds half to even, like ggml.
 */
#include <math.h>

#include "core/core.h"
#include "cpu/dot_impl.h"

static inline int nearest_int(float f) {
    float v = f + 12582912.0f; /* 1.5 * 2^23: rounds to nearest, ties to even */
    int32_t i;
    memcpy(&i, &v, 4);
    return (i & 0x007fffff) - 0x00400000;
}

void rf__quant_q8_k_ref(const float *x, void *dst, int64_t n) {
    rf_blk_q8_k *y = dst;
    for (int64_t ib = 0; ib < n / 256; ib++, x += 256) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 256; j++) {
            float ax = fabsf(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        if (amax == 0.0f) {
            memset(&y[ib], 0, sizeof(y[ib]));
            continue;
        }
        float iscale = -127.0f / max;
        for (int j = 0; j < 256; j++) {
            int v = nearest_int(iscale * x[j]);
            y[ib].qs[j] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += y[ib].qs[16 * j + l];
            y[ib].bsums[j] = (int16_t)sum;
        }
        y[ib].d = 1.0f / iscale;
    }
}

static void dot_q2_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q2_k *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *sc = x[i].scales;
        int msum = 0;
        for (int j = 0; j < 16; j++) msum += y[i].bsums[j] * (sc[j] >> 4);
        int isum = 0;
        for (int half = 0; half < 2; half++) {
            const uint8_t *q2 = x[i].qs + 32 * half;
            for (int sh = 0; sh < 4; sh++) {
                const int8_t *q8 = y[i].qs + 128 * half + 32 * sh;
                for (int part = 0; part < 2; part++) {
                    int d = sc[8 * half + 2 * sh + part] & 0xF, acc = 0;
                    for (int l = 16 * part; l < 16 * part + 16; l++) acc += q8[l] * ((q2[l] >> (2 * sh)) & 3);
                    isum += d * acc;
                }
            }
        }
        sum += y[i].d * rf__h2f(x[i].d) * (float)isum - y[i].d * rf__h2f(x[i].dmin) * (float)msum;
    }
    *s = sum;
}

static void dot_q3_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q3_k *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        int8_t sc[16];
        rf__k3_scales(x[i].scales, sc);
        int isum = 0;
        for (int half = 0; half < 2; half++) {
            const uint8_t *q3 = x[i].qs + 32 * half;
            for (int sh = 0; sh < 4; sh++) {
                const int8_t *q8 = y[i].qs + 128 * half + 32 * sh;
                uint8_t m = (uint8_t)(1u << (4 * half + sh));
                for (int part = 0; part < 2; part++) {
                    int acc = 0;
                    for (int l = 16 * part; l < 16 * part + 16; l++) {
                        int v = ((q3[l] >> (2 * sh)) & 3) - ((x[i].hmask[l] & m) ? 0 : 4);
                        acc += q8[l] * v;
                    }
                    isum += sc[8 * half + 2 * sh + part] * acc;
                }
            }
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)isum;
    }
    *s = sum;
}

static void dot_q4_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_k *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        uint8_t sc[8], mn[8];
        rf__k4_scales(x[i].scales, sc, mn);
        int msum = 0;
        for (int j = 0; j < 16; j++) msum += y[i].bsums[j] * mn[j / 2];
        int isum = 0;
        for (int j = 0; j < 4; j++) {
            const uint8_t *q4 = x[i].qs + 32 * j;
            const int8_t *q8 = y[i].qs + 64 * j;
            int lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) {
                lo += (q4[l] & 0xF) * q8[l];
                hi += (q4[l] >> 4) * q8[l + 32];
            }
            isum += sc[2 * j] * lo + sc[2 * j + 1] * hi;
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)isum - rf__h2f(x[i].dmin) * y[i].d * (float)msum;
    }
    *s = sum;
}

static void dot_q5_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_k *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        uint8_t sc[8], mn[8];
        rf__k4_scales(x[i].scales, sc, mn);
        int msum = 0;
        for (int j = 0; j < 16; j++) msum += y[i].bsums[j] * mn[j / 2];
        int isum = 0;
        for (int j = 0; j < 4; j++) {
            const uint8_t *q4 = x[i].qs + 32 * j;
            const int8_t *q8 = y[i].qs + 64 * j;
            int lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) {
                int vl = (q4[l] & 0xF) | (((x[i].qh[l] >> (2 * j)) & 1) << 4);
                int vh = (q4[l] >> 4) | (((x[i].qh[l] >> (2 * j + 1)) & 1) << 4);
                lo += vl * q8[l];
                hi += vh * q8[l + 32];
            }
            isum += sc[2 * j] * lo + sc[2 * j + 1] * hi;
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)isum - rf__h2f(x[i].dmin) * y[i].d * (float)msum;
    }
    *s = sum;
}

static void dot_q6_k(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q6_k *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        /* decode the 256 six-bit values (minus 32) first, then one integer
         * sum per group of 16 */
        int8_t v[256];
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = x[i].ql + 64 * half, *qh = x[i].qh + 32 * half;
            int8_t *o = v + 128 * half;
            for (int l = 0; l < 32; l++) {
                o[l] = (int8_t)(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                o[l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                o[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                o[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        int isum = 0;
        for (int g = 0; g < 16; g++) {
            int acc = 0;
            for (int l = 0; l < 16; l++) acc += v[16 * g + l] * y[i].qs[16 * g + l];
            isum += x[i].scales[g] * acc;
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)isum;
    }
    *s = sum;
}

/* TQ1_0: 5 ternary digits per byte in qs (base-3 fixed point), 4 per byte
 * in qh; digit l of byte q is ((uint8_t)(q * 3^l) * 3) >> 8. */
static inline int trit(uint8_t q, int l) {
    static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};
    uint8_t v = (uint8_t)(q * pow3[l]);
    return (((uint16_t)v * 3) >> 8) - 1;
}

static void dot_tq1_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_tq1_0 *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        int isum = 0;
        for (int l = 0; l < 5; l++)
            for (int m = 0; m < 32; m++) isum += trit(x[i].qs[m], l) * q8[32 * l + m];
        for (int l = 0; l < 5; l++)
            for (int m = 0; m < 16; m++) isum += trit(x[i].qs[32 + m], l) * q8[160 + 16 * l + m];
        for (int l = 0; l < 4; l++)
            for (int m = 0; m < 4; m++) isum += trit(x[i].qh[m], l) * q8[240 + 4 * l + m];
        sum += (float)isum * (rf__h2f(x[i].d) * y[i].d);
    }
    *s = sum;
}

static void dot_tq2_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_tq2_0 *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        int isum = 0;
        for (int j = 0; j < 64; j += 32)
            for (int l = 0; l < 4; l++)
                for (int k = 0; k < 32; k++)
                    isum += y[i].qs[4 * j + 32 * l + k] * (((x[i].qs[j + k] >> (2 * l)) & 3) - 1);
        sum += (float)isum * (y[i].d * rf__h2f(x[i].d));
    }
    *s = sum;
}

void rf__dot_fill_kquant(rf_dot_table *t) {
    t->dot[RF_TYPE_Q2_K] = dot_q2_k;
    t->dot[RF_TYPE_Q3_K] = dot_q3_k;
    t->dot[RF_TYPE_Q4_K] = dot_q4_k;
    t->dot[RF_TYPE_Q5_K] = dot_q5_k;
    t->dot[RF_TYPE_Q6_K] = dot_q6_k;
    t->dot[RF_TYPE_TQ1_0] = dot_tq1_0;
    t->dot[RF_TYPE_TQ2_0] = dot_tq2_0;
    t->quant[RF_TYPE_Q8_K] = rf__quant_q8_k_ref;
}
