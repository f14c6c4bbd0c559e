/* q6_k.c - Q6_K: 6-bit symmetric quants with 8-bit scales, 6.5625 bits/weight.
 *
 * Block of 256 values, 210 bytes (rf_block_q6_k in blocks_k.h), in two
 * halves of 128 values (h = 0, 1), each with 64 bytes of ql and 32 of qh:
 *   offset   0  ql[128]     low 4 bits: value 128*h + l (l < 32) is
 *                           ql[64*h + l] & 0xF, +32 is ql[64*h + 32 + l] & 0xF,
 *                           +64 is ql[64*h + l] >> 4, +96 is ql[64*h + 32 + l] >> 4
 *   offset 128  qh[64]      high 2 bits: value 128*h + 32*s + l has them at
 *                           bits 2*s..2*s+1 of qh[32*h + l]
 *   offset 192  scales[16]  int8 scale of each sub-block of 16 values
 *   offset 208  d           half: super-block scale
 * Value i of sub-block j = d * scale_j * (q_i - 32), q_i in 0..63.
 */
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "quant/blocks_k.h"
#include "quant/quant.h"
#include "quant/quant_impl.h"
#include "quant/quant_search.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static void q6_k_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t b = 0; b < n / RF_QK_K; b++, p += sizeof(rf_block_q6_k)) {
        rf_block_q6_k x;
        memcpy(&x, p, sizeof x);
        const float d = rf__fp16_to_fp32(x.d);
        float *y = dst + b * RF_QK_K;
        const uint8_t *ql = x.ql, *qh = x.qh;
        const int8_t *sc = x.scales;
        for (int h = 0; h < 2; h++, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * (float)sc[is + 0] * (float)q1;
                y[l + 32] = d * (float)sc[is + 2] * (float)q2;
                y[l + 64] = d * (float)sc[is + 4] * (float)q3;
                y[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}

/* ggml's quantize_row_q6_K_ref and quantize_row_q6_K_impl: one super-block.
 * quant_weights (256 values) may be NULL. */
static void q6_k_block(const float *x, rf_block_q6_k *y, const float *quant_weights) {
    int8_t L[RF_QK_K];
    float scales[RF_QK_K / 16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < RF_QK_K / 16; ++ib) {
        const float *qw = quant_weights ? quant_weights + 16 * ib : NULL;
        const float scale = rf__make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, qw);
        scales[ib] = scale;
        const float abs_scale = fabsf(scale);
        if (abs_scale > max_abs_scale) {
            max_abs_scale = abs_scale;
            max_scale = scale;
        }
    }
    if (max_abs_scale < RF_GROUP_MAX_EPS) {
        memset(y, 0, sizeof *y);
        y->d = rf__fp32_to_fp16(0.f);
        return;
    }
    const float iscale = -128.f / max_scale;
    y->d = rf__fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < RF_QK_K / 16; ++ib) {
        const int l = rf__nearest_int(iscale * scales[ib]);
        y->scales[ib] = (int8_t)(l < 127 ? l : 127);
    }
    for (int j = 0; j < RF_QK_K / 16; ++j) {
        const float d = rf__fp16_to_fp32(y->d) * (float)y->scales[j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = rf__nearest_int(x[16 * j + ii] / d);
            l = l < -32 ? -32 : l > 31 ? 31 : l;
            L[16 * j + ii] = (int8_t)(l + 32);
        }
    }
    uint8_t *ql = y->ql, *qh = y->qh;
    for (int j = 0; j < RF_QK_K; j += 128, ql += 64, qh += 32) {
        for (int l = 0; l < 32; ++l) {
            const unsigned a = (uint8_t)L[j + l], b = (uint8_t)L[j + l + 32];
            const unsigned c = (uint8_t)L[j + l + 64], e = (uint8_t)L[j + l + 96];
            ql[l] = (uint8_t)((a & 0xF) | ((c & 0xF) << 4));
            ql[l + 32] = (uint8_t)((b & 0xF) | ((e & 0xF) << 4));
            qh[l] = (uint8_t)((a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
        }
    }
}

static void q6_k_row(const float *src, void *dst, int64_t n, const float *imatrix) {
    uint8_t *out = dst;
    for (int64_t i = 0; i < n / RF_QK_K; i++) {
        rf_block_q6_k y;
        q6_k_block(src + i * RF_QK_K, &y, imatrix ? imatrix + i * RF_QK_K : NULL);
        memcpy(out, &y, sizeof y);
        out += sizeof y;
    }
}

static size_t q6_k_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q6_K, q6_k_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q6_k = {
    .name = "Q6_K",
    .block_size = 256,
    .type_size = 210,
    .is_quantized = true,
    .to_f32 = q6_k_to_f32,
    .quantize = q6_k_quantize,
};
