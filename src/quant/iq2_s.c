/* iq2_s.c - IQ2_S: block layout, conversion to f32.
 *
 * 2.5625 bits per weight. A block holds 256 values as 32 runs of 8, each run
 * a 10-bit index into the 1024-entry grid rf__iq2s_grid and an explicit sign
 * byte; one 4-bit scale per 16 values.
 *
 *   offset  size  field
 *        0     2  d       f16 super-block scale
 *        2    32  qs      run r: low 8 bits of the grid index
 *       34    32  signs   run r: sign byte, bit j negates value j
 *       66     8  qh      byte g: bits 2l..2l+1 are index bits 8..9 of run 4g+l
 *       74     8  scales  byte g: low nibble scales runs 4g, 4g+1,
 *                         high nibble runs 4g+2, 4g+3
 *   total  82
 *
 * (ggml declares qs[64] covering both the index bytes and the sign bytes.)
 * Value j of run r = 4g+l (scale nibble s):
 *   db = d * (0.5 + s) * 0.25
 *   y  = db * grid[qs[r] | ((qh[g] >> 2l) & 3) << 8][j] * (signs[r] bit j ? -1 : 1)
 * (ggml dequantize_row_iq2_s, same float evaluation order.)
 */
#include <stddef.h>

#include "core/core.h"
#include "quant/iq_grids.h"
#include "quant/quant.h"

typedef struct block_iq2_s {
    uint16_t d;
    uint8_t qs[RF_QK_K / 8];
    uint8_t signs[RF_QK_K / 8];
    uint8_t qh[RF_QK_K / 32];
    uint8_t scales[RF_QK_K / 32];
} block_iq2_s;
_Static_assert(sizeof(block_iq2_s) == 82, "block_iq2_s size");
_Static_assert(offsetof(block_iq2_s, qs) == 2, "block_iq2_s.qs offset");
_Static_assert(offsetof(block_iq2_s, signs) == 34, "block_iq2_s.signs offset");
_Static_assert(offsetof(block_iq2_s, qh) == 66, "block_iq2_s.qh offset");
_Static_assert(offsetof(block_iq2_s, scales) == 74, "block_iq2_s.scales offset");

static void iq2_s_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / RF_QK_K; i++, b += sizeof(block_iq2_s)) {
        const float d = rf__fp16_to_fp32(rf__rd16(b + offsetof(block_iq2_s, d)));
        const uint8_t *qs = b + offsetof(block_iq2_s, qs);
        const uint8_t *signs = b + offsetof(block_iq2_s, signs);
        const uint8_t *qh = b + offsetof(block_iq2_s, qh);
        const uint8_t *scales = b + offsetof(block_iq2_s, scales);
        for (int g = 0; g < RF_QK_K / 32; g++, qs += 4, signs += 4) {
            const float db[2] = {
                d * (0.5f + (float)(scales[g] & 0xf)) * 0.25f,
                d * (0.5f + (float)(scales[g] >> 4)) * 0.25f,
            };
            for (int l = 0; l < 4; l++, dst += 8) {
                const uint64_t grid = rf__iq2s_grid[qs[l] | (((qh[g] >> (2 * l)) & 3) << 8)];
                for (int j = 0; j < 8; j++) {
                    const float v = db[l / 2] * (float)(uint8_t)(grid >> (8 * j));
                    dst[j] = (signs[l] & rf__kmask_iq2xs[j]) ? -v : v;
                }
            }
        }
    }
}

const rf_type_traits rf__traits_iq2_s = {
    .name = "IQ2_S",
    .block_size = 256,
    .type_size = 82,
    .is_quantized = true,
    .to_f32 = iq2_s_to_f32,
    .quantize = NULL,
};
