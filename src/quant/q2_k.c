/* q2_k.c - Q2_K: 2-bit quants with 4-bit scales and mins, 2.625 bits/weight.
 *
 * Block of 256 values, 84 bytes (rf_block_q2_k in blocks_k.h):
 *   offset  0  scales[16]  sub-block j (16 values each): low nibble = scale
 *                          sc_j, high nibble = min m_j
 *   offset 16  qs[64]      2-bit quants q: value 128*h + 32*s + l (h = 0..1,
 *                          s = 0..3, l = 0..31) is (qs[32*h + l] >> 2*s) & 3
 *   offset 80  d           half: scale of the scales
 *   offset 82  dmin        half: scale of the mins
 * Value i of sub-block j = d*sc_j * q_i - dmin*m_j.
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

static void q2_k_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t b = 0; b < n / RF_QK_K; b++, p += sizeof(rf_block_q2_k)) {
        rf_block_q2_k x;
        memcpy(&x, p, sizeof x);
        const float d = rf__fp16_to_fp32(x.d);
        const float min = rf__fp16_to_fp32(x.dmin);
        float *y = dst + b * RF_QK_K;
        const uint8_t *q = x.qs;
        int is = 0;
        for (int h = 0; h < RF_QK_K; h += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    const uint8_t sc = x.scales[is++];
                    const float dl = d * (float)(sc & 0xF);
                    const float ml = min * (float)(sc >> 4);
                    for (int l = 0; l < 16; ++l)
                        *y++ = dl * (float)((q[16 * half + l] >> shift) & 3) - ml;
                }
            }
            q += 32;
        }
    }
}

/* Packs the 256 quants L (0..3) into qs. */
static void q2_k_pack(const uint8_t *L, rf_block_q2_k *y) {
    for (int j = 0; j < RF_QK_K; j += 128)
        for (int l = 0; l < 32; ++l)
            y->qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                         (L[j + l + 96] << 6));
}

/* Re-derives each quant from the final (rounded) scales and mins. */
static void q2_k_requantize(const float *x, rf_block_q2_k *y, float dm, float mm, uint8_t *L) {
    for (int j = 0; j < RF_QK_K / 16; ++j) {
        const float d = dm * (float)(y->scales[j] & 0xF);
        if (!d) continue;
        const float m = mm * (float)(y->scales[j] >> 4);
        for (int ii = 0; ii < 16; ++ii) {
            int l = rf__nearest_int((x[16 * j + ii] + m) / d);
            L[16 * j + ii] = (uint8_t)(l < 0 ? 0 : l > 3 ? 3 : l);
        }
    }
}

/* ggml's quantize_row_q2_K_ref: one super-block. */
static void q2_k_block_ref(const float *x, rf_block_q2_k *y) {
    uint8_t L[RF_QK_K], Laux[16];
    float weights[16], mins[RF_QK_K / 16], scales[RF_QK_K / 16];
    const float q4scale = 15.f;
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < RF_QK_K / 16; ++j) {
        for (int l = 0; l < 16; ++l) weights[l] = fabsf(x[16 * j + l]);
        scales[j] = rf__make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                                         0.1f, 15, true);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
        const float iscale = q4scale / max_scale;
        for (int j = 0; j < RF_QK_K / 16; ++j) y->scales[j] = (uint8_t)rf__nearest_int(iscale * scales[j]);
        y->d = rf__fp32_to_fp16(max_scale / q4scale);
    } else {
        memset(y->scales, 0, sizeof y->scales);
        y->d = rf__fp32_to_fp16(0.f);
    }
    if (max_min > 0) {
        const float iscale = q4scale / max_min;
        for (int j = 0; j < RF_QK_K / 16; ++j) {
            unsigned l = (unsigned)rf__nearest_int(iscale * mins[j]);
            y->scales[j] = (uint8_t)(y->scales[j] | (l << 4));
        }
        y->dmin = rf__fp32_to_fp16(max_min / q4scale);
    } else {
        y->dmin = rf__fp32_to_fp16(0.f);
    }
    q2_k_requantize(x, y, rf__fp16_to_fp32(y->d), rf__fp16_to_fp32(y->dmin), L);
    q2_k_pack(L, y);
}

/* ggml's quantize_row_q2_K_impl (with importance weights): one super-block. */
static void q2_k_block_imatrix(const float *x, rf_block_q2_k *y, const float *quant_weights) {
    uint8_t L[RF_QK_K], Laux[16], Ls[RF_QK_K / 16], Lm[RF_QK_K / 16];
    float mins[RF_QK_K / 16], scales[RF_QK_K / 16], sw[RF_QK_K / 16], weight[16];
    memset(sw, 0, sizeof sw);
    float sumx2 = 0;
    for (int j = 0; j < RF_QK_K; ++j) sumx2 += x[j] * x[j];
    const float sigma2 = sumx2 / RF_QK_K;
    for (int j = 0; j < RF_QK_K / 16; ++j) {
        const float *qw = quant_weights + 16 * j;
        for (int l = 0; l < 16; ++l) weight[l] = qw[l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
        for (int l = 0; l < RF_QK_K / 16; ++l) sw[j] += weight[l];
        scales[j] = rf__make_qkx3_quants(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, -0.9f, 0.05f,
                                         36, false);
    }
    float dm = rf__make_qp_quants(RF_QK_K / 16, 15, scales, Ls, sw);
    float mm = rf__make_qp_quants(RF_QK_K / 16, 15, mins, Lm, sw);
    y->d = rf__fp32_to_fp16(dm);
    y->dmin = rf__fp32_to_fp16(mm);
    dm = rf__fp16_to_fp32(y->d);
    mm = rf__fp16_to_fp32(y->dmin);
    for (int j = 0; j < RF_QK_K / 16; ++j) y->scales[j] = (uint8_t)(Ls[j] | ((unsigned)Lm[j] << 4));
    q2_k_requantize(x, y, dm, mm, L);
    q2_k_pack(L, y);
}

static void q2_k_row(const float *src, void *dst, int64_t n, const float *imatrix) {
    uint8_t *out = dst;
    for (int64_t i = 0; i < n / RF_QK_K; i++) {
        rf_block_q2_k y;
        const float *x = src + i * RF_QK_K;
        if (imatrix) q2_k_block_imatrix(x, &y, imatrix + i * RF_QK_K);
        else q2_k_block_ref(x, &y);
        memcpy(out, &y, sizeof y);
        out += sizeof y;
    }
}

static size_t q2_k_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q2_K, q2_k_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q2_k = {
    .name = "Q2_K",
    .block_size = 256,
    .type_size = 84,
    .is_quantized = true,
    .to_f32 = q2_k_to_f32,
    .quantize = q2_k_quantize,
};
