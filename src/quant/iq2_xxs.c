/* iq2_xxs.c - IQ2_XXS: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_iq2_xxs = {
    .name = "IQ2_XXS",
    .block_size = 256,
    .type_size = 66,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
