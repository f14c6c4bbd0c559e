/*
 * tq2_0.c - TQ2_0: 256 ternary values (-1, 0, 1) per 66-byte super-block,
 * 2 bits per value (BitNet b1.58 / TriLM weights).
 *
 *   offset  size  field
 *   0       64    qs     2-bit codes q (0, 1, 2): in each 32-byte group g,
 *                        bits 2n..2n+1 of byte 32g+m hold value 128g + 32n + m
 *   64      2     d      f16 scale
 *
 * value = (q - 1) * d
 *
 * Quantizer: ggml's quantize_row_tq2_0_ref (d = max|x|, codes
 * lroundf(x/d) + 1). ggml ignores importance weights for TQ2_0.
 */
#include <math.h>

#include "quant/quant_impl.h"

#define QK RF_QK_K

typedef struct RF_PACKED {
    uint8_t qs[QK / 4];
    uint16_t d;
} block_tq2_0;
RF_BLOCK_CHECK(block_tq2_0, 66);
RF_FIELD_AT(block_tq2_0, d, 64);

static void tq2_0_to_f32(const void *src, float *y, int64_t n) {
    const block_tq2_0 *x = src;
    for (int64_t i = 0; i < n / QK; ++i) {
        const float d = rf__fp16_to_fp32(x[i].d);
        for (size_t j = 0; j < sizeof x->qs; j += 32)
            for (size_t l = 0; l < 4; ++l)
                for (size_t m = 0; m < 32; ++m) {
                    int q = (x[i].qs[j + m] >> (l * 2)) & 3;
                    *y++ = (float)(q - 1) * d;
                }
    }
}

static void tq2_0_row(const float *x, void *vy, int64_t n, const float *imatrix) {
    (void)imatrix;
    block_tq2_0 *y = vy;
    for (int64_t i = 0; i < n / QK; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) amax = RF_MAX(amax, fabsf(x[j]));
        const float d = amax;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = rf__fp32_to_fp16(d);
        for (size_t j = 0; j < sizeof y->qs; j += 32) {
            for (size_t m = 0; m < 32; ++m) {
                unsigned q = 0;
                for (size_t l = 0; l < 4; ++l) {
                    long xi = lroundf(x[m + l * 32] * id) + 1;
                    q += (unsigned)(xi & 3) << (2 * l);
                }
                y[i].qs[j + m] = (uint8_t)q;
            }
            x += 4 * 32;
        }
    }
}

static size_t tq2_0_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_TQ2_0, tq2_0_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_tq2_0 = {
    .name = "TQ2_0",
    .block_size = QK,
    .type_size = sizeof(block_tq2_0),
    .is_quantized = true,
    .to_f32 = tq2_0_to_f32,
    .quantize = tq2_0_quantize,
};
