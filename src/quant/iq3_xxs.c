/* iq3_xxs.c - IQ3_XXS: block layout, conversion to f32.
 *
 * 3.0625 bits per weight. A block holds 256 values as 8 groups of 32; each
 * group is 8 runs of 4 values from the 256-entry grid rf__iq3xxs_grid, with
 * signs per 8 values and one 4-bit scale per group.
 *
 *   offset  size  field
 *        0     2  d       f16 super-block scale
 *        2    64  qs      grid index of each run of 4 (group g: bytes 8g..8g+7)
 *       66    32  sas     8 little-endian u32 `aux`, one per group: bits 7l..7l+6
 *                         index the sign byte of values 8l..8l+7 in
 *                         rf__ksigns_iq2xs, bits 28..31 the scale
 *   total  98
 *
 * (ggml declares qs[96] covering qs and sas.) Value j of run 2l+h in group g:
 *   db = d * (0.5 + (aux >> 28)) * 0.5
 *   y  = db * grid[qs[8g+2l+h]][j] * (ksigns[(aux >> 7l) & 127] bit 4h+j ? -1 : 1)
 * (ggml dequantize_row_iq3_xxs, same float evaluation order.)
 */
#include <stddef.h>

#include "core/core.h"
#include "quant/iq_grids.h"
#include "quant/quant.h"

typedef struct block_iq3_xxs {
    uint16_t d;
    uint8_t qs[RF_QK_K / 4];
    uint8_t sas[RF_QK_K / 8];
} block_iq3_xxs;
_Static_assert(sizeof(block_iq3_xxs) == 98, "block_iq3_xxs size");
_Static_assert(offsetof(block_iq3_xxs, qs) == 2, "block_iq3_xxs.qs offset");
_Static_assert(offsetof(block_iq3_xxs, sas) == 66, "block_iq3_xxs.sas offset");

static void iq3_xxs_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / RF_QK_K; i++, b += sizeof(block_iq3_xxs)) {
        const float d = rf__fp16_to_fp32(rf__rd16(b + offsetof(block_iq3_xxs, d)));
        const uint8_t *qs = b + offsetof(block_iq3_xxs, qs);
        const uint8_t *sas = b + offsetof(block_iq3_xxs, sas);
        for (int g = 0; g < RF_QK_K / 32; g++, qs += 8) {
            const uint32_t aux = rf__rd32(sas + 4 * g);
            const float db = d * (0.5f + (float)(aux >> 28)) * 0.5f;
            for (int l = 0; l < 4; l++, dst += 8) {
                const uint8_t signs = rf__ksigns_iq2xs[(aux >> (7 * l)) & 127];
                const uint32_t grid1 = rf__iq3xxs_grid[qs[2 * l + 0]];
                const uint32_t grid2 = rf__iq3xxs_grid[qs[2 * l + 1]];
                for (int j = 0; j < 4; j++) {
                    const float v1 = db * (float)(uint8_t)(grid1 >> (8 * j));
                    const float v2 = db * (float)(uint8_t)(grid2 >> (8 * j));
                    dst[j + 0] = (signs & rf__kmask_iq2xs[j + 0]) ? -v1 : v1;
                    dst[j + 4] = (signs & rf__kmask_iq2xs[j + 4]) ? -v2 : v2;
                }
            }
        }
    }
}

const rf_type_traits rf__traits_iq3_xxs = {
    .name = "IQ3_XXS",
    .block_size = 256,
    .type_size = 98,
    .is_quantized = true,
    .to_f32 = iq3_xxs_to_f32,
    .quantize = NULL,
};
