/* bf16.c - BF16: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_bf16 = {
    .name = "BF16",
    .block_size = 1,
    .type_size = 2,
    .is_quantized = false,
    .to_f32 = NULL,
    .quantize = NULL,
};
