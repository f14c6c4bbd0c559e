/*
 * quant_search.h - the scale searches shared by ggml's reference quantizers
 * (make_qx_quants, make_q3_quants, make_qkx2_quants, make_qkx3_quants,
 * make_qp_quants). They are reproduced operation for operation, in the same
 * float evaluation order, so quantized files are byte-identical to ggml's.
 *
 * Every function works on one small group (16 or 32 values, or the 8/16
 * sub-block scales of a super-block) and is linear in the group size times a
 * fixed number of trial scales.
 */
#ifndef RF_QUANT_SEARCH_H
#define RF_QUANT_SEARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Groups whose largest magnitude is below this are treated as all zero. */
#define RF_GROUP_MAX_EPS 1e-15f

/* Round to nearest, ties to even, as ggml's nearest_int: adds 1.5 * 2^23 and
 * reads the low mantissa bits. Exact for |x| <= 4194303; outside that range
 * (and for NaN) the result is the same garbage ggml produces, which the
 * callers then clamp, so files stay identical even for degenerate input. */
static inline int rf__nearest_int(float x) {
    float v = x + 12582912.f;
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

/* Symmetric quantization of x[0..n) to L[i] in [0, 2*nmax) (stored offset by
 * nmax) minimising the weighted squared error; returns the scale.
 * rmse_type: 0 plain max scaling; 1 weights x^2 (or qw when given); 2 unit;
 * 3 |x|; 4 sqrt|x|; negative: one pass, returns the mean of two estimates. */
float rf__make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type, const float *qw);

/* Q3_K's symmetric search: like rmse_type 1 plus up to 5 rounds of per-value
 * refinement when do_rmse. L is returned offset by nmax. */
float rf__make_q3_quants(int n, int nmax, const float *x, int8_t *L, bool do_rmse);

/* Asymmetric (scale and min) search over nstep+1 trial scales, L in [0, nmax].
 * Returns the scale and stores -min in *the_min. Laux: n bytes of scratch. */
float rf__make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                           float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                           bool use_mad);

/* As make_qkx2_quants, but weights may be NULL (meaning x^2). */
float rf__make_qkx3_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                           float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                           bool use_mad);

/* Quantizes non-negative x[0..n) (sub-block scales or mins) to L in
 * [0, nmax] with weights quant_weights; returns the scale. */
float rf__make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *quant_weights);

/* ---- Q4_K / Q5_K super-blocks (q4_k.c), shared by both types ---------------- */

/* Packs 8 scales ls and 8 mins lm into the 12 scale bytes of a block. */
void rf__k4_pack_scales(const uint8_t *ls, const uint8_t *lm, uint8_t *q);
/* Re-derives the quants L (0..nmax) of 256 values x from a block's final
 * packed scales and half-precision d/dmin. */
void rf__k4_requantize(const float *x, const uint8_t *scales, uint16_t dh, uint16_t dminh, int nmax,
                       uint8_t *L);
/* Reference search for one super-block (no importance weights): scales,
 * d, dmin and the quants L (0..nmax), before bit packing. */
void rf__k4_block_ref(const float *x, int nmax, float rmin, float rdelta, int nstep, uint8_t *scales_out,
                      uint16_t *d_out, uint16_t *dmin_out, uint8_t *L);
/* The same with importance weights quant_weights (256 values, may be NULL). */
void rf__k4_block_imatrix(const float *x, int nmax, const float *quant_weights, bool clamp63,
                          uint8_t *scales_out, uint16_t *d_out, uint16_t *dmin_out, uint8_t *L);

#endif /* RF_QUANT_SEARCH_H */
