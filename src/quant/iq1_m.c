/* iq1_m.c - IQ1_M: block layout, conversion to f32.
 *
 * 1.75 bits per weight. Like IQ1_S (same grid rf__iq1s_grid, runs of 8,
 * +-RF_IQ1M_DELTA shift) but with a delta sign per run, a 3-bit scale per 16
 * values, and the f16 super-block scale split into nibbles across the scale
 * words (there is no separate d field).
 *
 *   offset  size  field
 *        0    32  qs      run r: low 8 bits of the grid index (group g: 4g..4g+3)
 *       32    16  qh      byte k covers runs 2k (low nibble) and 2k+1 (high
 *                         nibble): nibble bits 0..2 are grid index bits 8..10,
 *                         bit 3 the delta sign (set: -delta)
 *       48     8  scales  4 little-endian u16 sc[0..3]:
 *                           sc[k] bits 3m..3m+2 (m = 0..3): scale of values
 *                           64k+16m..64k+16m+15
 *                           sc[k] bits 12..15: nibble k of the f16 scale d
 *                           (d = sc0>>12 | sc1>>12<<4 | sc2>>12<<8 | sc3>>12<<12)
 *   total  56
 *
 * Value j of run r (16-value scale s):
 *   dl = d * (2s + 1)
 *   y  = dl * (grid[qs[r] | (qh nibble of r & 7) << 8][j] + delta)
 * (ggml dequantize_row_iq1_m, same float evaluation order.)
 */
#include <stddef.h>

#include "core/core.h"
#include "quant/iq_grids.h"
#include "quant/quant.h"

typedef struct block_iq1_m {
    uint8_t qs[RF_QK_K / 8];
    uint8_t qh[RF_QK_K / 16];
    uint8_t scales[RF_QK_K / 32];
} block_iq1_m;
_Static_assert(sizeof(block_iq1_m) == 56, "block_iq1_m size");
_Static_assert(offsetof(block_iq1_m, qh) == 32, "block_iq1_m.qh offset");
_Static_assert(offsetof(block_iq1_m, scales) == 48, "block_iq1_m.scales offset");

static void iq1_m_to_f32(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / RF_QK_K; i++, b += sizeof(block_iq1_m)) {
        const uint8_t *qs = b + offsetof(block_iq1_m, qs);
        const uint8_t *qh = b + offsetof(block_iq1_m, qh);
        const uint8_t *scp = b + offsetof(block_iq1_m, scales);
        uint16_t sc[4];
        for (int k = 0; k < 4; k++) sc[k] = rf__rd16(scp + 2 * k);
        const uint16_t dbits = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) |
                                          ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
        const float d = rf__fp16_to_fp32(dbits);
        /* one group = 32 values = 4 runs = 2 qh bytes = 2 scales */
        for (int g = 0; g < RF_QK_K / 32; g++, qs += 4, qh += 2) {
            const int shift = 6 * (g % 2);
            const float dl[2] = {
                d * (float)(2 * ((sc[g / 2] >> (shift + 0)) & 7) + 1),
                d * (float)(2 * ((sc[g / 2] >> (shift + 3)) & 7) + 1),
            };
            for (int l = 0; l < 4; l++, dst += 8) {
                const unsigned nib = (qh[l / 2] >> (4 * (l % 2))) & 0xf;
                const uint64_t grid = rf__iq1s_grid[qs[l] | ((nib & 7) << 8)];
                const float delta = (nib & 8) ? -RF_IQ1M_DELTA : RF_IQ1M_DELTA;
                for (int j = 0; j < 8; j++)
                    dst[j] = dl[l / 2] * ((float)(int8_t)(uint8_t)(grid >> (8 * j)) + delta);
            }
        }
    }
}

const rf_type_traits rf__traits_iq1_m = {
    .name = "IQ1_M",
    .block_size = 256,
    .type_size = 56,
    .is_quantized = true,
    .to_f32 = iq1_m_to_f32,
    .quantize = NULL,
};
