/* i8.c - I8: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_i8 = {
    .name = "I8",
    .block_size = 1,
    .type_size = 1,
    .is_quantized = false,
    .to_f32 = NULL,
    .quantize = NULL,
};
