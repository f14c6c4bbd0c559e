/*
 * iq4_nl.c - IQ4_NL: 32 values per 18-byte block, 4-bit codes into a fixed
 * non-linear table of 16 levels (rf__kvalues_iq4nl: -127 .. 113).
 *
 *   offset  size  field
 *   0       2     d      f16 scale
 *   2       16    qs     4-bit codes q: value j (0..15) in the low nibble of
 *                        qs[j], value j+16 in the high nibble of qs[j]
 *
 * value = d * kvalues_iq4nl[q]
 *
 * Quantizer: ggml's quantize_iq4_nl (what llama.cpp's quantize uses): an
 * initial scale from the signed maximum, then 15 trial scales, each scored by
 * weighted least squares (weights x^2, or imatrix * sqrt(sigma^2 + x^2)),
 * the best kept, and the codes chosen again for the final scale.
 */
#include "quant/quant_impl.h"

#define QK 32

typedef struct RF_PACKED {
    uint16_t d;
    uint8_t qs[QK / 2];
} block_iq4_nl;
RF_BLOCK_CHECK(block_iq4_nl, 18);
RF_FIELD_AT(block_iq4_nl, qs, 2);

static void iq4_nl_to_f32(const void *src, float *y, int64_t n) {
    const block_iq4_nl *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        const float d = rf__fp16_to_fp32(x[i].d);
        for (int j = 0; j < QK / 2; ++j) {
            y[i * QK + j] = d * rf__kvalues_iq4nl[x[i].qs[j] & 0xf];
            y[i * QK + j + QK / 2] = d * rf__kvalues_iq4nl[x[i].qs[j] >> 4];
        }
    }
}

static void iq4_nl_row(const float *x, void *vy, int64_t n, const float *imatrix) {
    block_iq4_nl *y = vy;
    uint8_t L[QK];
    float weight[QK];
    float scale;
    for (int64_t ib = 0; ib < n / QK; ++ib) {
        const float *qw = imatrix ? imatrix + QK * ib : NULL;
        rf__iq4_quantize_super_block(QK, 32, x + QK * ib, (uint8_t *)&y[ib] + offsetof(block_iq4_nl, d),
                                     y[ib].qs, NULL, NULL, &scale, weight, L, rf__kvalues_iq4nl, qw, 7);
    }
}

static size_t iq4_nl_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_IQ4_NL, iq4_nl_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_iq4_nl = {
    .name = "IQ4_NL",
    .block_size = QK,
    .type_size = sizeof(block_iq4_nl),
    .is_quantized = true,
    .to_f32 = iq4_nl_to_f32,
    .quantize = iq4_nl_quantize,
};
