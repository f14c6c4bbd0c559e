/* rf_dot_random.h - random weight blocks with sane scales, shared by the dot
 * product test and benchmark (a fixed-seed xorshift generator). */
#ifndef RF_DOT_RANDOM_H
#define RF_DOT_RANDOM_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "cpu/dot_impl.h"

/* ---- random numbers (xorshift, fixed seed) ---------------------------------- */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static inline uint32_t rnd_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static inline float rnd_unit(void) { return ((float)(rnd_u32() & 0xFFFFFF) + 0.5f) / 16777216.0f; }
static inline float rnd_normal(void) {
    return sqrtf(-2.0f * logf(rnd_unit())) * cosf(6.2831853f * rnd_unit());
}
/* A random f16 scale of magnitude 2^-10 .. 2^-4, random sign if `sign`. */
static inline uint16_t rnd_scale(bool sign) {
    float v = ldexpf(1.0f + rnd_unit(), -10 + (int)(rnd_u32() % 6));
    if (sign && (rnd_u32() & 1)) v = -v;
    return rf__fp32_to_fp16(v);
}

/* ---- weights -------------------------------------------------------------------- */

/* Overwrites the scale fields of random-byte blocks with sane values. */
static inline void sanitize_blocks(rf_type t, uint8_t *p, int64_t nblocks, size_t bsize) {
    for (int64_t b = 0; b < nblocks; b++, p += bsize) {
        switch (t) {
        case RF_TYPE_Q4_0: case RF_TYPE_Q5_0: case RF_TYPE_Q8_0: case RF_TYPE_IQ4_NL:
        case RF_TYPE_Q1_0: case RF_TYPE_IQ2_XXS: case RF_TYPE_IQ2_XS: case RF_TYPE_IQ2_S:
        case RF_TYPE_IQ3_XXS: case RF_TYPE_IQ3_S: case RF_TYPE_IQ1_S: case RF_TYPE_IQ4_XS: {
            uint16_t d = rnd_scale(true);
            memcpy(p, &d, 2);
            break;
        }
        case RF_TYPE_Q4_1: case RF_TYPE_Q5_1: case RF_TYPE_Q4_K: case RF_TYPE_Q5_K: {
            uint16_t d = rnd_scale(true), m = rnd_scale(true);
            memcpy(p, &d, 2);
            memcpy(p + 2, &m, 2);
            break;
        }
        case RF_TYPE_Q2_K: {
            rf_blk_q2_k *q = (rf_blk_q2_k *)p;
            q->d = rnd_scale(true);
            q->dmin = rnd_scale(true);
            break;
        }
        case RF_TYPE_Q3_K: ((rf_blk_q3_k *)p)->d = rnd_scale(true); break;
        case RF_TYPE_Q6_K: ((rf_blk_q6_k *)p)->d = rnd_scale(true); break;
        case RF_TYPE_TQ1_0: ((rf_blk_tq1_0 *)p)->d = rnd_scale(true); break;
        case RF_TYPE_TQ2_0: ((rf_blk_tq2_0 *)p)->d = rnd_scale(true); break;
        case RF_TYPE_MXFP4: ((rf_blk_mxfp4 *)p)->e = (uint8_t)(120 + rnd_u32() % 10); break;
        case RF_TYPE_NVFP4:
            for (int k = 0; k < 4; k++)
                ((rf_blk_nvfp4 *)p)->d[k] = (uint8_t)(((4 + rnd_u32() % 6) << 3) | (rnd_u32() & 7));
            break;
        case RF_TYPE_IQ1_M: {
            /* The f16 block scale is spread over the top nibbles of scales. */
            uint16_t d = rnd_scale(true), sc[4];
            memcpy(sc, ((rf_blk_iq1_m *)p)->scales, 8);
            for (int k = 0; k < 4; k++) sc[k] = (uint16_t)((sc[k] & 0x0FFF) | (((d >> (4 * k)) & 0xF) << 12));
            memcpy(((rf_blk_iq1_m *)p)->scales, sc, 8);
            break;
        }
        default: break;
        }
    }
}

#endif /* RF_DOT_RANDOM_H */
