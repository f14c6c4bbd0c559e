/*
 * q8_1.c - Q8_1: 32 values per 36-byte block, symmetric 8-bit with the block
 * sum kept alongside (an activation format: the sum lets a dot product with
 * Q4_1/Q5_1 weights apply their offset once per block).
 *
 *   offset  size  field
 *   0       2     d      f16 scale
 *   2       2     s      f16 d * sum(qs), not needed to convert
 *   4       32    qs     int8 codes, value j in qs[j]
 *
 * value = qs[j] * d
 *
 * Quantizer: ggml's quantize_row_q8_1_ref (as Q8_0, plus s). ggml has no
 * conversion back to f32 for Q8_1; ours is qs * d, the value the codes stand
 * for, and the test compares it with a numpy reference written from ggml's
 * block layout.
 */
#include <math.h>

#include "quant/quant_impl.h"

#define QK 32

typedef struct RF_PACKED {
    uint16_t d;
    uint16_t s;
    int8_t qs[QK];
} block_q8_1;
RF_BLOCK_CHECK(block_q8_1, 36);
RF_FIELD_AT(block_q8_1, s, 2);
RF_FIELD_AT(block_q8_1, qs, 4);

static void q8_1_to_f32(const void *src, float *y, int64_t n) {
    const block_q8_1 *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        const float d = rf__fp16_to_fp32(x[i].d);
        for (int j = 0; j < QK; ++j) y[i * QK + j] = x[i].qs[j] * d;
    }
}

static void q8_1_row(const float *x, void *vy, int64_t n, const float *imatrix) {
    (void)imatrix;
    block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / QK; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) amax = RF_MAX(amax, fabsf(x[i * QK + j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = rf__fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < QK; ++j) {
            y[i].qs[j] = (int8_t)rf__trunc_int(roundf(x[i * QK + j] * id));
            sum += y[i].qs[j];
        }
        y[i].s = rf__fp32_to_fp16(sum * d);
    }
}

static size_t q8_1_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q8_1, q8_1_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q8_1 = {
    .name = "Q8_1",
    .block_size = QK,
    .type_size = sizeof(block_q8_1),
    .is_quantized = true,
    .to_f32 = q8_1_to_f32,
    .quantize = q8_1_quantize,
};
