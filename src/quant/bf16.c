/* bf16.c - BF16: bfloat16, one value per 2-byte little-endian block: the top
 * 16 bits of an IEEE-754 binary32 (bit 15 sign, bits 14-7 exponent with bias
 * 127, bits 6-0 fraction). Conversion to f32 is exact (a shift); the quantizer
 * rounds to nearest, ties to even, and keeps NaN a quiet NaN, as ggml's
 * ggml_compute_fp32_to_bf16 and gguf's BF16 quantizer do. */
#include "quant/quant_impl.h"

static void bf16_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) dst[i] = rf__bf16_to_fp32(rf__rd16(p + 2 * i));
}

static void bf16_row(const float *x, void *y, int64_t n, const float *imatrix) {
    (void)imatrix;
    uint8_t *p = y;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = rf__fp32_to_bf16(x[i]);
        memcpy(p + 2 * i, &h, 2);
    }
}

static size_t bf16_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_BF16, bf16_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_bf16 = {
    .name = "BF16",
    .block_size = 1,
    .type_size = 2,
    .is_quantized = false,
    .to_f32 = bf16_to_f32,
    .quantize = bf16_quantize,
};
