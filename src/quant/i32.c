/* i32.c - I32: signed 4-byte little-endian integers, one per block. These
 * hold integer data (token ids, positions, counts), not weights: they are not
 * float tensors, so there is no conversion to f32 and no quantizer, as in
 * ggml (its I32 type has no to_float either). Readers use the raw values. */
#include "quant/quant.h"

const rf_type_traits rf__traits_i32 = {
    .name = "I32",
    .block_size = 1,
    .type_size = 4,
    .is_quantized = false,
    .to_f32 = NULL,
    .quantize = NULL,
};
