/*
 * tq1_0.c - TQ1_0: 256 ternary values (-1, 0, 1) per 54-byte super-block,
 * 1.6875 bits per value (BitNet b1.58 / TriLM weights).
 *
 *   offset  size  field
 *   0       48    qs     5 trits per byte, stored as a fixed-point fraction:
 *                        byte = ceil(t * 256 / 243) with t = the 5 trits
 *                        read as a base-3 number, first trit most
 *                        significant. Bytes 0..31 hold values 0..159 (trit
 *                        n of byte m is value 32n + m), bytes 32..47 hold
 *                        values 160..239 (trit n of byte 32+m is value
 *                        160 + 16n + m)
 *   48      4     qh     4 trits per byte, same encoding with a fifth zero
 *                        trit appended: trit n of byte m is value 240 + 4n + m
 *   52      2     d      f16 scale
 *
 * Trit n of a byte b is ((uint8_t)(b * 3^n) * 3) >> 8; value = (trit - 1) * d.
 *
 * Quantizer: ggml's quantize_row_tq1_0_ref (d = max|x|, trits
 * lroundf(x/d) + 1). ggml ignores importance weights for TQ1_0.
 */
#include <math.h>

#include "quant/quant_impl.h"

#define QK RF_QK_K

typedef struct RF_PACKED {
    uint8_t qs[(QK - 4 * QK / 64) / 5];
    uint8_t qh[QK / 64];
    uint16_t d;
} block_tq1_0;
RF_BLOCK_CHECK(block_tq1_0, 54);
RF_FIELD_AT(block_tq1_0, qh, 48);
RF_FIELD_AT(block_tq1_0, d, 52);

static void tq1_0_to_f32(const void *src, float *y, int64_t n) {
    static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};
    const block_tq1_0 *x = src;
    const size_t nqs = sizeof x->qs, nqh = sizeof x->qh;
    for (int64_t i = 0; i < n / QK; ++i) {
        const float d = rf__fp16_to_fp32(x[i].d);
        for (size_t j = 0; j < nqs - nqs % 32; j += 32)
            for (size_t k = 0; k < 5; ++k)
                for (size_t m = 0; m < 32; ++m) {
                    uint8_t q = (uint8_t)(x[i].qs[j + m] * pow3[k]);
                    int xi = ((uint16_t)q * 3) >> 8;
                    *y++ = (float)(xi - 1) * d;
                }
        for (size_t j = nqs - nqs % 32; j < nqs; j += 16)
            for (size_t k = 0; k < 5; ++k)
                for (size_t m = 0; m < 16; ++m) {
                    uint8_t q = (uint8_t)(x[i].qs[j + m] * pow3[k]);
                    int xi = ((uint16_t)q * 3) >> 8;
                    *y++ = (float)(xi - 1) * d;
                }
        for (size_t k = 0; k < 4; ++k)
            for (size_t j = 0; j < nqh; ++j) {
                uint8_t q = (uint8_t)(x[i].qh[j] * pow3[k]);
                int xi = ((uint16_t)q * 3) >> 8;
                *y++ = (float)(xi - 1) * d;
            }
    }
}

/* ceil(q * 256 / 243): the trits as a fraction of 3^5 in 8 bits */
static uint8_t tq1_pack(unsigned q) { return (uint8_t)((q * 256 + (243 - 1)) / 243); }

static void tq1_0_row(const float *x, void *vy, int64_t n, const float *imatrix) {
    (void)imatrix;
    block_tq1_0 *y = vy;
    const size_t nqs = sizeof y->qs, nqh = sizeof y->qh;
    for (int64_t i = 0; i < n / QK; i++) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) amax = RF_MAX(amax, fabsf(x[j]));
        const float d = amax;
        const float id = d ? 1.0f / d : 0.0f;
        y[i].d = rf__fp32_to_fp16(d);
        for (size_t j = 0; j < nqs - nqs % 32; j += 32) {
            for (size_t m = 0; m < 32; ++m) {
                unsigned q = 0;
                for (size_t k = 0; k < 5; ++k) q = q * 3 + (unsigned)(lroundf(x[m + k * 32] * id) + 1);
                y[i].qs[j + m] = tq1_pack(q & 0xff);
            }
            x += 5 * 32;
        }
        for (size_t j = nqs - nqs % 32; j < nqs; j += 16) {
            for (size_t m = 0; m < 16; ++m) {
                unsigned q = 0;
                for (size_t k = 0; k < 5; ++k) q = q * 3 + (unsigned)(lroundf(x[m + k * 16] * id) + 1);
                y[i].qs[j + m] = tq1_pack(q & 0xff);
            }
            x += 5 * 16;
        }
        for (size_t j = 0; j < nqh; ++j) {
            unsigned q = 0;
            for (size_t m = 0; m < 4; ++m) q = q * 3 + (unsigned)(lroundf(x[j + m * nqh] * id) + 1);
            q *= 3; /* the first value becomes the most significant of five trits */
            y[i].qh[j] = tq1_pack(q & 0xff);
        }
        x += 4 * nqh;
    }
}

static size_t tq1_0_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_TQ1_0, tq1_0_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_tq1_0 = {
    .name = "TQ1_0",
    .block_size = QK,
    .type_size = sizeof(block_tq1_0),
    .is_quantized = true,
    .to_f32 = tq1_0_to_f32,
    .quantize = tq1_0_quantize,
};
