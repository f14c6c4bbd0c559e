/*
 * nvfp4.c - NVFP4: 64 values per 36-byte block of four 16-value sub-blocks,
 * E2M1 codes with an unsigned E4M3 scale per sub-block.
 *
 *   offset  size  field
 *   0       4     d      UE4M3 scale of sub-block s in d[s] (bias 7, 4
 *                        exponent and 3 mantissa bits; 0x00 and 0x7F read
 *                        as 0)
 *   4       32    qs     8 bytes per sub-block: value j (0..7) of sub-block
 *                        s in the low nibble of qs[8s+j], value j+8 in the
 *                        high nibble; 4-bit E2M1 codes as in MXFP4
 *
 * value = kvalues_mxfp4[q] * ue4m3(d[s]) / 2, the table holding doubled
 * E2M1 values.
 *
 * Quantizer: ggml's quantize_row_nvfp4_ref: per sub-block the scale
 * ue4m3(max|x| / 6), each code the nearest table entry. ggml ignores
 * importance weights for NVFP4. (The global f32 tensor scale of the NVIDIA
 * format is not part of ggml's block; a model carries it separately.)
 */
#include <math.h>

#include "quant/quant_impl.h"

#define QK 64
#define QK_SUB 16

typedef struct RF_PACKED {
    uint8_t d[QK / QK_SUB];
    uint8_t qs[QK / 2];
} block_nvfp4;
RF_BLOCK_CHECK(block_nvfp4, 36);
RF_FIELD_AT(block_nvfp4, qs, 4);

static void nvfp4_to_f32(const void *src, float *y, int64_t n) {
    const block_nvfp4 *x = src;
    for (int64_t i = 0; i < n / QK; i++) {
        for (int s = 0; s < QK / QK_SUB; s++) {
            const float d = rf__ue4m3_to_fp32_half(x[i].d[s]);
            float *yb = y + i * QK + s * QK_SUB;
            for (int j = 0; j < QK_SUB / 2; ++j) {
                const int8_t v0 = rf__kvalues_mxfp4[x[i].qs[s * (QK_SUB / 2) + j] & 0x0F];
                const int8_t v1 = rf__kvalues_mxfp4[x[i].qs[s * (QK_SUB / 2) + j] >> 4];
                yb[j] = v0 * d;
                yb[j + QK_SUB / 2] = v1 * d;
            }
        }
    }
}

static void nvfp4_row(const float *x, void *vy, int64_t n, const float *imatrix) {
    (void)imatrix;
    block_nvfp4 *y = vy;
    for (int64_t i = 0; i < n / QK; i++) {
        for (int s = 0; s < QK / QK_SUB; s++) {
            const float *xb = x + i * QK + s * QK_SUB;
            float amax = 0.0f;
            for (int j = 0; j < QK_SUB; j++)
                if (amax < fabsf(xb[j])) amax = fabsf(xb[j]);
            const uint8_t ue = rf__fp32_to_ue4m3(amax / 6.0f);
            y[i].d[s] = ue;
            const float d = rf__ue4m3_to_fp32_half(ue);
            for (int j = 0; j < QK_SUB / 2; ++j) {
                const uint8_t x0 = rf__mxfp4_best_index(xb[j], d);
                const uint8_t x1 = rf__mxfp4_best_index(xb[QK_SUB / 2 + j], d);
                y[i].qs[s * (QK_SUB / 2) + j] = (uint8_t)(x0 | (x1 << 4));
            }
        }
    }
}

static size_t nvfp4_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_NVFP4, nvfp4_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_nvfp4 = {
    .name = "NVFP4",
    .block_size = QK,
    .type_size = sizeof(block_nvfp4),
    .is_quantized = true,
    .to_f32 = nvfp4_to_f32,
    .quantize = nvfp4_quantize,
};
