/* f64.c - F64: IEEE-754 binary64, one value per 8-byte little-endian block.
 * Conversion to f32 rounds to nearest, ties to even (values beyond the f32
 * range become infinities, tiny ones subnormals or zero), as numpy's
 * astype(float32) does. ggml has no quantizer to F64, and neither do we. */
#include "quant/quant_impl.h"

static void f64_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) {
        double d;
        memcpy(&d, p + 8 * i, sizeof d);
        dst[i] = (float)d;
    }
}

const rf_type_traits rf__traits_f64 = {
    .name = "F64",
    .block_size = 1,
    .type_size = 8,
    .is_quantized = false,
    .to_f32 = f64_to_f32,
    .quantize = NULL,
};
