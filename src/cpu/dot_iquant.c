/*
 * dot_iquant.c - scalar dot products of the i-quants (IQ1_S, IQ1_M, IQ2_XXS,
 * IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS) against Q8_K activations. Grid
 * values come from src/quant/iq_grids.h (byte j of an entry is element j).
 */
#include "core/core.h"
#include "cpu/dot_impl.h"
#include "quant/iq_grids.h"

/* sum_j q8[j] * +-grid[j] over 8 values, sign bit j of `signs` negating
 * (branch-free: random signs would defeat branch prediction). */
static inline int grid8(uint64_t grid, uint8_t signs, const int8_t *q8) {
    int s = 0;
    for (int j = 0; j < 8; j++) {
        int g = (int)((grid >> (8 * j)) & 0xFF), neg = -((signs >> j) & 1);
        s += ((g * q8[j]) ^ neg) - neg;
    }
    return s;
}

static inline int grid4(uint32_t grid, uint8_t signs, const int8_t *q8) {
    int s = 0;
    for (int j = 0; j < 4; j++) {
        int g = (int)((grid >> (8 * j)) & 0xFF), neg = -((signs >> j) & 1);
        s += ((g * q8[j]) ^ neg) - neg;
    }
    return s;
}

static void dot_iq2_xxs(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq2_xxs *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        int bsum = 0;
        for (int ib = 0; ib < 8; ib++) {
            const uint16_t *q2 = x[i].qs + 4 * ib;
            uint32_t idx = (uint32_t)q2[0] | ((uint32_t)q2[1] << 16);
            uint32_t sgn = (uint32_t)q2[2] | ((uint32_t)q2[3] << 16);
            int isum = 0;
            for (int l = 0; l < 4; l++, q8 += 8)
                isum += grid8(rf__iq2xxs_grid[(idx >> (8 * l)) & 0xFF], rf__ksigns_iq2xs[(sgn >> (7 * l)) & 127], q8);
            bsum += isum * (int)(2 * (sgn >> 28) + 1);
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)bsum;
    }
    *s = 0.125f * sum;
}

static void dot_iq2_xs(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq2_xs *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        int bsum = 0;
        for (int ib = 0; ib < 8; ib++) {
            const uint16_t *q2 = x[i].qs + 4 * ib;
            for (int h = 0; h < 2; h++) {
                int isum = 0;
                for (int l = 2 * h; l < 2 * h + 2; l++, q8 += 8)
                    isum += grid8(rf__iq2xs_grid[q2[l] & 511], rf__ksigns_iq2xs[q2[l] >> 9], q8);
                bsum += isum * (2 * ((x[i].scales[ib] >> (4 * h)) & 0xF) + 1);
            }
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)bsum;
    }
    *s = 0.125f * sum;
}

static void dot_iq2_s(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq2_s *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        const uint8_t *qs = x[i].qs, *signs = x[i].qs + 32;
        int bsum = 0;
        for (int ib = 0; ib < 8; ib++, qs += 4, signs += 4) {
            for (int h = 0; h < 2; h++) {
                int isum = 0;
                for (int l = 2 * h; l < 2 * h + 2; l++, q8 += 8) {
                    int idx = qs[l] | (((x[i].qh[ib] >> (2 * l)) & 3) << 8);
                    isum += grid8(rf__iq2s_grid[idx], signs[l], q8);
                }
                bsum += isum * (2 * ((x[i].scales[ib] >> (4 * h)) & 0xF) + 1);
            }
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)bsum;
    }
    *s = 0.125f * sum;
}

static void dot_iq3_xxs(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq3_xxs *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        const uint8_t *q3 = x[i].qs;
        int bsum = 0;
        for (int ib = 0; ib < 8; ib++, q3 += 8) {
            uint32_t aux = rf__rd32(x[i].qs + 64 + 4 * ib);
            int isum = 0;
            for (int l = 0; l < 4; l++, q8 += 8) {
                uint8_t sg = rf__ksigns_iq2xs[(aux >> (7 * l)) & 127];
                isum += grid4(rf__iq3xxs_grid[q3[2 * l]], sg, q8);
                isum += grid4(rf__iq3xxs_grid[q3[2 * l + 1]], (uint8_t)(sg >> 4), q8 + 4);
            }
            bsum += isum * (int)(2 * (aux >> 28) + 1);
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)bsum;
    }
    *s = 0.25f * sum;
}

static void dot_iq3_s(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq3_s *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        const uint8_t *qs = x[i].qs, *signs = x[i].signs;
        int bsum = 0;
        for (int ib = 0; ib < 8; ib++, qs += 8, signs += 4) {
            uint8_t qh = x[i].qh[ib];
            int isum = 0;
            for (int l = 0; l < 4; l++, q8 += 8) {
                int i1 = qs[2 * l] | (((qh >> (2 * l)) & 1) << 8);
                int i2 = qs[2 * l + 1] | (((qh >> (2 * l + 1)) & 1) << 8);
                isum += grid4(rf__iq3s_grid[i1], signs[l], q8);
                isum += grid4(rf__iq3s_grid[i2], (uint8_t)(signs[l] >> 4), q8 + 4);
            }
            bsum += isum * (2 * ((x[i].scales[ib / 2] >> (4 * (ib % 2))) & 0xF) + 1);
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)bsum;
    }
    *s = sum;
}

/* IQ1_S: 8 groups of 32; group scale 2*s+1, each 8 values grid (+-1, 0)
 * shifted by +-IQ1S_DELTA, i.e. sum = grid.q8 + delta * sum(q8). */
static void dot_iq1_s(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq1_s *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        const uint8_t *qs = x[i].qs;
        int sumi = 0, sumd = 0;
        for (int ib = 0; ib < 8; ib++, qs += 4) {
            uint16_t qh = x[i].qh[ib];
            int ls = 2 * ((qh >> 12) & 7) + 1;
            int delta = qh & 0x8000 ? -1 : 1;
            int lsum = 0;
            for (int l = 0; l < 4; l++, q8 += 8) {
                uint64_t g = rf__iq1s_grid[qs[l] | (((qh >> (3 * l)) & 7) << 8)];
                for (int j = 0; j < 8; j++) lsum += q8[j] * (int8_t)(g >> (8 * j));
            }
            sumi += ls * lsum;
            sumd += ls * delta * (y[i].bsums[2 * ib] + y[i].bsums[2 * ib + 1]);
        }
        sum += rf__h2f(x[i].d) * y[i].d * ((float)sumi + RF_IQ1S_DELTA * (float)sumd);
    }
    *s = sum;
}

static void dot_iq1_m(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq1_m *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const int8_t *q8 = y[i].qs;
        const uint8_t *qs = x[i].qs, *qh = x[i].qh;
        uint16_t sc[4];
        memcpy(sc, x[i].scales, 8);
        uint16_t d16 = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000));
        int sumi1 = 0, sumi2 = 0;
        for (int ib = 0; ib < 8; ib++, qs += 4, qh += 2) {
            int s1[2] = {0, 0}, s2[2] = {0, 0};
            for (int l = 0; l < 4; l++, q8 += 8) {
                int hb = qh[l / 2] >> (4 * (l % 2));
                uint64_t g = rf__iq1s_grid[qs[l] | ((hb & 7) << 8)];
                int delta = hb & 8 ? -1 : 1, lg = 0, lq = 0;
                for (int j = 0; j < 8; j++) {
                    lg += q8[j] * (int8_t)(g >> (8 * j));
                    lq += q8[j];
                }
                s1[l / 2] += lg;
                s2[l / 2] += lq * delta;
            }
            int ls1 = 2 * ((sc[ib / 2] >> (6 * (ib % 2))) & 7) + 1;
            int ls2 = 2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 7) + 1;
            sumi1 += s1[0] * ls1 + s1[1] * ls2;
            sumi2 += s2[0] * ls1 + s2[1] * ls2;
        }
        sum += rf__h2f(d16) * y[i].d * ((float)sumi1 + RF_IQ1M_DELTA * (float)sumi2);
    }
    *s = sum;
}

static void dot_iq4_xs(int64_t n, float *s, const void *w, const void *a) {
    const rf_blk_iq4_xs *x = w;
    const rf_blk_q8_k *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / 256; i++) {
        const uint8_t *qs = x[i].qs;
        const int8_t *q8 = y[i].qs;
        int isum = 0;
        for (int ib = 0; ib < 8; ib++, qs += 16, q8 += 32) {
            int ls = ((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((x[i].scales_h >> (2 * ib)) & 3) << 4);
            int acc = 0;
            for (int j = 0; j < 16; j++) {
                acc += q8[j] * rf__kvalues_iq4nl[qs[j] & 0xF];
                acc += q8[j + 16] * rf__kvalues_iq4nl[qs[j] >> 4];
            }
            isum += (ls - 32) * acc;
        }
        sum += rf__h2f(x[i].d) * y[i].d * (float)isum;
    }
    *s = sum;
}

void rf__dot_fill_iquant(rf_dot_table *t) {
    t->dot[RF_TYPE_IQ2_XXS] = dot_iq2_xxs;
    t->dot[RF_TYPE_IQ2_XS] = dot_iq2_xs;
    t->dot[RF_TYPE_IQ2_S] = dot_iq2_s;
    t->dot[RF_TYPE_IQ3_XXS] = dot_iq3_xxs;
    t->dot[RF_TYPE_IQ3_S] = dot_iq3_s;
    t->dot[RF_TYPE_IQ1_S] = dot_iq1_s;
    t->dot[RF_TYPE_IQ1_M] = dot_iq1_m;
    t->dot[RF_TYPE_IQ4_XS] = dot_iq4_xs;
}
