/*
 * blocks_k.h - block layouts of the K-quants (super-blocks of RF_QK_K = 256
 * values), bit-compatible with ggml's block_q2_K ... block_q8_K.
 *
 * All multi-byte fields are little-endian; `d`/`dmin` are IEEE half floats
 * stored as raw bits. The conversion code (src/quant/q?_k.c) copies each block
 * into one of these structs before reading it, so tensor data needs no
 * particular alignment. Byte offsets are checked below with static asserts.
 *
 *   type  bytes  layout (offset: field)
 *   Q2_K   84    0: scales[16]  16: qs[64]  80: d  82: dmin
 *   Q3_K  110    0: hmask[32]   32: qs[64]  96: scales[12]  108: d
 *   Q4_K  144    0: d  2: dmin  4: scales[12]  16: qs[128]
 *   Q5_K  176    0: d  2: dmin  4: scales[12]  16: qh[32]  48: qs[128]
 *   Q6_K  210    0: ql[128]  128: qh[64]  192: scales[16] (int8)  208: d
 *   Q8_K  292    0: d (f32)  4: qs[256] (int8)  260: bsums[16] (int16)
 *
 * Each type's file describes how its bits map to values.
 */
#ifndef RF_QUANT_BLOCKS_K_H
#define RF_QUANT_BLOCKS_K_H

#include <stddef.h>
#include <stdint.h>

#include "quant/quant.h"

#define RF_K_SCALE_SIZE 12

typedef struct rf_block_q2_k {
    uint8_t scales[RF_QK_K / 16]; /* low nibble: scale, high nibble: min */
    uint8_t qs[RF_QK_K / 4];      /* 2-bit quants */
    uint16_t d;                   /* super-block scale for the scales */
    uint16_t dmin;                /* super-block scale for the mins */
} rf_block_q2_k;

typedef struct rf_block_q3_k {
    uint8_t hmask[RF_QK_K / 8];          /* high bit of each quant */
    uint8_t qs[RF_QK_K / 4];             /* low 2 bits of each quant */
    uint8_t scales[RF_K_SCALE_SIZE];     /* 16 scales, 6 bits each */
    uint16_t d;                          /* super-block scale */
} rf_block_q3_k;

typedef struct rf_block_q4_k {
    uint16_t d;                          /* super-block scale for the scales */
    uint16_t dmin;                       /* super-block scale for the mins */
    uint8_t scales[RF_K_SCALE_SIZE];     /* 8 scales and 8 mins, 6 bits each */
    uint8_t qs[RF_QK_K / 2];             /* 4-bit quants */
} rf_block_q4_k;

typedef struct rf_block_q5_k {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[RF_K_SCALE_SIZE];     /* packed as in Q4_K */
    uint8_t qh[RF_QK_K / 8];             /* fifth bit of each quant */
    uint8_t qs[RF_QK_K / 2];             /* low 4 bits of each quant */
} rf_block_q5_k;

typedef struct rf_block_q6_k {
    uint8_t ql[RF_QK_K / 2];             /* low 4 bits */
    uint8_t qh[RF_QK_K / 4];             /* high 2 bits */
    int8_t scales[RF_QK_K / 16];         /* 8-bit signed scales */
    uint16_t d;                          /* super-block scale */
} rf_block_q6_k;

typedef struct rf_block_q8_k {
    float d;                             /* scale (f32, not half) */
    int8_t qs[RF_QK_K];                  /* quants */
    int16_t bsums[RF_QK_K / 16];         /* sum of each group of 16 quants */
} rf_block_q8_k;

_Static_assert(sizeof(rf_block_q2_k) == 84, "Q2_K block size");
_Static_assert(offsetof(rf_block_q2_k, qs) == 16 && offsetof(rf_block_q2_k, d) == 80 &&
               offsetof(rf_block_q2_k, dmin) == 82, "Q2_K layout");
_Static_assert(sizeof(rf_block_q3_k) == 110, "Q3_K block size");
_Static_assert(offsetof(rf_block_q3_k, qs) == 32 && offsetof(rf_block_q3_k, scales) == 96 &&
               offsetof(rf_block_q3_k, d) == 108, "Q3_K layout");
_Static_assert(sizeof(rf_block_q4_k) == 144, "Q4_K block size");
_Static_assert(offsetof(rf_block_q4_k, dmin) == 2 && offsetof(rf_block_q4_k, scales) == 4 &&
               offsetof(rf_block_q4_k, qs) == 16, "Q4_K layout");
_Static_assert(sizeof(rf_block_q5_k) == 176, "Q5_K block size");
_Static_assert(offsetof(rf_block_q5_k, scales) == 4 && offsetof(rf_block_q5_k, qh) == 16 &&
               offsetof(rf_block_q5_k, qs) == 48, "Q5_K layout");
_Static_assert(sizeof(rf_block_q6_k) == 210, "Q6_K block size");
_Static_assert(offsetof(rf_block_q6_k, qh) == 128 && offsetof(rf_block_q6_k, scales) == 192 &&
               offsetof(rf_block_q6_k, d) == 208, "Q6_K layout");
_Static_assert(sizeof(rf_block_q8_k) == 292, "Q8_K block size");
_Static_assert(offsetof(rf_block_q8_k, qs) == 4 && offsetof(rf_block_q8_k, bsums) == 260, "Q8_K layout");

/* Scale and min j (0..7) of a Q4_K/Q5_K block, 6 bits each, packed in 12 bytes:
 *   bytes 0..3 : bits 0-5 scale 0..3, bits 6-7 the high 2 bits of scale 4..7
 *   bytes 4..7 : bits 0-5 min 0..3,   bits 6-7 the high 2 bits of min 4..7
 *   bytes 8..11: bits 0-3 the low 4 bits of scale 4..7, bits 4-7 those of min 4..7
 * (This is ggml's get_scale_min_k4.) */
static inline void rf__k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Q3_K: the 16 signed scales (-32..31) of a block from its 12 packed bytes:
 *   scale j, 6 bits biased by 32: low 4 bits in byte j (j<8, low nibble) or
 *   byte j-8 (j>=8, high nibble); high 2 bits in byte 8 + j%4, at bit 2*(j/4). */
static inline void rf__q3k_unpack_scales(const uint8_t *packed, int8_t out[16]) {
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? (packed[j] & 0xF) : (packed[j - 8] >> 4);
        int hi = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
        out[j] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

#endif /* RF_QUANT_BLOCKS_K_H */
