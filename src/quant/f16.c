/* f16.c - F16: IEEE-754 binary16, one value per 2-byte little-endian block
 * (bit 15 sign, bits 14-10 exponent with bias 15, bits 9-0 fraction).
 * Conversion to f32 is exact; the quantizer rounds to nearest, ties to even,
 * overflow to infinity (rf__fp32_to_fp16, bit-exact with numpy's astype). */
#include "quant/quant_impl.h"

static void f16_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) dst[i] = rf__fp16_to_fp32(rf__rd16(p + 2 * i));
}

static void f16_row(const float *x, void *y, int64_t n, const float *imatrix) {
    (void)imatrix;
    uint8_t *p = y;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = rf__fp32_to_fp16(x[i]);
        memcpy(p + 2 * i, &h, 2);
    }
}

static size_t f16_quantize(const float *src, void *dst, int64_t nrows, int64_t n_per_row, const float *imatrix) {
    return rf__quantize_rows(RF_TYPE_F16, f16_row, src, dst, nrows, n_per_row, imatrix);
}

const rf_type_traits rf__traits_f16 = {
    .name = "F16",
    .block_size = 1,
    .type_size = 2,
    .is_quantized = false,
    .to_f32 = f16_to_f32,
    .quantize = f16_quantize,
};
