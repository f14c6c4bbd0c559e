/* q4_k.c - Q4_K: 4-bit quants with 6-bit scales and mins, 4.5 bits/weight.
 *
 * Block of 256 values, 144 bytes (rf_block_q4_k in blocks_k.h):
 *   offset  0  d           half: scale of the sub-block scales
 *   offset  2  dmin        half: scale of the sub-block mins
 *   offset  4  scales[12]  8 scales sc_j and 8 mins m_j (sub-blocks of 32),
 *                          6 bits each, packed as rf__k4_scale_min describes
 *   offset 16  qs[128]     4-bit quants: value 64*c + l is qs[32*c + l] & 0xF,
 *                          value 64*c + 32 + l is qs[32*c + l] >> 4 (c = 0..3)
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

static void q4_k_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t b = 0; b < n / RF_QK_K; b++, p += sizeof(rf_block_q4_k)) {
        rf_block_q4_k x;
        memcpy(&x, p, sizeof x);
        const float d = rf__fp16_to_fp32(x.d);
        const float min = rf__fp16_to_fp32(x.dmin);
        float *y = dst + b * RF_QK_K;
        const uint8_t *q = x.qs;
        for (int is = 0; is < 8; is += 2, q += 32) {
            uint8_t sc, m;
            rf__k4_scale_min(is, x.scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = min * (float)m;
            rf__k4_scale_min(is + 1, x.scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = min * (float)m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (float)(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

/* Packs 8 scales and 8 mins (0..63) into the 12-byte layout. */
void rf__k4_pack_scales(const uint8_t *ls, const uint8_t *lm, uint8_t *q) {
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            q[j] = ls[j];
            q[j + 4] = lm[j];
        } else {
            q[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            q[j - 4] = (uint8_t)(q[j - 4] | ((ls[j] >> 4) << 6));
            q[j] = (uint8_t)(q[j] | ((lm[j] >> 4) << 6));
        }
    }
}

/* Re-derives the quants (0..nmax) of each sub-block of 32 from the final
 * scales and mins of a Q4_K/Q5_K block; sub-blocks whose scale is 0 keep the
 * search result already in L. */
void rf__k4_requantize(const float *x, const uint8_t *scales, uint16_t dh, uint16_t dminh, int nmax,
                       uint8_t *L) {
    for (int j = 0; j < RF_QK_K / 32; ++j) {
        uint8_t sc, m;
        rf__k4_scale_min(j, scales, &sc, &m);
        const float d = rf__fp16_to_fp32(dh) * (float)sc;
        if (!d) continue;
        const float dm = rf__fp16_to_fp32(dminh) * (float)m;
        for (int ii = 0; ii < 32; ++ii) {
            int l = rf__nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)(l < 0 ? 0 : l > nmax ? nmax : l);
        }
    }
}

/* Search shared by Q4_K and Q5_K without importance weights (ggml's
 * quantize_row_q4_K_ref / q5_K_ref before the bit packing): fills scales,
 * d, dmin and L (0..nmax). */
void rf__k4_block_ref(const float *x, int nmax, float rmin, float rdelta, int nstep, uint8_t *scales_out,
                      uint16_t *d_out, uint16_t *dmin_out, uint8_t *L) {
    uint8_t Laux[32], ls[8], lm[8];
    float weights[32], mins[RF_QK_K / 32], scales[RF_QK_K / 32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < RF_QK_K / 32; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = rf__make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta,
                                         nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < RF_QK_K / 32; ++j) {
        const uint8_t a = (uint8_t)rf__nearest_int(inv_scale * scales[j]);
        const uint8_t b = (uint8_t)rf__nearest_int(inv_min * mins[j]);
        ls[j] = a < 63 ? a : 63;
        lm[j] = b < 63 ? b : 63;
    }
    rf__k4_pack_scales(ls, lm, scales_out);
    *d_out = rf__fp32_to_fp16(max_scale / 63.f);
    *dmin_out = rf__fp32_to_fp16(max_min / 63.f);
    rf__k4_requantize(x, scales_out, *d_out, *dmin_out, nmax, L);
}

/* The same with importance weights (ggml's quantize_row_q4_K_impl /
 * q5_K_impl); quant_weights may be NULL (then weights av_x + |x|). ggml's
 * Q5_K clamps the quantized scales to 63 before packing, Q4_K does not
 * (clamp63); they differ only for degenerate input. */
void rf__k4_block_imatrix(const float *x, int nmax, const float *quant_weights, bool clamp63,
                          uint8_t *scales_out, uint16_t *d_out, uint16_t *dmin_out, uint8_t *L) {
    uint8_t Laux[32], Ls[8], Lm[8];
    float weights[32], sw[RF_QK_K / 32], mins[RF_QK_K / 32], scales[RF_QK_K / 32];
    float sum_x2 = 0;
    for (int l = 0; l < RF_QK_K; ++l) sum_x2 += x[l] * x[l];
    const float sigma2 = 2 * sum_x2 / RF_QK_K;
    const float av_x = sqrtf(sigma2);
    for (int j = 0; j < RF_QK_K / 32; ++j) {
        if (quant_weights) {
            const float *qw = quant_weights + 32 * j;
            for (int l = 0; l < 32; ++l) weights[l] = qw[l] * sqrtf(sigma2 + x[32 * j + l] * x[32 * j + l]);
        } else {
            for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
        }
        float sumw = 0;
        for (int l = 0; l < 32; ++l) sumw += weights[l];
        sw[j] = sumw;
        scales[j] = rf__make_qkx3_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.9f, 0.05f,
                                         36, false);
    }
    const float d_block = rf__make_qp_quants(RF_QK_K / 32, 63, scales, Ls, sw);
    const float m_block = rf__make_qp_quants(RF_QK_K / 32, 63, mins, Lm, sw);
    if (clamp63) {
        for (int j = 0; j < 8; ++j) {
            Ls[j] = Ls[j] < 63 ? Ls[j] : 63;
            Lm[j] = Lm[j] < 63 ? Lm[j] : 63;
        }
    }
    rf__k4_pack_scales(Ls, Lm, scales_out);
    *d_out = rf__fp32_to_fp16(d_block);
    *dmin_out = rf__fp32_to_fp16(m_block);
    rf__k4_requantize(x, scales_out, *d_out, *dmin_out, nmax, L);
}

static void q4_k_row(const float *src, void *dst, int64_t n, const float *imatrix) {
    uint8_t *out = dst;
    for (int64_t i = 0; i < n / RF_QK_K; i++) {
        rf_block_q4_k y;
        uint8_t L[RF_QK_K];
        const float *x = src + i * RF_QK_K;
        if (imatrix) rf__k4_block_imatrix(x, 15, imatrix + i * RF_QK_K, false, y.scales, &y.d, &y.dmin, L);
        else rf__k4_block_ref(x, 15, -1.f, 0.1f, 20, y.scales, &y.d, &y.dmin, L);
        for (int j = 0; j < RF_QK_K; j += 64)
            for (int l = 0; l < 32; ++l) y.qs[j / 2 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
        memcpy(out, &y, sizeof y);
        out += sizeof y;
    }
}

static size_t q4_k_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q4_K, q4_k_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q4_k = {
    .name = "Q4_K",
    .block_size = 256,
    .type_size = 144,
    .is_quantized = true,
    .to_f32 = q4_k_to_f32,
    .quantize = q4_k_quantize,
};
