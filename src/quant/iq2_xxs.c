/* iq2_xxs.c - IQ2_XXS: block layout, conversion to f32.
 *
 * 2.0625 bits per weight. A block holds 256 values as 8 groups of 32; each
 * group is 4 runs of 8 values taken from the 256-entry E8 lattice grid
 * rf__iq2xxs_grid, with per-run signs and one 4-bit scale per group.
 *
 *   offset  size  field
 *        0     2  d       f16 super-block scale
 *        2    64  qs      8 groups x 8 bytes: for group g, bytes 8g..8g+3 are
 *                         the grid indices of runs 0..3; bytes 8g+4..8g+7 are a
 *                         little-endian u32 `aux`: bits 7l..7l+6 index the sign
 *                         byte of run l in rf__ksigns_iq2xs, bits 28..31 the scale
 *   total  66
 *
 * Value j of run l in group g:
 *   db = d * (0.5 + (aux >> 28)) * 0.25
 *   y  = db * grid[j] * (ksigns[(aux >> 7l) & 127] bit j ? -1 : 1)
 * (ggml dequantize_row_iq2_xxs, same float evaluation order.)
 */
#include <stddef.h>

#include "core/core.h"
#include "quant/iq_grids.h"
#include "quant/quant.h"

typedef struct block_iq2_xxs {
    uint16_t d;
    uint16_t qs[RF_QK_K / 8];
} block_iq2_xxs;
_Static_assert(sizeof(block_iq2_xxs) == 66, "block_iq2_xxs size");
_Static_assert(offsetof(block_iq2_xxs, qs) == 2, "block_iq2_xxs.qs offset");

static void iq2_xxs_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / RF_QK_K; i++, b += sizeof(block_iq2_xxs)) {
        const float d = rf__fp16_to_fp32(rf__rd16(b + offsetof(block_iq2_xxs, d)));
        const uint8_t *qs = b + offsetof(block_iq2_xxs, qs);
        for (int g = 0; g < RF_QK_K / 32; g++, qs += 8) {
            const uint32_t aux = rf__rd32(qs + 4);
            const float db = d * (0.5f + (float)(aux >> 28)) * 0.25f;
            for (int l = 0; l < 4; l++, dst += 8) {
                const uint64_t grid = rf__iq2xxs_grid[qs[l]];
                const uint8_t signs = rf__ksigns_iq2xs[(aux >> (7 * l)) & 127];
                for (int j = 0; j < 8; j++) {
                    const float v = db * (float)(uint8_t)(grid >> (8 * j));
                    dst[j] = (signs & rf__kmask_iq2xs[j]) ? -v : v;
                }
            }
        }
    }
}

const rf_type_traits rf__traits_iq2_xxs = {
    .name = "IQ2_XXS",
    .block_size = 256,
    .type_size = 66,
    .is_quantized = true,
    .to_f32 = iq2_xxs_to_f32,
    .quantize = NULL,
};
