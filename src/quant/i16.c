/* i16.c - I16: signed 2-byte little-endian integers, one per block. These
 * hold integer data (token ids, positions, counts), not weights: they are not
 * float tensors, so there is no conversion to f32 and no quantizer, as in
 * ggml (its I16 type has no to_float either). Readers use the raw values. */
#include "quant/quant.h"

const rf_type_traits rf__traits_i16 = {
    .name = "I16",
    .block_size = 1,
    .type_size = 2,
    .is_quantized = false,
    .to_f32 = NULL,
    .quantize = NULL,
};
