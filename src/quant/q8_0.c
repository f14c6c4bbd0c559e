/*
 * q8_0.c - Q8_0: 32 values per 34-byte block, symmetric 8-bit.
 *
 *   offset  size  field
 *   0       2     d      f16 scale
 *   2       32    qs     int8 codes, value j in qs[j]
 *
 * value = qs[j] * d
 *
 * Quantizer: ggml's quantize_row_q8_0_ref (d = max|x| / 127, codes
 * roundf(x/d), ties away from zero). ggml ignores importance weights for
 * Q8_0, and so do we.
 */
#include <math.h>

#include "quant/quant_impl.h"

#define QK 32

typedef struct RF_PACKED {
    uint16_t d;
    int8_t qs[QK];
} block_q8_0;
RF_BLOCK_CHECK(block_q8_0, 34);
RF_FIELD_AT(block_q8_0, qs, 2);

static void q8_0_to_f32(const void *src, float *y, int64_t n) {
    const block_q8_0 *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        const float d = rf__fp16_to_fp32(x[i].d);
        for (int j = 0; j < QK; ++j) y[i * QK + j] = x[i].qs[j] * d;
    }
}

static void q8_0_row(const float *x, void *vy, int64_t n, const float *imatrix) {
    (void)imatrix;
    block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / QK; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) amax = RF_MAX(amax, fabsf(x[i * QK + j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = rf__fp32_to_fp16(d);
        for (int j = 0; j < QK; ++j) y[i].qs[j] = (int8_t)rf__trunc_int(roundf(x[i * QK + j] * id));
    }
}

static size_t q8_0_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q8_0, q8_0_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q8_0 = {
    .name = "Q8_0",
    .block_size = QK,
    .type_size = sizeof(block_q8_0),
    .is_quantized = true,
    .to_f32 = q8_0_to_f32,
    .quantize = q8_0_quantize,
};
