/* i32.c - I32: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_i32 = {
    .name = "I32",
    .block_size = 1,
    .type_size = 4,
    .is_quantized = false,
    .to_f32 = NULL,
    .quantize = NULL,
};
