/* q3_k.c - Q3_K: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_q3_k = {
    .name = "Q3_K",
    .block_size = 256,
    .type_size = 110,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
