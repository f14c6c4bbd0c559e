/* quant_impl.c - FP8 scale conversions, the IQ4 search and the row loop
 * shared by the type files. See quant_impl.h. */
#include <float.h>
#include <math.h>

#include "quant/quant_impl.h"

float rf__ue4m3_to_fp32_half(uint8_t x) {
    if (x == 0 || x == 0x7F) return 0.0f;
    int exp = (x >> 3) & 0xF;
    int man = x & 0x7;
    float raw = exp == 0 ? ldexpf((float)man, -9) : ldexpf(1.0f + (float)man / 8.0f, exp - 7);
    return raw * 0.5f;
}

uint8_t rf__fp32_to_ue4m3(float x) {
    if (!(x > 0.0f)) return 0;
    if (x > 448.0f) x = 448.0f;
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int fp32_exp = (int)((bits >> 23) & 0xFF) - 127;
    int fp32_man = (int)((bits >> 20) & 0x7);
    int exp = fp32_exp + 7;
    if (exp <= 0) { /* subnormal: man * 2^-9 */
        int man = (int)(x * 512.0f + 0.5f);
        if (man > 7) man = 7;
        return man < 1 ? 0 : (uint8_t)man;
    }
    if (exp >= 15) return 0x7E;
    int man = fp32_man + (int)((bits >> 19) & 1);
    if (man > 7) {
        man = 0;
        exp++;
        if (exp >= 15) return 0x7E;
    }
    return (uint8_t)((exp << 3) | man);
}

size_t rf__quantize_rows(rf_type t, rf_quant_row_fn row, const float *src, void *dst, int64_t nrows,
                         int64_t n_per_row, const float *imatrix) {
    size_t row_size = rf_type_row_size(t, n_per_row);
    if (row_size == 0 || nrows < 0) return 0;
    uint8_t *out = dst;
    for (int64_t r = 0; r < nrows; r++) {
        row(src + r * n_per_row, out + (size_t)r * row_size, n_per_row, imatrix);
    }
    return (size_t)nrows * row_size;
}

/* rf__best_index_int8 for 16 levels, given the 15 sums mid[j] = val[j] +
 * val[j+1]: the binary search picks the largest i with 2x >= val[i-1] + val[i],
 * which for increasing sums is the count of sums <= 2x. Counting needs no
 * chain of dependent loads and compares, so trial scales run several times
 * faster; NaN still gives 0. */
static inline int best_index16(const float *mid, float x) {
    const float x2 = x + x;
    int idx = 0;
    for (int j = 0; j < 15; j++) idx += x2 >= mid[j];
    return idx;
}

void rf__iq4_quantize_super_block(int super_block_size, int block_size, const float *x, uint8_t *dh,
                                  uint8_t *q4, uint8_t *scales_h_bytes, uint8_t *scales_l, float *scales,
                                  float *weight, uint8_t *L, const int8_t *values, const float *quant_weights,
                                  int ntry) {
    float mid[15];
    for (int j = 0; j < 15; j++) mid[j] = (float)(values[j] + values[j + 1]);
    float sigma2 = 0;
    for (int j = 0; j < super_block_size; ++j) sigma2 += x[j] * x[j];
    sigma2 *= 2.f / super_block_size;

    memset(q4, 0, (size_t)super_block_size / 2);
    rf__wr16(dh, rf__fp32_to_fp16(0.f));

    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < super_block_size / block_size; ++ib) {
        const float *xb = x + ib * block_size;
        uint8_t *Lb = L + ib * block_size;
        if (quant_weights) {
            const float *qw = quant_weights + ib * block_size;
            for (int j = 0; j < block_size; ++j) weight[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        } else {
            for (int j = 0; j < block_size; ++j) weight[j] = xb[j] * xb[j];
        }
        float amax = 0, max = 0;
        for (int j = 0; j < block_size; ++j) {
            float ax = fabsf(xb[j]);
            if (ax > amax) {
                amax = ax;
                max = xb[j];
            }
        }
        if (amax < RF_GROUP_MAX_EPS) {
            scales[ib] = 0;
            memset(Lb, 0, (size_t)block_size);
            continue;
        }
        float d = ntry > 0 ? -max / values[0] : max / values[0];
        float id = 1 / d;
        float sumqx = 0, sumq2 = 0;
        for (int j = 0; j < block_size; ++j) {
            float al = id * xb[j];
            int l = best_index16(mid, al);
            Lb[j] = (uint8_t)l;
            float q = values[l];
            float w = weight[j];
            sumqx += w * q * xb[j];
            sumq2 += w * q * q;
        }
        d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
        float best = d * sumqx;
        for (int itry = -ntry; itry <= ntry; ++itry) {
            id = (itry + values[0]) / max;
            sumqx = sumq2 = 0;
            for (int j = 0; j < block_size; ++j) {
                float al = id * xb[j];
                int l = best_index16(mid, al);
                float q = values[l];
                float w = weight[j];
                sumqx += w * q * xb[j];
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scales[ib] = d;
        float abs_d = fabsf(d);
        if (abs_d > amax_scale) {
            amax_scale = abs_d;
            max_scale = d;
        }
    }

    if (super_block_size / block_size > 1) {
        uint16_t scales_h = 0;
        float d = -max_scale / 32;
        rf__wr16(dh, rf__fp32_to_fp16(d));
        float id = d ? 1 / d : 0.f;
        for (int ib = 0; ib < super_block_size / block_size; ++ib) {
            int l = rf__nearest_int(id * scales[ib]);
            l = RF_MAX(-32, RF_MIN(31, l));
            float dl = d * l;
            float idl = dl ? 1 / dl : 0.f;
            uint8_t *Lb = L + ib * block_size;
            const float *xb = x + ib * block_size;
            for (int j = 0; j < block_size; ++j) Lb[j] = (uint8_t)best_index16(mid, idl * xb[j]);
            l += 32;
            uint8_t l_l = (uint8_t)(l & 0xf);
            uint8_t l_h = (uint8_t)(l >> 4);
            if (ib % 2 == 0) scales_l[ib / 2] = l_l;
            else scales_l[ib / 2] |= (uint8_t)(l_l << 4);
            scales_h |= (uint16_t)(l_h << 2 * (ib % 8));
        }
        rf__wr16(scales_h_bytes, scales_h);
    } else {
        rf__wr16(dh, rf__fp32_to_fp16(scales[0]));
        if (ntry > 0) {
            float id = scales[0] ? 1 / scales[0] : 0;
            for (int j = 0; j < super_block_size; ++j) L[j] = (uint8_t)best_index16(mid, id * x[j]);
        }
    }

    for (int i = 0; i < super_block_size / 32; ++i)
        for (int j = 0; j < 16; ++j) q4[16 * i + j] = (uint8_t)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}
