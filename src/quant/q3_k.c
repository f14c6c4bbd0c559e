/* q3_k.c - Q3_K: 3-bit symmetric quants with 6-bit scales, 3.4375 bits/weight.
 *
 * Block of 256 values, 110 bytes (rf_block_q3_k in blocks_k.h):
 *   offset   0  hmask[32]   high bit of each quant: value 32*k + l has its
 *                           high bit in bit k of hmask[l] (k = 0..7)
 *   offset  32  qs[64]      low 2 bits: value 128*h + 32*s + l is
 *                           (qs[32*h + l] >> 2*s) & 3
 *   offset  96  scales[12]  16 sub-block scales of 6 bits, biased by 32:
 *                           scale j = lo4 | hi2 << 4, lo4 = low nibble of
 *                           byte j (j < 8) or high nibble of byte j-8 (j >= 8),
 *                           hi2 = bits 2*(j/4)..+1 of byte 8 + j%4
 *   offset 108  d           half: super-block scale
 * Value i of sub-block j (16 values) = d * (scale_j - 32) * (q_i - 4), where
 * q_i = low2 | high << 2, i.e. q_i - 4 = low2 - (high ? 0 : 4).
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

static void q3_k_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t b = 0; b < n / RF_QK_K; b++, p += sizeof(rf_block_q3_k)) {
        rf_block_q3_k x;
        memcpy(&x, p, sizeof x);
        int8_t scales[16];
        rf__q3k_unpack_scales(x.scales, scales);
        const float d_all = rf__fp16_to_fp32(x.d);
        float *y = dst + b * RF_QK_K;
        const uint8_t *q = x.qs;
        uint8_t m = 1;
        int is = 0;
        for (int h = 0; h < RF_QK_K; h += 128) {
            for (int shift = 0; shift < 8; shift += 2, m = (uint8_t)(m << 1)) {
                for (int half = 0; half < 2; half++) {
                    const float dl = d_all * (float)scales[is++];
                    for (int l = 0; l < 16; ++l) {
                        const int k = 16 * half + l;
                        const int v = ((q[k] >> shift) & 3) - ((x.hmask[k] & m) ? 0 : 4);
                        *y++ = dl * (float)v;
                    }
                }
            }
            q += 32;
        }
    }
}

/* Stores the 16 biased scales Ls (0..63) in the 12-byte packing. */
static void q3_k_pack_scales(const int *Ls, uint8_t *packed) {
    memset(packed, 0, RF_K_SCALE_SIZE);
    for (int j = 0; j < 16; ++j) {
        const unsigned l = (unsigned)Ls[j];
        if (j < 8) packed[j] = (uint8_t)(l & 0xF);
        else packed[j - 8] = (uint8_t)(packed[j - 8] | ((l & 0xF) << 4));
        packed[j % 4 + 8] = (uint8_t)(packed[j % 4 + 8] | (((l >> 4) & 3) << (2 * (j / 4))));
    }
}

/* Re-derives the quants from the final scales, then packs them. L holds
 * quants offset by 4 on entry (the search result, kept where a scale is 0). */
static void q3_k_finish(const float *x, rf_block_q3_k *y, int8_t *L) {
    int8_t sc[16];
    rf__q3k_unpack_scales(y->scales, sc);
    const float dall = rf__fp16_to_fp32(y->d);
    for (int j = 0; j < RF_QK_K / 16; ++j) {
        const float d = dall * (float)sc[j];
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = rf__nearest_int(x[16 * j + ii] / d);
            l = l < -4 ? -4 : l > 3 ? 3 : l;
            L[16 * j + ii] = (int8_t)(l + 4);
        }
    }
    memset(y->hmask, 0, sizeof y->hmask);
    int m = 0;
    uint8_t hm = 1;
    for (int j = 0; j < RF_QK_K; ++j) {
        if (L[j] > 3) {
            y->hmask[m] |= hm;
            L[j] = (int8_t)(L[j] - 4);
        }
        if (++m == RF_QK_K / 8) {
            m = 0;
            hm = (uint8_t)(hm << 1);
        }
    }
    for (int j = 0; j < RF_QK_K; j += 128)
        for (int l = 0; l < 32; ++l)
            y->qs[j / 4 + l] = (uint8_t)((L[j + l] & 3) | ((L[j + l + 32] & 3) << 2) |
                                         ((L[j + l + 64] & 3) << 4) | ((L[j + l + 96] & 3) << 6));
}

/* ggml's quantize_row_q3_K_ref: one super-block. */
static void q3_k_block_ref(const float *x, rf_block_q3_k *y) {
    int8_t L[RF_QK_K];
    float scales[RF_QK_K / 16];
    float max_scale = 0, amax = 0;
    for (int j = 0; j < RF_QK_K / 16; ++j) {
        scales[j] = rf__make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
        const float scale = fabsf(scales[j]);
        if (scale > amax) {
            amax = scale;
            max_scale = scales[j];
        }
    }
    int Ls[16] = {0};
    if (max_scale) {
        const float iscale = -32.f / max_scale;
        for (int j = 0; j < RF_QK_K / 16; ++j) {
            /* ggml stores nearest_int's result in an int8 before clamping */
            int l = (int8_t)rf__nearest_int(iscale * scales[j]);
            Ls[j] = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
        }
        q3_k_pack_scales(Ls, y->scales);
        y->d = rf__fp32_to_fp16(1 / iscale);
    } else {
        memset(y->scales, 0, sizeof y->scales);
        y->d = rf__fp32_to_fp16(0.f);
    }
    q3_k_finish(x, y, L);
}

/* ggml's quantize_row_q3_K_impl (with importance weights): one super-block. */
static void q3_k_block_imatrix(const float *x, rf_block_q3_k *y, const float *quant_weights) {
    int8_t L[RF_QK_K], Ls8[RF_QK_K / 16];
    float scales[RF_QK_K / 16], weight[16], sw[RF_QK_K / 16];
    float sumx2 = 0;
    for (int j = 0; j < RF_QK_K; ++j) sumx2 += x[j] * x[j];
    const float sigma2 = 2 * sumx2 / RF_QK_K;
    for (int j = 0; j < RF_QK_K / 16; ++j) {
        const float *qw = quant_weights + 16 * j;
        for (int l = 0; l < 16; ++l) weight[l] = qw[l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
        float sumw = 0;
        for (int l = 0; l < 16; ++l) sumw += weight[l];
        sw[j] = sumw;
        scales[j] = rf__make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
    }
    const float d_block = rf__make_qx_quants(RF_QK_K / 16, 32, scales, Ls8, 1, sw);
    int Ls[16];
    for (int j = 0; j < 16; ++j) Ls[j] = Ls8[j];
    q3_k_pack_scales(Ls, y->scales);
    y->d = rf__fp32_to_fp16(d_block);
    q3_k_finish(x, y, L);
}

static void q3_k_row(const float *src, void *dst, int64_t n, const float *imatrix) {
    uint8_t *out = dst;
    for (int64_t i = 0; i < n / RF_QK_K; i++) {
        rf_block_q3_k y;
        const float *x = src + i * RF_QK_K;
        if (imatrix) q3_k_block_imatrix(x, &y, imatrix + i * RF_QK_K);
        else q3_k_block_ref(x, &y);
        memcpy(out, &y, sizeof y);
        out += sizeof y;
    }
}

static size_t q3_k_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q3_K, q3_k_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q3_k = {
    .name = "Q3_K",
    .block_size = 256,
    .type_size = 110,
    .is_quantized = true,
    .to_f32 = q3_k_to_f32,
    .quantize = q3_k_quantize,
};
