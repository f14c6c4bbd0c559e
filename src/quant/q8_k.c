/* q8_k.c - Q8_K: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_q8_k = {
    .name = "Q8_K",
    .block_size = 256,
    .type_size = 292,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
