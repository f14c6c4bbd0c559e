/* iq1_s.c - IQ1_S: block layout, conversion to f32.
 *
 * 1.5625 bits per weight. A block holds 256 values as 8 groups of 32; each
 * group is 4 runs of 8 values from the 2048-entry ternary grid rf__iq1s_grid
 * ({-1,0,1} per value), shifted by +-RF_IQ1S_DELTA, with a 3-bit scale.
 *
 *   offset  size  field
 *        0     2  d       f16 super-block scale
 *        2    32  qs      run r: low 8 bits of the grid index (group g: 4g..4g+3)
 *       34    16  qh      8 little-endian u16, one per group g:
 *                           bits 3l..3l+2  grid index bits 8..10 of run l
 *                           bits 12..14    scale s
 *                           bit 15         delta sign (set: -delta)
 *   total  50
 *
 * Value j of run l in group g:
 *   dl = d * (2s + 1)
 *   y  = dl * (grid[qs[4g+l] | ((qh[g] >> 3l) & 7) << 8][j] + delta)
 * (ggml dequantize_row_iq1_s, same float evaluation order.)
 */
#include <stddef.h>

#include "core/core.h"
#include "quant/iq_grids.h"
#include "quant/quant.h"

typedef struct block_iq1_s {
    uint16_t d;
    uint8_t qs[RF_QK_K / 8];
    uint16_t qh[RF_QK_K / 32];
} block_iq1_s;
_Static_assert(sizeof(block_iq1_s) == 50, "block_iq1_s size");
_Static_assert(offsetof(block_iq1_s, qs) == 2, "block_iq1_s.qs offset");
_Static_assert(offsetof(block_iq1_s, qh) == 34, "block_iq1_s.qh offset");

static void iq1_s_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / RF_QK_K; i++, b += sizeof(block_iq1_s)) {
        const float d = rf__fp16_to_fp32(rf__rd16(b + offsetof(block_iq1_s, d)));
        const uint8_t *qs = b + offsetof(block_iq1_s, qs);
        const uint8_t *qhp = b + offsetof(block_iq1_s, qh);
        for (int g = 0; g < RF_QK_K / 32; g++, qs += 4) {
            const uint16_t qh = rf__rd16(qhp + 2 * g);
            const float dl = d * (float)(2 * ((qh >> 12) & 7) + 1);
            const float delta = (qh & 0x8000) ? -RF_IQ1S_DELTA : RF_IQ1S_DELTA;
            for (int l = 0; l < 4; l++, dst += 8) {
                const uint64_t grid = rf__iq1s_grid[qs[l] | (((qh >> (3 * l)) & 7) << 8)];
                for (int j = 0; j < 8; j++)
                    dst[j] = dl * ((float)(int8_t)(uint8_t)(grid >> (8 * j)) + delta);
            }
        }
    }
}

const rf_type_traits rf__traits_iq1_s = {
    .name = "IQ1_S",
    .block_size = 256,
    .type_size = 50,
    .is_quantized = true,
    .to_f32 = iq1_s_to_f32,
    .quantize = NULL,
};
