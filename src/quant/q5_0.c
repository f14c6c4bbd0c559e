/*
 * q5_0.c - Q5_0: 32 values per 22-byte block, symmetric 5-bit.
 *
 *   offset  size  field
 *   0       2     d      f16 scale
 *   2       4     qh     bit 4 of every code: bit j of the little-endian
 *                        uint32 belongs to value j (0..31)
 *   6       16    qs     low 4 bits: value j (0..15) in the low nibble of
 *                        qs[j], value j+16 in the high nibble of qs[j]
 *
 * value = (q - 16) * d, q = low nibble | (qh bit << 4)
 *
 * Quantizer: ggml's quantize_row_q5_0_ref (d = signed max / -16, codes by
 * truncation of x/d + 16.5); with an importance matrix, ggml's
 * quantize_row_q5_0_impl (make_qx_quants search).
 */
#include <math.h>

#include "quant/quant_impl.h"

#define QK 32

typedef struct RF_PACKED {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[QK / 2];
} block_q5_0;
RF_BLOCK_CHECK(block_q5_0, 22);
RF_FIELD_AT(block_q5_0, qh, 2);
RF_FIELD_AT(block_q5_0, qs, 6);

static void q5_0_to_f32(const void *src, float *y, int64_t n) {
    const block_q5_0 *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        const float d = rf__fp16_to_fp32(x[i].d);
        const uint32_t qh = rf__rd32(x[i].qh);
        for (int j = 0; j < QK / 2; ++j) {
            const int xh_0 = (int)(((qh >> j) << 4) & 0x10);
            const int xh_1 = (int)((qh >> (j + 12)) & 0x10);
            const int x0 = ((x[i].qs[j] & 0x0F) | xh_0) - 16;
            const int x1 = ((x[i].qs[j] >> 4) | xh_1) - 16;
            y[i * QK + j] = x0 * d;
            y[i * QK + j + QK / 2] = x1 * d;
        }
    }
}

static void q5_0_pack(block_q5_0 *y, const int *q) {
    uint32_t qh = 0;
    for (int j = 0; j < QK / 2; ++j) {
        y->qs[j] = (uint8_t)((q[j] & 0x0F) | ((q[j + QK / 2] & 0x0F) << 4));
        qh |= ((uint32_t)(q[j] & 0x10) >> 4) << j;
        qh |= ((uint32_t)(q[j + QK / 2] & 0x10) >> 4) << (j + QK / 2);
    }
    memcpy(y->qh, &qh, 4);
}

static void q5_0_row_ref(const float *x, block_q5_0 *y, int64_t k) {
    int q[QK];
    for (int64_t i = 0; i < k / QK; i++) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++) {
            const float v = x[i * QK + j];
            if (amax < fabsf(v)) {
                amax = fabsf(v);
                max = v;
            }
        }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = rf__fp32_to_fp16(d);
        for (int j = 0; j < QK; ++j) q[j] = RF_MIN(31, (int8_t)rf__trunc_int(x[i * QK + j] * id + 16.5f));
        q5_0_pack(&y[i], q);
    }
}

static void q5_0_row(const float *x, void *vy, int64_t n, const float *qw_row) {
    block_q5_0 *y = vy;
    if (!qw_row) {
        q5_0_row_ref(x, y, n);
        return;
    }
    float weight[QK];
    int8_t L[QK];
    int q[QK];
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    float sigma2 = sum_x2 / n;
    for (int64_t ib = 0; ib < n / QK; ++ib) {
        const float *xb = x + QK * ib;
        const float *qw = qw_row + QK * ib;
        for (int j = 0; j < QK; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float d = rf__make_qx_quants(QK, 16, xb, L, 1, weight);
        y[ib].d = rf__fp32_to_fp16(d);
        for (int j = 0; j < QK; ++j) q[j] = (uint8_t)L[j];
        q5_0_pack(&y[ib], q);
    }
}

static size_t q5_0_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q5_0, q5_0_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q5_0 = {
    .name = "Q5_0",
    .block_size = QK,
    .type_size = sizeof(block_q5_0),
    .is_quantized = true,
    .to_f32 = q5_0_to_f32,
    .quantize = q5_0_quantize,
};
