/* mxfp4.c - MXFP4: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_mxfp4 = {
    .name = "MXFP4",
    .block_size = 32,
    .type_size = 17,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
