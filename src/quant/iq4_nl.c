/* iq4_nl.c - IQ4_NL: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_iq4_nl = {
    .name = "IQ4_NL",
    .block_size = 32,
    .type_size = 18,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
