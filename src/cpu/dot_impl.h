/*
 * dot_impl.h - internals shared by the dot-product kernels: block layouts
 * (byte-compatible with ggml's), small helpers, and the registration hooks
 * each implementation file provides.
 *
 * Every kernel family has a plain scalar file (src/cpu/dot_<family>.c) with
 * integer arithmetic in the order ggml's generic code uses, and optional SIMD
 * files under src/cpu/x86/ and src/cpu/arm/ that must agree with it to
 * rounding.
 */
#ifndef RF_CPU_DOT_IMPL_H
#define RF_CPU_DOT_IMPL_H

#include <stdint.h>
#include <string.h>

#include "cpu/dot.h"

/* ---- block layouts ---------------------------------------------------------
 * Field order and sizes are those of ggml (ggml-common.h); the static asserts
 * below pin the sizes. f16 values are stored as raw uint16_t. */
#define RF_QK4_0 32
#define RF_QK8_0 32

typedef struct { uint16_t d; uint8_t qs[16]; } rf_blk_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[16]; } rf_blk_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } rf_blk_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } rf_blk_q5_1;
typedef struct { uint16_t d; int8_t qs[32]; } rf_blk_q8_0;
/* s = d * sum(qs) */
typedef struct { uint16_t d, s; int8_t qs[32]; } rf_blk_q8_1;
typedef struct { uint16_t d; uint8_t qs[16]; } rf_blk_iq4_nl;
typedef struct { uint8_t e; uint8_t qs[16]; } rf_blk_mxfp4;
/* 64 values as 4 sub-blocks of 16, each with an unsigned E4M3 scale. */
typedef struct { uint8_t d[4]; uint8_t qs[32]; } rf_blk_nvfp4;
/* 128 values of +-d, one bit each (bit set = +d). */
typedef struct { uint16_t d; uint8_t qs[16]; } rf_blk_q1_0;

typedef struct { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; } rf_blk_q2_k;
typedef struct { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; } rf_blk_q3_k;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } rf_blk_q4_k;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } rf_blk_q5_k;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } rf_blk_q6_k;
/* Activation block of the K-quants: bsums[j] = sum of qs[16j .. 16j+15]. */
typedef struct { float d; int8_t qs[256]; int16_t bsums[16]; } rf_blk_q8_k;

typedef struct { uint16_t d; uint16_t qs[32]; } rf_blk_iq2_xxs;
typedef struct { uint16_t d; uint16_t qs[32]; uint8_t scales[8]; } rf_blk_iq2_xs;
typedef struct { uint16_t d; uint8_t qs[64]; uint8_t qh[8]; uint8_t scales[8]; } rf_blk_iq2_s;
typedef struct { uint16_t d; uint8_t qs[96]; } rf_blk_iq3_xxs;
typedef struct { uint16_t d; uint8_t qs[64]; uint8_t qh[8]; uint8_t signs[32]; uint8_t scales[4]; } rf_blk_iq3_s;
typedef struct { uint16_t d; uint8_t qs[32]; uint16_t qh[8]; } rf_blk_iq1_s;
typedef struct { uint8_t qs[32]; uint8_t qh[16]; uint8_t scales[8]; } rf_blk_iq1_m;
typedef struct { uint16_t d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; } rf_blk_iq4_xs;
typedef struct { uint8_t qs[48]; uint8_t qh[4]; uint16_t d; } rf_blk_tq1_0;
typedef struct { uint8_t qs[64]; uint16_t d; } rf_blk_tq2_0;

_Static_assert(sizeof(rf_blk_q4_0) == 18, "q4_0");
_Static_assert(sizeof(rf_blk_q4_1) == 20, "q4_1");
_Static_assert(sizeof(rf_blk_q5_0) == 22, "q5_0");
_Static_assert(sizeof(rf_blk_q5_1) == 24, "q5_1");
_Static_assert(sizeof(rf_blk_q8_0) == 34, "q8_0");
_Static_assert(sizeof(rf_blk_q8_1) == 36, "q8_1");
_Static_assert(sizeof(rf_blk_iq4_nl) == 18, "iq4_nl");
_Static_assert(sizeof(rf_blk_mxfp4) == 17, "mxfp4");
_Static_assert(sizeof(rf_blk_nvfp4) == 36, "nvfp4");
_Static_assert(sizeof(rf_blk_q1_0) == 18, "q1_0");
_Static_assert(sizeof(rf_blk_q2_k) == 84, "q2_K");
_Static_assert(sizeof(rf_blk_q3_k) == 110, "q3_K");
_Static_assert(sizeof(rf_blk_q4_k) == 144, "q4_K");
_Static_assert(sizeof(rf_blk_q5_k) == 176, "q5_K");
_Static_assert(sizeof(rf_blk_q6_k) == 210, "q6_K");
_Static_assert(sizeof(rf_blk_q8_k) == 292, "q8_K");
_Static_assert(sizeof(rf_blk_iq2_xxs) == 66, "iq2_xxs");
_Static_assert(sizeof(rf_blk_iq2_xs) == 74, "iq2_xs");
_Static_assert(sizeof(rf_blk_iq2_s) == 82, "iq2_s");
_Static_assert(sizeof(rf_blk_iq3_xxs) == 98, "iq3_xxs");
_Static_assert(sizeof(rf_blk_iq3_s) == 110, "iq3_s");
_Static_assert(sizeof(rf_blk_iq1_s) == 50, "iq1_s");
_Static_assert(sizeof(rf_blk_iq1_m) == 56, "iq1_m");
_Static_assert(sizeof(rf_blk_iq4_xs) == 136, "iq4_xs");
_Static_assert(sizeof(rf_blk_tq1_0) == 54, "tq1_0");
_Static_assert(sizeof(rf_blk_tq2_0) == 66, "tq2_0");

/* ---- value tables ------------------------------------------------------------ */
extern const int8_t rf__kvalues_iq4nl[16];
extern const int8_t rf__kvalues_mxfp4[16]; /* e2m1 values times 2 */

/* ---- scalar helpers ---------------------------------------------------------- */
/* f16 -> f32 through a 64K-entry table filled once by the dispatcher. */
extern float rf__dot_f16_table[1 << 16];
static inline float rf__h2f(uint16_t h) { return rf__dot_f16_table[h]; }

/* E8M0 exponent to the f32 value 2^(e-128), i.e. half the MXFP4 block scale,
 * which pairs with kvalues_mxfp4 holding twice the e2m1 values. */
static inline float rf__e8m0_half(uint8_t e) {
    uint32_t bits = e < 2 ? (0x00200000u << e) : ((uint32_t)(e - 1) << 23);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Unsigned E4M3 scale of NVFP4 times 0.5, for every byte (see rf__ue4m3_to_fp32_half). */
extern float rf__ue4m3_half_table[256]; /* filled by the dispatcher */

/* The 6-bit scales and mins of Q4_K/Q5_K, unpacked from 12 bytes. */
static inline void rf__k4_scales(const uint8_t *q, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = q[j] & 63;
        mn[j] = q[j + 4] & 63;
        sc[j + 4] = (q[j + 8] & 0xF) | ((q[j] >> 6) << 4);
        mn[j + 4] = (q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4);
    }
}

/* The 16 signed 6-bit scales of Q3_K (already minus 32). */
static inline void rf__k3_scales(const uint8_t *q, int8_t sc[16]) {
    for (int j = 0; j < 16; j++) {
        int low = j < 8 ? (q[j] & 0xF) : (q[j - 8] >> 4);
        int high = (q[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
        sc[j] = (int8_t)((low | (high << 4)) - 32);
    }
}

/* The same with 32-bit word operations (as ggml's kernels do), for SIMD
 * kernels where the per-byte loop above would dominate. */
static inline void rf__k3_scales_fast(const uint8_t *q, int8_t sc[16]) {
    uint32_t a[3], o[4];
    memcpy(a, q, 12);
    const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    o[0] = (a[0] & m4) | ((a[2] & m2) << 4);
    o[1] = (a[1] & m4) | (((a[2] >> 2) & m2) << 4);
    o[2] = ((a[0] >> 4) & m4) | (((a[2] >> 4) & m2) << 4);
    o[3] = ((a[1] >> 4) & m4) | (((a[2] >> 6) & m2) << 4);
    /* bytes 0..63 -> -32..31 without borrows between bytes */
    for (int k = 0; k < 4; k++) o[k] = ((o[k] | 0x80808080u) - 0x20202020u) ^ 0x80808080u;
    memcpy(sc, o, 16);
}

/* ---- implementation tables ----------------------------------------------------
 * Each implementation fills the entries it has (vec_dot, and for activation
 * formats the quantizer); the dispatcher fills act_type and impl. */
typedef struct rf_dot_table {
    rf_vec_dot_fn dot[RF_TYPE_COUNT];
    rf_vec_dot_multi_fn dot_multi[RF_TYPE_COUNT]; /* optional */
    rf_act_quant_fn quant[RF_TYPE_COUNT]; /* indexed by activation type */
} rf_dot_table;

void rf__dot_fill_float(rf_dot_table *t);
void rf__dot_fill_legacy(rf_dot_table *t);
void rf__dot_fill_kquant(rf_dot_table *t);
void rf__dot_fill_iquant(rf_dot_table *t);
#if defined(__x86_64__)
void rf__dot_fill_avx2(rf_dot_table *t);        /* calls the two below */
void rf__dot_fill_avx2_legacy(rf_dot_table *t); /* float, 32-blocks */
void rf__dot_fill_avx2_kquant(rf_dot_table *t); /* K-quants, IQ4_XS */
void rf__dot_fill_avx2_iquant(rf_dot_table *t); /* lattice i-quants, TQ2_0, NVFP4, Q1_0 */
void rf__dot_fill_avx512(rf_dot_table *t);
void rf__dot_fill_avx512_legacy(rf_dot_table *t);
void rf__dot_fill_avx512_kquant(rf_dot_table *t);
#endif
#if defined(__aarch64__)
void rf__dot_fill_neon(rf_dot_table *t);
#endif

/* Scalar activation quantizers (references for the SIMD ones). */
void rf__quant_q8_0_ref(const float *x, void *dst, int64_t n);
void rf__quant_q8_1_ref(const float *x, void *dst, int64_t n);
void rf__quant_q8_k_ref(const float *x, void *dst, int64_t n);

#endif /* RF_CPU_DOT_IMPL_H */
