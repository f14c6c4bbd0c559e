/* q8_k.c - Q8_K: 8-bit quants with an f32 scale and group sums. This is the
 * activation format the K-quant and i-quant dot products pair with; it does
 * not appear in model files.
 *
 * Block of 256 values, 292 bytes (rf_block_q8_k in blocks_k.h):
 *   offset   0  d          f32 scale
 *   offset   4  qs[256]    int8 quants
 *   offset 260  bsums[16]  int16: bsums[j] = sum of qs[16*j .. 16*j+15]
 * Value i = d * qs[i].
 */
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "quant/blocks_k.h"
#include "quant/quant.h"
#include "quant/quant_impl.h"
#include "quant/quant_search.h"

static void q8_k_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t b = 0; b < n / RF_QK_K; b++, p += sizeof(rf_block_q8_k)) {
        float d;
        int8_t qs[RF_QK_K];
        memcpy(&d, p + offsetof(rf_block_q8_k, d), sizeof d);
        memcpy(qs, p + offsetof(rf_block_q8_k, qs), sizeof qs);
        float *y = dst + b * RF_QK_K;
        for (int j = 0; j < RF_QK_K; ++j) y[j] = d * (float)qs[j];
    }
}

/* ggml's quantize_row_q8_K_ref: one block. */
static void q8_k_block(const float *x, rf_block_q8_k *y) {
    float max = 0, amax = 0;
    for (int j = 0; j < RF_QK_K; ++j) {
        const float ax = fabsf(x[j]);
        if (ax > amax) {
            amax = ax;
            max = x[j];
        }
    }
    if (!amax) {
        /* ggml leaves bsums untouched here; they are the sums of zeros */
        memset(y, 0, sizeof *y);
        return;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < RF_QK_K; ++j) {
        const int v = rf__nearest_int(iscale * x[j]);
        y->qs[j] = (int8_t)(v < 127 ? v : 127);
    }
    for (int j = 0; j < RF_QK_K / 16; ++j) {
        int sum = 0;
        for (int ii = 0; ii < 16; ++ii) sum += y->qs[j * 16 + ii];
        y->bsums[j] = (int16_t)sum;
    }
    y->d = 1 / iscale;
}

static void q8_k_row(const float *src, void *dst, int64_t n, const float *imatrix) {
    (void)imatrix; /* Q8_K has no weighted variant */
    uint8_t *out = dst;
    for (int64_t i = 0; i < n / RF_QK_K; i++) {
        rf_block_q8_k y;
        q8_k_block(src + i * RF_QK_K, &y);
        memcpy(out, &y, sizeof y);
        out += sizeof y;
    }
}

static size_t q8_k_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_Q8_K, q8_k_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_q8_k = {
    .name = "Q8_K",
    .block_size = 256,
    .type_size = 292,
    .is_quantized = true,
    .to_f32 = q8_k_to_f32,
    .quantize = q8_k_quantize,
};
