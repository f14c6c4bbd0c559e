/* iq2_xs.c - IQ2_XS: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_iq2_xs = {
    .name = "IQ2_XS",
    .block_size = 256,
    .type_size = 74,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
