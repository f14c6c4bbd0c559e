/* iq2_xs.c - IQ2_XS: block layout, conversion to f32.
 *
 * 2.3125 bits per weight. A block holds 256 values as 32 runs of 8, each run
 * a 16-bit code: a 9-bit index into the 512-entry grid rf__iq2xs_grid and a
 * 7-bit index into rf__ksigns_iq2xs; one 4-bit scale per 16 values.
 *
 *   offset  size  field
 *        0     2  d       f16 super-block scale
 *        2    64  qs      32 little-endian u16 codes, run r = qs[r]:
 *                         bits 0..8 grid index, bits 9..15 sign index
 *       66     8  scales  byte g: low nibble scales runs 4g, 4g+1,
 *                         high nibble runs 4g+2, 4g+3
 *   total  74
 *
 * Value j of run r (scale nibble s):
 *   db = d * (0.5 + s) * 0.25
 *   y  = db * grid[qs[r] & 511][j] * (ksigns[qs[r] >> 9] bit j ? -1 : 1)
 * (ggml dequantize_row_iq2_xs, same float evaluation order.)
 */
#include <stddef.h>

#include "core/core.h"
#include "quant/iq_grids.h"
#include "quant/quant.h"

typedef struct block_iq2_xs {
    uint16_t d;
    uint16_t qs[RF_QK_K / 8];
    uint8_t scales[RF_QK_K / 32];
} block_iq2_xs;
_Static_assert(sizeof(block_iq2_xs) == 74, "block_iq2_xs size");
_Static_assert(offsetof(block_iq2_xs, qs) == 2, "block_iq2_xs.qs offset");
_Static_assert(offsetof(block_iq2_xs, scales) == 66, "block_iq2_xs.scales offset");

static void iq2_xs_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / RF_QK_K; i++, b += sizeof(block_iq2_xs)) {
        const float d = rf__fp16_to_fp32(rf__rd16(b + offsetof(block_iq2_xs, d)));
        const uint8_t *qs = b + offsetof(block_iq2_xs, qs);
        const uint8_t *scales = b + offsetof(block_iq2_xs, scales);
        for (int g = 0; g < RF_QK_K / 32; g++) {
            const float db[2] = {
                d * (0.5f + (float)(scales[g] & 0xf)) * 0.25f,
                d * (0.5f + (float)(scales[g] >> 4)) * 0.25f,
            };
            for (int l = 0; l < 4; l++, dst += 8) {
                const uint16_t code = rf__rd16(qs + 2 * (4 * g + l));
                const uint64_t grid = rf__iq2xs_grid[code & 511];
                const uint8_t signs = rf__ksigns_iq2xs[code >> 9];
                for (int j = 0; j < 8; j++) {
                    const float v = db[l / 2] * (float)(uint8_t)(grid >> (8 * j));
                    dst[j] = (signs & rf__kmask_iq2xs[j]) ? -v : v;
                }
            }
        }
    }
}

const rf_type_traits rf__traits_iq2_xs = {
    .name = "IQ2_XS",
    .block_size = 256,
    .type_size = 74,
    .is_quantized = true,
    .to_f32 = iq2_xs_to_f32,
    .quantize = NULL,
};
