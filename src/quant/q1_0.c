/*
 * q1_0.c - Q1_0: 128 values per 18-byte block, one sign bit per value.
 *
 *   offset  size  field
 *   0       2     d      f16 scale (the mean of |x| over the block)
 *   2       16    qs     sign bits, least significant first: bit j%8 of
 *                        qs[j/8] is value j; 1 means +d, 0 means -d
 *
 * value = bit ? d : -d
 *
 * Quantizer: ggml's quantize_row_q1_0_ref (d = sum|x| / 128, bit set for
 * x >= 0). ggml ignores importance weights for Q1_0.
 */
#include <math.h>

#include "quant/quant_impl.h"

#define QK 128

typedef struct RF_PACKED {
    uint16_t d;
    uint8_t qs[QK / 8];
} block_q1_0;
RF_BLOCK_CHECK(block_q1_0, 18);
RF_FIELD_AT(block_q1_0, qs, 2);

static void q1_0_to_f32(const void *src, float *y, int64_t n) {
    const block_q1_0 *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        const float d = rf__fp16_to_fp32(x[i].d);
        const float neg_d = -d;
        for (int j = 0; j < QK; ++j) y[i * QK + j] = ((x[i].qs[j / 8] >> (j % 8)) & 1) ? d : neg_d;
    }
}

static void q1_0_row(const float *x, void *vy, int64_t n, const float *imatrix) {
    (void)imatrix;
    block_q1_0 *y = vy;
    for (int64_t i = 0; i < n / QK; i++) {
        float sum_abs = 0.0f;
        for (int j = 0; j < QK; j++) sum_abs += fabsf(x[i * QK + j]);
        const float d = sum_abs / QK;
        y[i].d = rf__fp32_to_fp16(d);
        memset(y[i].qs, 0, sizeof y[i].qs);
        for (int j = 0; j < QK; ++j)
            if (x[i * QK + j] >= 0.0f) y[i].qs[j / 8] |= (uint8_t)(1 << (j % 8));
    }
}

static size_t q1_0_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q1_0, q1_0_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q1_0 = {
    .name = "Q1_0",
    .block_size = QK,
    .type_size = sizeof(block_q1_0),
    .is_quantized = true,
    .to_f32 = q1_0_to_f32,
    .quantize = q1_0_quantize,
};
