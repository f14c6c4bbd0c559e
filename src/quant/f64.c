/* f64.c - F64: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_f64 = {
    .name = "F64",
    .block_size = 1,
    .type_size = 8,
    .is_quantized = false,
    .to_f32 = NULL,
    .quantize = NULL,
};
