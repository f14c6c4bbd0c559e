/*
 * q4_1.c - Q4_1: 32 values per 20-byte block, 4-bit with scale and offset.
 *
 *   offset  size  field
 *   0       2     d      f16 scale
 *   2       2     m      f16 offset (the block minimum)
 *   4       16    qs     4-bit codes q: value j (0..15) in the low nibble of
 *                        qs[j], value j+16 in the high nibble of qs[j]
 *
 * value = q * d + m
 *
 * Quantizer: ggml's quantize_row_q4_1_ref (d = (max - min) / 15, m = min,
 * codes by truncation of (x - min)/d + 0.5); with an importance matrix,
 * ggml's quantize_row_q4_1_impl (make_qkx3_quants search).
 */
#include <float.h>
#include <math.h>

#include "quant/quant_impl.h"

#define QK 32

typedef struct RF_PACKED {
    uint16_t d;
    uint16_t m;
    uint8_t qs[QK / 2];
} block_q4_1;
RF_BLOCK_CHECK(block_q4_1, 20);
RF_FIELD_AT(block_q4_1, m, 2);
RF_FIELD_AT(block_q4_1, qs, 4);

static void q4_1_to_f32(const void *src, float *y, int64_t n) {
    const block_q4_1 *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        const float d = rf__fp16_to_fp32(x[i].d);
        const float m = rf__fp16_to_fp32(x[i].m);
        for (int j = 0; j < QK / 2; ++j) {
            const int x0 = x[i].qs[j] & 0x0F;
            const int x1 = x[i].qs[j] >> 4;
            y[i * QK + j] = x0 * d + m;
            y[i * QK + j + QK / 2] = x1 * d + m;
        }
    }
}

static void q4_1_row_ref(const float *x, block_q4_1 *y, int64_t k) {
    for (int64_t i = 0; i < k / QK; i++) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK; j++) {
            const float v = x[i * QK + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = rf__fp32_to_fp16(d);
        y[i].m = rf__fp32_to_fp16(min);
        for (int j = 0; j < QK / 2; ++j) {
            const float x0 = (x[i * QK + j] - min) * id;
            const float x1 = (x[i * QK + QK / 2 + j] - min) * id;
            const uint8_t xi0 = (uint8_t)RF_MIN(15, (int8_t)rf__trunc_int(x0 + 0.5f));
            const uint8_t xi1 = (uint8_t)RF_MIN(15, (int8_t)rf__trunc_int(x1 + 0.5f));
            y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

static void q4_1_row(const float *x, void *vy, int64_t n, const float *qw_row) {
    block_q4_1 *y = vy;
    if (!qw_row) {
        q4_1_row_ref(x, y, n);
        return;
    }
    float weight[QK];
    uint8_t L[QK], Laux[QK];
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    float sigma2 = sum_x2 / n;
    for (int64_t ib = 0; ib < n / QK; ++ib) {
        const float *xb = x + QK * ib;
        const float *qw = qw_row + QK * ib;
        for (int j = 0; j < QK; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float min;
        float d = rf__make_qkx3_quants(QK, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
        y[ib].d = rf__fp32_to_fp16(d);
        y[ib].m = rf__fp32_to_fp16(-min);
        for (int j = 0; j < 16; ++j) y[ib].qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

static size_t q4_1_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q4_1, q4_1_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q4_1 = {
    .name = "Q4_1",
    .block_size = QK,
    .type_size = sizeof(block_q4_1),
    .is_quantized = true,
    .to_f32 = q4_1_to_f32,
    .quantize = q4_1_quantize,
};
