/* q6_k.c - Q6_K: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_q6_k = {
    .name = "Q6_K",
    .block_size = 256,
    .type_size = 210,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
