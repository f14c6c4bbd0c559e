/* iq1_m.c - IQ1_M: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_iq1_m = {
    .name = "IQ1_M",
    .block_size = 256,
    .type_size = 56,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
