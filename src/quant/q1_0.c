/* q1_0.c - Q1_0: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_q1_0 = {
    .name = "Q1_0",
    .block_size = 128,
    .type_size = 18,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
