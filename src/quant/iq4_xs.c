/* iq4_xs.c - IQ4_XS: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_iq4_xs = {
    .name = "IQ4_XS",
    .block_size = 256,
    .type_size = 136,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
