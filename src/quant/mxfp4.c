/*
 * mxfp4.c - MXFP4 (OCP microscaling FP4): 32 values per 17-byte block, E2M1
 * codes with a shared power-of-two E8M0 scale.
 *
 *   offset  size  field
 *   0       1     e      E8M0 exponent byte: scale 2^(e - 127)
 *   1       16    qs     4-bit E2M1 codes q (bit 3 sign, 0.5 .. 6): value j
 *                        (0..15) in the low nibble of qs[j], value j+16 in
 *                        the high nibble
 *
 * value = kvalues_mxfp4[q] * 2^(e - 128), the table holding doubled E2M1
 * values {0, 1, 2, 3, 4, 6, 8, 12} and their negatives.
 *
 * Quantizer: ggml's quantize_row_mxfp4_ref: e = floor(log2(max|x|)) - 2 + 127
 * (0 for an all-zero block), each code the table entry nearest to x (first
 * one on ties). ggml ignores importance weights for MXFP4.
 */
#include <math.h>

#include "quant/quant_impl.h"

#define QK 32

typedef struct RF_PACKED {
    uint8_t e;
    uint8_t qs[QK / 2];
} block_mxfp4;
RF_BLOCK_CHECK(block_mxfp4, 17);
RF_FIELD_AT(block_mxfp4, qs, 1);

static void mxfp4_to_f32(const void *src, float *y, int64_t n) {
    const block_mxfp4 *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        const float d = rf__e8m0_to_fp32_half(x[i].e);
        for (int j = 0; j < QK / 2; ++j) {
            const int8_t x0 = rf__kvalues_mxfp4[x[i].qs[j] & 0x0F];
            const int8_t x1 = rf__kvalues_mxfp4[x[i].qs[j] >> 4];
            y[i * QK + j] = x0 * d;
            y[i * QK + j + QK / 2] = x1 * d;
        }
    }
}

/* Shared with NVFP4: the code whose doubled E2M1 value times e is nearest x. */
uint8_t rf__mxfp4_best_index(float x, float e) {
    int best_index = 0;
    float best_err = fabsf(rf__kvalues_mxfp4[0] * e - x);
    for (int i = 1; i < 16; i++) {
        float err = fabsf(rf__kvalues_mxfp4[i] * e - x);
        if (err < best_err) {
            best_index = i;
            best_err = err;
        }
    }
    return (uint8_t)best_index;
}

static void mxfp4_row(const float *x, void *vy, int64_t n, const float *imatrix) {
    (void)imatrix;
    block_mxfp4 *y = vy;
    for (int64_t i = 0; i < n / QK; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++)
            if (amax < fabsf(x[i * QK + j])) amax = fabsf(x[i * QK + j]);
        uint8_t e = 0;
        if (amax > 0.0f) {
            /* in [-24, 253] for finite amax; an infinite block saturates */
            float t = floorf(log2f(amax)) - 2 + 127;
            e = (uint8_t)(t > 255.0f ? 255 : (int)t);
        }
        const float d = rf__e8m0_to_fp32_half(e);
        y[i].e = e;
        for (int j = 0; j < QK / 2; ++j) {
            const uint8_t x0 = rf__mxfp4_best_index(x[i * QK + j], d);
            const uint8_t x1 = rf__mxfp4_best_index(x[i * QK + QK / 2 + j], d);
            y[i].qs[j] = (uint8_t)(x0 | (x1 << 4));
        }
    }
}

static size_t mxfp4_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_MXFP4, mxfp4_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_mxfp4 = {
    .name = "MXFP4",
    .block_size = QK,
    .type_size = sizeof(block_mxfp4),
    .is_quantized = true,
    .to_f32 = mxfp4_to_f32,
    .quantize = mxfp4_quantize,
};
