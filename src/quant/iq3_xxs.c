/* iq3_xxs.c - IQ3_XXS: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_iq3_xxs = {
    .name = "IQ3_XXS",
    .block_size = 256,
    .type_size = 98,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
