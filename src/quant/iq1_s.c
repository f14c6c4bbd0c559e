/* iq1_s.c - IQ1_S: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_iq1_s = {
    .name = "IQ1_S",
    .block_size = 256,
    .type_size = 50,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
