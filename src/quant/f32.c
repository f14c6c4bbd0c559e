/* f32.c - F32: IEEE-754 binary32, one value per 4-byte little-endian block.
 * Conversion to f32 is a copy; the quantizer is a copy. */
#include "quant/quant_impl.h"

static void f32_to_f32(const void *src, float *dst, int64_t n) {
    if (n > 0) memcpy(dst, src, (size_t)n * sizeof(float));
}

static void f32_row(const float *x, void *y, int64_t n, const float *imatrix) {
    (void)imatrix;
    memcpy(y, x, (size_t)n * sizeof(float));
}

static size_t f32_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_F32, f32_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_f32 = {
    .name = "F32",
    .block_size = 1,
    .type_size = 4,
    .is_quantized = false,
    .to_f32 = f32_to_f32,
    .quantize = f32_quantize,
};
