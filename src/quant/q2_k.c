/* q2_k.c - Q2_K: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_q2_k = {
    .name = "Q2_K",
    .block_size = 256,
    .type_size = 84,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
