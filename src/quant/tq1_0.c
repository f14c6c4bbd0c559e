/* tq1_0.c - TQ1_0: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_tq1_0 = {
    .name = "TQ1_0",
    .block_size = 256,
    .type_size = 54,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
