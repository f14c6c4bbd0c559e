/* types.c - the table of tensor types: one row per type file. */
#include <stddef.h>
#include <strings.h>

#include "quant/quant.h"

extern const rf_type_traits rf__traits_f32;
extern const rf_type_traits rf__traits_f16;
extern const rf_type_traits rf__traits_q4_0;
extern const rf_type_traits rf__traits_q4_1;
extern const rf_type_traits rf__traits_q5_0;
extern const rf_type_traits rf__traits_q5_1;
extern const rf_type_traits rf__traits_q8_0;
extern const rf_type_traits rf__traits_q8_1;
extern const rf_type_traits rf__traits_q2_k;
extern const rf_type_traits rf__traits_q3_k;
extern const rf_type_traits rf__traits_q4_k;
extern const rf_type_traits rf__traits_q5_k;
extern const rf_type_traits rf__traits_q6_k;
extern const rf_type_traits rf__traits_q8_k;
extern const rf_type_traits rf__traits_iq2_xxs;
extern const rf_type_traits rf__traits_iq2_xs;
extern const rf_type_traits rf__traits_iq3_xxs;
extern const rf_type_traits rf__traits_iq1_s;
extern const rf_type_traits rf__traits_iq4_nl;
extern const rf_type_traits rf__traits_iq3_s;
extern const rf_type_traits rf__traits_iq2_s;
extern const rf_type_traits rf__traits_iq4_xs;
extern const rf_type_traits rf__traits_i8;
extern const rf_type_traits rf__traits_i16;
extern const rf_type_traits rf__traits_i32;
extern const rf_type_traits rf__traits_i64;
extern const rf_type_traits rf__traits_f64;
extern const rf_type_traits rf__traits_iq1_m;
extern const rf_type_traits rf__traits_bf16;
extern const rf_type_traits rf__traits_tq1_0;
extern const rf_type_traits rf__traits_tq2_0;
extern const rf_type_traits rf__traits_mxfp4;
extern const rf_type_traits rf__traits_nvfp4;
extern const rf_type_traits rf__traits_q1_0;

static const rf_type_traits *const type_table[RF_TYPE_COUNT] = {
    [RF_TYPE_F32] = &rf__traits_f32,
    [RF_TYPE_F16] = &rf__traits_f16,
    [RF_TYPE_Q4_0] = &rf__traits_q4_0,
    [RF_TYPE_Q4_1] = &rf__traits_q4_1,
    [RF_TYPE_Q5_0] = &rf__traits_q5_0,
    [RF_TYPE_Q5_1] = &rf__traits_q5_1,
    [RF_TYPE_Q8_0] = &rf__traits_q8_0,
    [RF_TYPE_Q8_1] = &rf__traits_q8_1,
    [RF_TYPE_Q2_K] = &rf__traits_q2_k,
    [RF_TYPE_Q3_K] = &rf__traits_q3_k,
    [RF_TYPE_Q4_K] = &rf__traits_q4_k,
    [RF_TYPE_Q5_K] = &rf__traits_q5_k,
    [RF_TYPE_Q6_K] = &rf__traits_q6_k,
    [RF_TYPE_Q8_K] = &rf__traits_q8_k,
    [RF_TYPE_IQ2_XXS] = &rf__traits_iq2_xxs,
    [RF_TYPE_IQ2_XS] = &rf__traits_iq2_xs,
    [RF_TYPE_IQ3_XXS] = &rf__traits_iq3_xxs,
    [RF_TYPE_IQ1_S] = &rf__traits_iq1_s,
    [RF_TYPE_IQ4_NL] = &rf__traits_iq4_nl,
    [RF_TYPE_IQ3_S] = &rf__traits_iq3_s,
    [RF_TYPE_IQ2_S] = &rf__traits_iq2_s,
    [RF_TYPE_IQ4_XS] = &rf__traits_iq4_xs,
    [RF_TYPE_I8] = &rf__traits_i8,
    [RF_TYPE_I16] = &rf__traits_i16,
    [RF_TYPE_I32] = &rf__traits_i32,
    [RF_TYPE_I64] = &rf__traits_i64,
    [RF_TYPE_F64] = &rf__traits_f64,
    [RF_TYPE_IQ1_M] = &rf__traits_iq1_m,
    [RF_TYPE_BF16] = &rf__traits_bf16,
    [RF_TYPE_TQ1_0] = &rf__traits_tq1_0,
    [RF_TYPE_TQ2_0] = &rf__traits_tq2_0,
    [RF_TYPE_MXFP4] = &rf__traits_mxfp4,
    [RF_TYPE_NVFP4] = &rf__traits_nvfp4,
    [RF_TYPE_Q1_0] = &rf__traits_q1_0,
};

const rf_type_traits *rf_type_get(int64_t t) {
    if (t < 0 || t >= RF_TYPE_COUNT) return NULL;
    return type_table[t];
}

int rf_type_from_name(const char *name) {
    for (int t = 0; t < RF_TYPE_COUNT; t++)
        if (type_table[t] && strcasecmp(type_table[t]->name, name) == 0) return t;
    return -1;
}

size_t rf_type_row_size(rf_type t, int64_t n) {
    const rf_type_traits *tr = rf_type_get(t);
    if (!tr || n < 0 || n % tr->block_size != 0) return 0;
    size_t out;
    if (__builtin_mul_overflow((size_t)(n / tr->block_size), tr->type_size, &out)) return 0;
    return out;
}
