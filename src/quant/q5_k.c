/* q5_k.c - Q5_K: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_q5_k = {
    .name = "Q5_K",
    .block_size = 256,
    .type_size = 176,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
