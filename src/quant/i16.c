/* i16.c - I16: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_i16 = {
    .name = "I16",
    .block_size = 1,
    .type_size = 2,
    .is_quantized = false,
    .to_f32 = NULL,
    .quantize = NULL,
};
