/* iq2_s.c - IQ2_S: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_iq2_s = {
    .name = "IQ2_S",
    .block_size = 256,
    .type_size = 82,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
