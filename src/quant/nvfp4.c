/* nvfp4.c - NVFP4: block layout, conversion to and from f32. */
#include "quant/quant.h"

const rf_type_traits rf__traits_nvfp4 = {
    .name = "NVFP4",
    .block_size = 64,
    .type_size = 36,
    .is_quantized = true,
    .to_f32 = NULL,
    .quantize = NULL,
};
