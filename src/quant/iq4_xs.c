/*
 * iq4_xs.c - IQ4_XS: 256 values per 136-byte super-block of eight 32-value
 * blocks, 4-bit codes into the IQ4_NL table (rf__kvalues_iq4nl) with a 6-bit
 * scale per block.
 *
 *   offset  size  field
 *   0       2     d         f16 super-block scale
 *   2       2     scales_h  little-endian uint16: bits 2b..2b+1 are the high
 *                           2 bits of block b's scale
 *   4       4     scales_l  low 4 bits of the block scales: block b in the
 *                           low (b even) or high (b odd) nibble of byte b/2
 *   8       128   qs        16 bytes per block: value j (0..15) of block b in
 *                           the low nibble of qs[16b+j], value j+16 in the
 *                           high nibble
 *
 * value = d * (ls - 32) * kvalues_iq4nl[q], ls the block's 6-bit scale
 *
 * Quantizer: ggml's quantize_iq4_xs: per block the IQ4_NL search (15 trial
 * scales, weighted least squares), then block scales rounded to 6 bits
 * against d = -max_scale/32 and every code chosen again.
 */
#include "quant/quant_impl.h"

#define QK RF_QK_K

typedef struct RF_PACKED {
    uint16_t d;
    uint16_t scales_h;
    uint8_t scales_l[QK / 64];
    uint8_t qs[QK / 2];
} block_iq4_xs;
RF_BLOCK_CHECK(block_iq4_xs, 136);
RF_FIELD_AT(block_iq4_xs, scales_h, 2);
RF_FIELD_AT(block_iq4_xs, scales_l, 4);
RF_FIELD_AT(block_iq4_xs, qs, 8);

static void iq4_xs_to_f32(const void *src, float *y, int64_t n) {
    const block_iq4_xs *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        const uint8_t *qs = x[i].qs;
        const float d = rf__fp16_to_fp32(x[i].d);
        const unsigned scales_h = x[i].scales_h;
        for (int ib = 0; ib < QK / 32; ++ib) {
            const int ls = ((x[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (int)(((scales_h >> 2 * ib) & 3) << 4);
            const float dl = d * (ls - 32);
            for (int j = 0; j < 16; ++j) {
                y[j] = dl * rf__kvalues_iq4nl[qs[j] & 0xf];
                y[j + 16] = dl * rf__kvalues_iq4nl[qs[j] >> 4];
            }
            y += 32;
            qs += 16;
        }
    }
}

static void iq4_xs_row(const float *x, void *vy, int64_t n, const float *imatrix) {
    block_iq4_xs *y = vy;
    uint8_t L[QK];
    float weight[32];
    float scales[QK / 32];
    for (int64_t ibl = 0; ibl < n / QK; ++ibl) {
        const float *qw = imatrix ? imatrix + QK * ibl : NULL;
        uint8_t *b = (uint8_t *)&y[ibl];
        rf__iq4_quantize_super_block(QK, 32, x + QK * ibl, b + offsetof(block_iq4_xs, d), y[ibl].qs,
                                     b + offsetof(block_iq4_xs, scales_h), y[ibl].scales_l, scales, weight, L,
                                     rf__kvalues_iq4nl, qw, 7);
    }
}

static size_t iq4_xs_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_IQ4_XS, iq4_xs_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_iq4_xs = {
    .name = "IQ4_XS",
    .block_size = QK,
    .type_size = sizeof(block_iq4_xs),
    .is_quantized = true,
    .to_f32 = iq4_xs_to_f32,
    .quantize = iq4_xs_quantize,
};
