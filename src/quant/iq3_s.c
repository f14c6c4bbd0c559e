/* iq3_s.c - IQ3_S: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_iq3_s = {
    .name = "IQ3_S",
    .block_size = 256,
    .type_size = 110,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
