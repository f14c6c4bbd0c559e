/* q4_0.c - Q4_0: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_q4_0 = {
    .name = "Q4_0",
    .block_size = 32,
    .type_size = 18,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
