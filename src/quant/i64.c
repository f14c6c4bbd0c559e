/* i64.c - I64: signed 8-byte little-endian integers, one per block. These
 * hold integer data (token ids, positions, counts), not weights: they are not
 * float tensors, so there is no conversion to f32 and no quantizer, as in
 * ggml (its I64 type has no to_float either). Readers use the raw values. */
#include "quant/quant.h"

const rf_type_traits rf__traits_i64 = {
    .name = "I64",
    .block_size = 1,
    .type_size = 8,
    .is_quantized = false,
    .to_f32 = NULL,
    .quantize = NULL,
};
