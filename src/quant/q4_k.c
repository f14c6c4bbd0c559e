/* q4_k.c - Q4_K: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_q4_k = {
    .name = "Q4_K",
    .block_size = 256,
    .type_size = 144,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
