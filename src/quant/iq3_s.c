/* iq3_s.c - IQ3_S: block layout, conversion to f32.
 *
 * 3.4375 bits per weight. A block holds 256 values as 64 runs of 4, each a
 * 9-bit index into the 512-entry grid rf__iq3s_grid, with explicit sign bits
 * and one 4-bit scale per 32 values.
 *
 *   offset  size  field
 *        0     2  d       f16 super-block scale
 *        2    64  qs      run r (values 4r..4r+3): low 8 bits of the grid index
 *       66     8  qh      bit r%8 of byte r/8: bit 8 of run r's grid index
 *       74    32  signs   bit v%8 of byte v/8 negates value v
 *      106     4  scales  byte k: low nibble scales values 64k..64k+31,
 *                         high nibble values 64k+32..64k+63
 *   total 110
 *
 * Value j of run r (scale nibble s):
 *   db = d * (1 + 2s)
 *   y  = db * grid[qs[r] | (qh bit r) << 8][j] * (sign bit of value 4r+j ? -1 : 1)
 * (ggml dequantize_row_iq3_s, same float evaluation order.)
 */
#include <stddef.h>

#include "core/core.h"
#include "quant/iq_grids.h"
#include "quant/quant.h"

typedef struct block_iq3_s {
    uint16_t d;
    uint8_t qs[RF_QK_K / 4];
    uint8_t qh[RF_QK_K / 32];
    uint8_t signs[RF_QK_K / 8];
    uint8_t scales[RF_QK_K / 64];
} block_iq3_s;
_Static_assert(sizeof(block_iq3_s) == 110, "block_iq3_s size");
_Static_assert(offsetof(block_iq3_s, qs) == 2, "block_iq3_s.qs offset");
_Static_assert(offsetof(block_iq3_s, qh) == 66, "block_iq3_s.qh offset");
_Static_assert(offsetof(block_iq3_s, signs) == 74, "block_iq3_s.signs offset");
_Static_assert(offsetof(block_iq3_s, scales) == 106, "block_iq3_s.scales offset");

static void iq3_s_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / RF_QK_K; i++, b += sizeof(block_iq3_s)) {
        const float d = rf__fp16_to_fp32(rf__rd16(b + offsetof(block_iq3_s, d)));
        const uint8_t *qs = b + offsetof(block_iq3_s, qs);
        const uint8_t *qh = b + offsetof(block_iq3_s, qh);
        const uint8_t *signs = b + offsetof(block_iq3_s, signs);
        const uint8_t *scales = b + offsetof(block_iq3_s, scales);
        /* one group = 32 values = 8 runs of 4 = one qh byte = 4 sign bytes */
        for (int g = 0; g < RF_QK_K / 32; g++, qs += 8, signs += 4) {
            const int s = (g & 1) ? scales[g / 2] >> 4 : scales[g / 2] & 0xf;
            const float db = d * (float)(1 + 2 * s);
            for (int l = 0; l < 4; l++, dst += 8) {
                const uint32_t grid1 = rf__iq3s_grid[qs[2 * l + 0] | (((qh[g] >> (2 * l + 0)) & 1) << 8)];
                const uint32_t grid2 = rf__iq3s_grid[qs[2 * l + 1] | (((qh[g] >> (2 * l + 1)) & 1) << 8)];
                for (int j = 0; j < 4; j++) {
                    const float v1 = db * (float)(uint8_t)(grid1 >> (8 * j));
                    const float v2 = db * (float)(uint8_t)(grid2 >> (8 * j));
                    dst[j + 0] = (signs[l] & rf__kmask_iq2xs[j + 0]) ? -v1 : v1;
                    dst[j + 4] = (signs[l] & rf__kmask_iq2xs[j + 4]) ? -v2 : v2;
                }
            }
        }
    }
}

const rf_type_traits rf__traits_iq3_s = {
    .name = "IQ3_S",
    .block_size = 256,
    .type_size = 110,
    .is_quantized = true,
    .to_f32 = iq3_s_to_f32,
    .quantize = NULL,
};
