/*
 * quant.h - every tensor type ggml defines: block layouts, traits, and the
 * conversions to and from f32.
 *
 * One C file per type (src/quant/<type>.c) defines `rf__traits_<type>` and the
 * block struct lives in that file (or in quant_blocks.h where a kernel needs
 * it too). Type ids are ggml's, so they can be stored in GGUF files as is.
 */
#ifndef RF_QUANT_H
#define RF_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RF_QK_K 256

typedef enum rf_type {
    RF_TYPE_F32 = 0,
    RF_TYPE_F16 = 1,
    RF_TYPE_Q4_0 = 2,
    RF_TYPE_Q4_1 = 3,
    /* 4, 5: retired Q4_2, Q4_3 */
    RF_TYPE_Q5_0 = 6,
    RF_TYPE_Q5_1 = 7,
    RF_TYPE_Q8_0 = 8,
    RF_TYPE_Q8_1 = 9,
    RF_TYPE_Q2_K = 10,
    RF_TYPE_Q3_K = 11,
    RF_TYPE_Q4_K = 12,
    RF_TYPE_Q5_K = 13,
    RF_TYPE_Q6_K = 14,
    RF_TYPE_Q8_K = 15,
    RF_TYPE_IQ2_XXS = 16,
    RF_TYPE_IQ2_XS = 17,
    RF_TYPE_IQ3_XXS = 18,
    RF_TYPE_IQ1_S = 19,
    RF_TYPE_IQ4_NL = 20,
    RF_TYPE_IQ3_S = 21,
    RF_TYPE_IQ2_S = 22,
    RF_TYPE_IQ4_XS = 23,
    RF_TYPE_I8 = 24,
    RF_TYPE_I16 = 25,
    RF_TYPE_I32 = 26,
    RF_TYPE_I64 = 27,
    RF_TYPE_F64 = 28,
    RF_TYPE_IQ1_M = 29,
    RF_TYPE_BF16 = 30,
    /* 31-33: retired Q4_0_4_4, Q4_0_4_8, Q4_0_8_8 */
    RF_TYPE_TQ1_0 = 34,
    RF_TYPE_TQ2_0 = 35,
    /* 36-38: retired IQ4_NL_4_4, IQ4_NL_4_8, IQ4_NL_8_8 */
    RF_TYPE_MXFP4 = 39,
    RF_TYPE_NVFP4 = 40,
    RF_TYPE_Q1_0 = 41,
    RF_TYPE_COUNT = 42
} rf_type;

/* Converts n values (n a multiple of block_size) from blocks to f32. */
typedef void (*rf_to_f32_fn)(const void *src, float *dst, int64_t n);
/* Quantizes nrows rows of n_per_row values (a multiple of block_size) with
 * the type's reference algorithm (ggml's quantize_row_*_ref / quantize_*);
 * `imatrix` (n_per_row importance weights) may be NULL. Returns bytes written. */
typedef size_t (*rf_quantize_fn)(const float *src, void *dst, int64_t nrows,
                                 int64_t n_per_row, const float *imatrix);

typedef struct rf_type_traits {
    const char *name;      /* ggml's name, e.g. "q4_K" is written "Q4_K" here */
    int64_t block_size;    /* values per block */
    size_t type_size;      /* bytes per block */
    bool is_quantized;
    rf_to_f32_fn to_f32;       /* NULL for integer types */
    rf_quantize_fn quantize;   /* NULL where no quantizer exists */
} rf_type_traits;

/* Traits of type t, or NULL if t is not a known type id. */
const rf_type_traits *rf_type_get(int64_t t);
/* Looks a type up by name (case-insensitive, e.g. "q4_k", "F16"); -1 if none. */
int rf_type_from_name(const char *name);
/* Bytes of a row of n values; 0 if n is not a multiple of the block size or
 * the size overflows. */
size_t rf_type_row_size(rf_type t, int64_t n);

#endif /* RF_QUANT_H */
