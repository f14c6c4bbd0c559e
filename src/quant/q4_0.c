/*
 * q4_0.c - Q4_0: 32 values per 18-byte block, symmetric 4-bit.
 *
 *   offset  size  field
 *   0       2     d      f16 scale
 *   2       16    qs     4-bit codes q: value j (0..15) in the low nibble of
 *                        qs[j], value j+16 in the high nibble of qs[j]
 *
 * value = (q - 8) * d
 *
 * Quantizer: ggml's quantize_row_q4_0_ref (d = signed max / -8, codes by
 * truncation of x/d + 8.5); with an importance matrix, ggml's
 * quantize_row_q4_0_impl (weighted scale search, make_qx_quants).
 */
#include <math.h>

#include "quant/quant_impl.h"

#define QK 32

typedef struct RF_PACKED {
    uint16_t d;
    uint8_t qs[QK / 2];
} block_q4_0;
RF_BLOCK_CHECK(block_q4_0, 18);
RF_FIELD_AT(block_q4_0, qs, 2);

static void q4_0_to_f32(const void *src, float *y, int64_t n) {
    const block_q4_0 *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        const float d = rf__fp16_to_fp32(x[i].d);
        for (int j = 0; j < QK / 2; ++j) {
            const int x0 = (x[i].qs[j] & 0x0F) - 8;
            const int x1 = (x[i].qs[j] >> 4) - 8;
            y[i * QK + j] = x0 * d;
            y[i * QK + j + QK / 2] = x1 * d;
        }
    }
}

static void q4_0_row_ref(const float *x, block_q4_0 *y, int64_t k) {
    for (int64_t i = 0; i < k / QK; i++) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++) {
            const float v = x[i * QK + j];
            if (amax < fabsf(v)) {
                amax = fabsf(v);
                max = v;
            }
        }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = rf__fp32_to_fp16(d);
        for (int j = 0; j < QK / 2; ++j) {
            const float x0 = x[i * QK + j] * id;
            const float x1 = x[i * QK + QK / 2 + j] * id;
            const uint8_t xi0 = (uint8_t)RF_MIN(15, (int8_t)rf__trunc_int(x0 + 8.5f));
            const uint8_t xi1 = (uint8_t)RF_MIN(15, (int8_t)rf__trunc_int(x1 + 8.5f));
            y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

static void q4_0_row(const float *x, void *vy, int64_t n, const float *qw_row) {
    block_q4_0 *y = vy;
    if (!qw_row) {
        q4_0_row_ref(x, y, n);
        return;
    }
    float weight[QK];
    int8_t L[QK];
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    float sigma2 = sum_x2 / n;
    for (int64_t ib = 0; ib < n / QK; ++ib) {
        const float *xb = x + QK * ib;
        const float *qw = qw_row + QK * ib;
        for (int j = 0; j < QK; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float d = rf__make_qx_quants(QK, 8, xb, L, 1, weight);
        y[ib].d = rf__fp32_to_fp16(d);
        for (int j = 0; j < 16; ++j) y[ib].qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

static size_t q4_0_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q4_0, q4_0_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q4_0 = {
    .name = "Q4_0",
    .block_size = QK,
    .type_size = sizeof(block_q4_0),
    .is_quantized = true,
    .to_f32 = q4_0_to_f32,
    .quantize = q4_0_quantize,
};
