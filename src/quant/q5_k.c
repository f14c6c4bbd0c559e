/* q5_k.c - Q5_K: 5-bit quants with 6-bit scales and mins, 5.5 bits/weight.
 *
 * Block of 256 values, 176 bytes (rf_block_q5_k in blocks_k.h):
 *   offset  0  d           half: scale of the sub-block scales
 *   offset  2  dmin        half: scale of the sub-block mins
 *   offset  4  scales[12]  8 scales and 8 mins, 6 bits each, packed as in Q4_K
 *   offset 16  qh[32]      fifth bits: value 32*k + l has its fifth bit in
 *                          bit k of qh[l] (k = 0..7)
 *   offset 48  qs[128]     low 4 bits, arranged as Q4_K's qs
 * Value i of sub-block j (32 values) = d*sc_j * q_i - dmin*m_j, q_i in 0..31.
 */
#include <string.h>

#include "core/core.h"
#include "quant/blocks_k.h"
#include "quant/quant.h"
#include "quant/quant_impl.h"
#include "quant/quant_search.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static void q5_k_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t b = 0; b < n / RF_QK_K; b++, p += sizeof(rf_block_q5_k)) {
        rf_block_q5_k x;
        memcpy(&x, p, sizeof x);
        const float d = rf__fp16_to_fp32(x.d);
        const float min = rf__fp16_to_fp32(x.dmin);
        float *y = dst + b * RF_QK_K;
        const uint8_t *ql = x.qs;
        unsigned u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            uint8_t sc, m;
            rf__k4_scale_min(is, x.scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = min * (float)m;
            rf__k4_scale_min(is + 1, x.scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = min * (float)m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (float)((ql[l] & 0xF) + (x.qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (float)((ql[l] >> 4) + (x.qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

static void q5_k_pack(const uint8_t *L, rf_block_q5_k *y) {
    uint8_t *ql = y->qs;
    memset(y->qh, 0, sizeof y->qh);
    unsigned m1 = 1, m2 = 2;
    for (int n = 0; n < RF_QK_K; n += 64, m1 <<= 2, m2 <<= 2, ql += 32) {
        for (int j = 0; j < 32; ++j) {
            int l1 = L[n + j];
            if (l1 > 15) {
                l1 -= 16;
                y->qh[j] = (uint8_t)(y->qh[j] | m1);
            }
            int l2 = L[n + j + 32];
            if (l2 > 15) {
                l2 -= 16;
                y->qh[j] = (uint8_t)(y->qh[j] | m2);
            }
            ql[j] = (uint8_t)(l1 | (l2 << 4));
        }
    }
}

static void q5_k_row(const float *src, void *dst, int64_t n, const float *imatrix) {
    uint8_t *out = dst;
    for (int64_t i = 0; i < n / RF_QK_K; i++) {
        rf_block_q5_k y;
        uint8_t L[RF_QK_K];
        const float *x = src + i * RF_QK_K;
        if (imatrix) rf__k4_block_imatrix(x, 31, imatrix + i * RF_QK_K, true, y.scales, &y.d, &y.dmin, L);
        else rf__k4_block_ref(x, 31, -0.5f, 0.1f, 15, y.scales, &y.d, &y.dmin, L);
        q5_k_pack(L, &y);
        memcpy(out, &y, sizeof y);
        out += sizeof y;
    }
}

static size_t q5_k_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q5_K, q5_k_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q5_k = {
    .name = "Q5_K",
    .block_size = 256,
    .type_size = 176,
    .is_quantized = true,
    .to_f32 = q5_k_to_f32,
    .quantize = q5_k_quantize,
};
