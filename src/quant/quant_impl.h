/*
 * quant_impl.h - helpers shared by the type files (src/quant/<type>.c):
 * packed block declarations, the value tables of the non-linear types, FP8
 * scale conversions, the IQ4 search and the row loop. The scale searches of
 * ggml's reference quantizers are in quant_search.h.
 * Internal to src/quant.
 *
 * Block structs are declared packed: tensor data in a file is only as aligned
 * as the file says, and a block of 18 bytes puts every other block on an odd
 * 2-byte boundary anyway, so field loads must not assume alignment.
 *
 * Every routine here reproduces ggml's float arithmetic operation by
 * operation (same order, same types, no contraction into fused multiply-add:
 * src/quant is compiled with -ffp-contract=off), because the quantized bytes
 * must match ggml's bit for bit.
 */
#ifndef RF_QUANT_IMPL_H
#define RF_QUANT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "quant/quant.h"
#include "quant/quant_search.h" /* rf__nearest_int, rf__make_qx_quants, rf__make_qkx3_quants */

#define RF_PACKED __attribute__((packed))

/* A block layout check: size and one field offset. */
#define RF_BLOCK_CHECK(type, size) _Static_assert(sizeof(type) == (size), #type " must be " #size " bytes")
#define RF_FIELD_AT(type, field, off) \
    _Static_assert(offsetof(type, field) == (off), #type "." #field " must be at byte " #off)

/* C's (int)f without undefined behaviour: NaN and values beyond int give
 * INT_MIN, as x86's cvttss2si does. ggml converts with plain casts (to int8_t
 * or uint8_t, which compilers do through a 32-bit truncation); writing
 * (int8_t)rf__trunc_int(f) gives ggml's x86 result for every input, finite or
 * not, without relying on undefined behaviour. */
static inline int rf__trunc_int(float f) {
    return (f > -2147483648.0f && f < 2147483648.0f) ? (int)f : INT32_MIN;
}

/* Little-endian 16-bit store to possibly unaligned memory. */
static inline void rf__wr16(void *p, uint16_t v) { memcpy(p, &v, sizeof v); }

/* The 16 levels of IQ4_NL / IQ4_XS (ggml's kvalues_iq4nl) and the E2M1
 * values doubled, indexed by the 4-bit code (ggml's kvalues_mxfp4); defined
 * once for the library in src/cpu/dot_legacy.c. */
extern const int8_t rf__kvalues_iq4nl[16];
extern const int8_t rf__kvalues_mxfp4[16];

/* E8M0 exponent byte to 2^(e-128), i.e. half the power of two it encodes
 * (the MXFP4 table holds doubled values). No NaN handling, like ggml. */
static inline float rf__e8m0_to_fp32_half(uint8_t e) {
    uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Unsigned E4M3 scale byte (bias 7; 0x00 and 0x7F read as 0) to half its
 * value, matching the doubled E2M1 table. Bit 7 is ignored except that 0xFF
 * is not the zero code. */
float rf__ue4m3_to_fp32_half(uint8_t x);
/* f32 to unsigned E4M3 as ggml's ggml_fp32_to_ue4m3: non-positive and NaN
 * give 0, values clamp at 448, the top code is 0x7E. */
uint8_t rf__fp32_to_ue4m3(float x);

/* The MXFP4 code (0..15) whose table value times e is nearest to x, the
 * first one on ties (ggml's best_index_mxfp4; mxfp4.c, used by NVFP4 too). */
uint8_t rf__mxfp4_best_index(float x, float e);

/* ggml's quantize_row_iq4_nl_impl for 16 levels: quantizes super_block_size
 * values x (blocks of block_size, each with its own scale) to 4-bit codes q4
 * (two 16-value halves of each 32 per 16 bytes) and the f16 scale dh. With
 * more than one block per super-block the block scales are stored as 6-bit
 * ints relative to dh in scales_l (low nibbles) and scales_h (2 bits each,
 * little-endian uint16). ntry > 0 searches 2*ntry+1 scales per block.
 * scales (one per block), weight (block_size) and L (super_block_size) are
 * scratch. quant_weights (super_block_size values) may be NULL. */
void rf__iq4_quantize_super_block(int super_block_size, int block_size, const float *x, uint8_t *dh,
                                  uint8_t *q4, uint8_t *scales_h, uint8_t *scales_l, float *scales,
                                  float *weight, uint8_t *L, const int8_t *values, const float *quant_weights,
                                  int ntry);

/* Quantizes one row of n values (a multiple of the block size) to y, with
 * optional per-column importance weights `imatrix` (n values). */
typedef void (*rf_quant_row_fn)(const float *x, void *y, int64_t n, const float *imatrix);
/* Runs `row` over nrows rows for type t; returns bytes written, or 0 when
 * n_per_row is not a positive multiple of the block size. */
size_t rf__quantize_rows(rf_type t, rf_quant_row_fn row, const float *src, void *dst, int64_t nrows,
                         int64_t n_per_row, const float *imatrix);

#endif /* RF_QUANT_IMPL_H */
