/* q5_1.c - Q5_1: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_q5_1 = {
    .name = "Q5_1",
    .block_size = 32,
    .type_size = 24,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
