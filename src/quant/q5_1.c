/*
 * q5_1.c - Q5_1: 32 values per 24-byte block, 5-bit with scale and offset.
 *
 *   offset  size  field
 *   0       2     d      f16 scale
 *   2       2     m      f16 offset (the block minimum)
 *   4       4     qh     bit 4 of every code: bit j of the little-endian
 *                        uint32 belongs to value j (0..31)
 *   8       16    qs     low 4 bits: value j (0..15) in the low nibble of
 *                        qs[j], value j+16 in the high nibble of qs[j]
 *
 * value = q * d + m, q = low nibble | (qh bit << 4)
 *
 * Quantizer: ggml's quantize_row_q5_1_ref (d = (max - min) / 31, m = min,
 * codes by truncation of (x - min)/d + 0.5); with an importance matrix,
 * ggml's quantize_row_q5_1_impl (make_qkx3_quants search).
 */
#include <float.h>
#include <math.h>

#include "quant/quant_impl.h"

#define QK 32

typedef struct RF_PACKED {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[QK / 2];
} block_q5_1;
RF_BLOCK_CHECK(block_q5_1, 24);
RF_FIELD_AT(block_q5_1, m, 2);
RF_FIELD_AT(block_q5_1, qh, 4);
RF_FIELD_AT(block_q5_1, qs, 8);

static void q5_1_to_f32(const void *src, float *y, int64_t n) {
    const block_q5_1 *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        const float d = rf__fp16_to_fp32(x[i].d);
        const float m = rf__fp16_to_fp32(x[i].m);
        const uint32_t qh = rf__rd32(x[i].qh);
        for (int j = 0; j < QK / 2; ++j) {
            const int xh_0 = (int)(((qh >> j) << 4) & 0x10);
            const int xh_1 = (int)((qh >> (j + 12)) & 0x10);
            const int x0 = (x[i].qs[j] & 0x0F) | xh_0;
            const int x1 = (x[i].qs[j] >> 4) | xh_1;
            y[i * QK + j] = x0 * d + m;
            y[i * QK + j + QK / 2] = x1 * d + m;
        }
    }
}

static void q5_1_pack(block_q5_1 *y, const int *q) {
    uint32_t qh = 0;
    for (int j = 0; j < QK / 2; ++j) {
        y->qs[j] = (uint8_t)((q[j] & 0x0F) | ((q[j + QK / 2] & 0x0F) << 4));
        qh |= ((uint32_t)(q[j] & 0x10) >> 4) << j;
        qh |= ((uint32_t)(q[j + QK / 2] & 0x10) >> 4) << (j + QK / 2);
    }
    memcpy(y->qh, &qh, 4);
}

static void q5_1_row_ref(const float *x, block_q5_1 *y, int64_t k) {
    int q[QK];
    for (int64_t i = 0; i < k / QK; i++) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK; j++) {
            const float v = x[i * QK + j];
            if (v < min) min = v;
            if (v > max) max = v;
        }
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = rf__fp32_to_fp16(d);
        y[i].m = rf__fp32_to_fp16(min);
        /* ggml stores (uint8_t)(x + 0.5f) without a clamp: x <= 31 here */
        for (int j = 0; j < QK; ++j) q[j] = (uint8_t)rf__trunc_int((x[i * QK + j] - min) * id + 0.5f);
        q5_1_pack(&y[i], q);
    }
}

static void q5_1_row(const float *x, void *vy, int64_t n, const float *qw_row) {
    block_q5_1 *y = vy;
    if (!qw_row) {
        q5_1_row_ref(x, y, n);
        return;
    }
    float weight[QK];
    uint8_t L[QK], Laux[QK];
    int q[QK];
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    float sigma2 = sum_x2 / n;
    for (int64_t ib = 0; ib < n / QK; ++ib) {
        const float *xb = x + QK * ib;
        const float *qw = qw_row + QK * ib;
        for (int j = 0; j < QK; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float min;
        float d = rf__make_qkx3_quants(QK, 31, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
        y[ib].d = rf__fp32_to_fp16(d);
        y[ib].m = rf__fp32_to_fp16(-min);
        for (int j = 0; j < QK; ++j) q[j] = L[j];
        q5_1_pack(&y[ib], q);
    }
}

static size_t q5_1_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q5_1, q5_1_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q5_1 = {
    .name = "Q5_1",
    .block_size = QK,
    .type_size = sizeof(block_q5_1),
    .is_quantized = true,
    .to_f32 = q5_1_to_f32,
    .quantize = q5_1_quantize,
};
