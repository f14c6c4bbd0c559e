/*
 * dot_legacy.c - scalar dot products of the 32-value block types (Q4_0,
 * Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, MXFP4) and of NVFP4 and Q1_0, against Q8_0
 * or Q8_1 activations, plus the Q8_0 / Q8_1 activation quantizers.
 *
 * Integer sums per block, one float multiply-add per block, as in ggml's
 * generic code; these are the references the SIMD versions are tested
 * against.
 */
#include <math.h>

#include "core/core.h"
#include "cpu/dot_impl.h"

const int8_t rf__kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                      1,    13,   25,  38,  53,  69,  89,  113};
const int8_t rf__kvalues_mxfp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

/* rf__ue4m3_to_fp32_half (quant/quant_impl.h) for every byte, filled on first use of the
 * dispatcher. */
float rf__ue4m3_half_table[256];

/* ---- activation quantizers ------------------------------------------------------ */

/* As ggml quantizes activations on x86 (its AVX2 code, which AVX-512 machines
 * run too): id = 127 / amax and rounding to nearest even, so that codes, and
 * hence integer sums, equal llama.cpp's bit for bit. */
void rf__quant_q8_0_ref(const float *x, void *dst, int64_t n) {
    rf_blk_q8_0 *y = dst;
    for (int64_t ib = 0; ib < n / 32; ib++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[ib].d = rf__fp32_to_fp16(d);
        for (int j = 0; j < 32; j++) y[ib].qs[j] = (int8_t)nearbyintf(x[j] * id);
    }
}

void rf__quant_q8_1_ref(const float *x, void *dst, int64_t n) {
    rf_blk_q8_1 *y = dst;
    for (int64_t ib = 0; ib < n / 32; ib++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            y[ib].qs[j] = (int8_t)nearbyintf(x[j] * id);
            sum += y[ib].qs[j];
        }
        y[ib].d = rf__fp32_to_fp16(d);
        y[ib].s = rf__fp32_to_fp16(d * (float)sum);
    }
}

/* ---- dot products ------------------------------------------------------------------ */

static void dot_q4_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_0 *x = w;
    const rf_blk_q8_0 *y = a;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            isum += ((x[ib].qs[j] & 0xF) - 8) * y[ib].qs[j];
            isum += ((x[ib].qs[j] >> 4) - 8) * y[ib].qs[j + 16];
        }
        sum += (float)isum * (rf__h2f(x[ib].d) * rf__h2f(y[ib].d));
    }
    *s = sum;
}

/* Q4_1 and Q8_0 accumulate in the order of ggml's x86 kernels (which the
 * AVX2 versions share): 8 float lanes, lane i taking the integer sum of the
 * block's values 4i..4i+3; per block acc_i = fma(dx * dy, isum_i, acc_i); the
 * lanes added as _mm256 horizontal sums add them; Q4_1's offset term m * s
 * summed separately, one FMA per block. So these products equal llama.cpp's
 * bit for bit on every CPU. */
static inline float hsum8(const float *v) {
    float r0 = v[4] + v[0], r1 = v[5] + v[1], r2 = v[6] + v[2], r3 = v[7] + v[3];
    return (r0 + r2) + (r1 + r3);
}

static void dot_q4_1(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q4_1 *x = w;
    const rf_blk_q8_1 *y = a;
    float acc[8] = {0}, summs = 0.0f;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        float d = rf__h2f(x[ib].d) * rf__h2f(y[ib].d);
        summs = fmaf(rf__h2f(x[ib].m), rf__h2f(y[ib].s), summs);
        for (int l = 0; l < 8; l++) {
            int isum = 0;
            for (int e = 4 * l; e < 4 * l + 4; e++) {
                int q = e < 16 ? (x[ib].qs[e] & 0xF) : (x[ib].qs[e - 16] >> 4);
                isum += q * y[ib].qs[e];
            }
            acc[l] = fmaf(d, (float)isum, acc[l]);
        }
    }
    *s = hsum8(acc) + summs;
}

static void dot_q5_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_0 *x = w;
    const rf_blk_q8_0 *y = a;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        uint32_t qh = rf__rd32(x[ib].qh);
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            int v0 = ((x[ib].qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16;
            int v1 = ((x[ib].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
            isum += v0 * y[ib].qs[j] + v1 * y[ib].qs[j + 16];
        }
        sum += (rf__h2f(x[ib].d) * rf__h2f(y[ib].d)) * (float)isum;
    }
    *s = sum;
}

static void dot_q5_1(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q5_1 *x = w;
    const rf_blk_q8_1 *y = a;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        uint32_t qh = rf__rd32(x[ib].qh);
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            int v0 = (x[ib].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
            int v1 = (x[ib].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
            isum += v0 * y[ib].qs[j] + v1 * y[ib].qs[j + 16];
        }
        sum += (rf__h2f(x[ib].d) * rf__h2f(y[ib].d)) * (float)isum + rf__h2f(x[ib].m) * rf__h2f(y[ib].s);
    }
    *s = sum;
}

static void dot_q8_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q8_0 *x = w;
    const rf_blk_q8_0 *y = a;
    float acc[8] = {0};
    for (int64_t ib = 0; ib < n / 32; ib++) {
        float d = rf__h2f(x[ib].d) * rf__h2f(y[ib].d);
        for (int l = 0; l < 8; l++) {
            int isum = 0;
            for (int e = 4 * l; e < 4 * l + 4; e++) isum += x[ib].qs[e] * y[ib].qs[e];
            acc[l] = fmaf(d, (float)isum, acc[l]);
        }
    }
    *s = hsum8(acc);
}

static void dot_iq4_nl(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq4_nl *x = w;
    const rf_blk_q8_0 *y = a;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            isum += rf__kvalues_iq4nl[x[ib].qs[j] & 0xF] * y[ib].qs[j];
            isum += rf__kvalues_iq4nl[x[ib].qs[j] >> 4] * y[ib].qs[j + 16];
        }
        sum += (rf__h2f(y[ib].d) * rf__h2f(x[ib].d)) * (float)isum;
    }
    *s = sum;
}

static void dot_mxfp4(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_mxfp4 *x = w;
    const rf_blk_q8_0 *y = a;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / 32; ib++) {
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            isum += rf__kvalues_mxfp4[x[ib].qs[j] & 0xF] * y[ib].qs[j];
            isum += rf__kvalues_mxfp4[x[ib].qs[j] >> 4] * y[ib].qs[j + 16];
        }
        sum += (rf__h2f(y[ib].d) * rf__e8m0_half(x[ib].e)) * (float)isum;
    }
    *s = sum;
}

/* NVFP4: one 64-value block spans two Q8_0 blocks; sub-block k (16 values)
 * holds values 0..7 in the low nibbles of its 8 bytes, 8..15 in the high. */
static void dot_nvfp4(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_nvfp4 *x = w;
    const rf_blk_q8_0 *y = a;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / 64; ib++) {
        for (int k = 0; k < 4; k++) {
            const rf_blk_q8_0 *yb = &y[2 * ib + k / 2];
            const int8_t *q8 = yb->qs + (k % 2) * 16;
            const uint8_t *q4 = x[ib].qs + 8 * k;
            int isum = 0;
            for (int j = 0; j < 8; j++) {
                isum += rf__kvalues_mxfp4[q4[j] & 0xF] * q8[j];
                isum += rf__kvalues_mxfp4[q4[j] >> 4] * q8[j + 8];
            }
            sum += rf__h2f(yb->d) * rf__ue4m3_half_table[x[ib].d[k]] * (float)isum;
        }
    }
    *s = sum;
}

/* Q1_0: 128 values of +-d, spanning four Q8_0 blocks. */
static void dot_q1_0(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_q1_0 *x = w;
    const rf_blk_q8_0 *y = a;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / 128; ib++) {
        float bsum = 0.0f;
        for (int k = 0; k < 4; k++) {
            const rf_blk_q8_0 *yb = &y[4 * ib + k];
            /* bit j set: +q[j], clear: -q[j]; i.e. 2 * (sum where set) - sum */
            uint32_t bits = rf__rd32(x[ib].qs + 4 * k);
            int tot = 0, pos = 0;
            for (int j = 0; j < 32; j++) {
                tot += yb->qs[j];
                pos += yb->qs[j] & -(int)((bits >> j) & 1);
            }
            int isum = 2 * pos - tot;
            bsum += rf__h2f(yb->d) * (float)isum;
        }
        sum += rf__h2f(x[ib].d) * bsum;
    }
    *s = sum;
}

void rf__dot_fill_legacy(rf_dot_table *t) {
    t->dot[RF_TYPE_Q4_0] = dot_q4_0;
    t->dot[RF_TYPE_Q4_1] = dot_q4_1;
    t->dot[RF_TYPE_Q5_0] = dot_q5_0;
    t->dot[RF_TYPE_Q5_1] = dot_q5_1;
    t->dot[RF_TYPE_Q8_0] = dot_q8_0;
    t->dot[RF_TYPE_IQ4_NL] = dot_iq4_nl;
    t->dot[RF_TYPE_MXFP4] = dot_mxfp4;
    t->dot[RF_TYPE_NVFP4] = dot_nvfp4;
    t->dot[RF_TYPE_Q1_0] = dot_q1_0;
    t->quant[RF_TYPE_Q8_0] = rf__quant_q8_0_ref;
    t->quant[RF_TYPE_Q8_1] = rf__quant_q8_1_ref;
}
