/* tq2_0.c - TQ2_0: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_tq2_0 = {
    .name = "TQ2_0",
    .block_size = 256,
    .type_size = 66,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
