/*
 * dot.c - chooses the dot-product implementation per weight type.
 *
 * On first use every implementation this build has and this CPU runs fills
 * its own table; rf__cpu_dot_get then hands out, per weight type, the most
 * capable one that exists (AVX-512 over AVX2 over scalar). The environment
 * variable RF_CPU_DOT=scalar|avx2|avx512|neon caps the choice (for
 * benchmarks and bug hunts).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "cpu/cpu_features.h"
#include "cpu/dot_impl.h"
#include "quant/quant_impl.h"

float rf__dot_f16_table[1 << 16];

enum { IMPL_SCALAR, IMPL_AVX2, IMPL_AVX512, IMPL_NEON, IMPL_COUNT };
static const char *const impl_names[IMPL_COUNT] = {"scalar", "avx2", "avx512", "neon"};

/* ggml's vec_dot_type of every weight type that has a dot product. */
static rf_type act_type_of(rf_type t, bool *ok) {
    *ok = true;
    switch (t) {
    case RF_TYPE_F32: return RF_TYPE_F32;
    case RF_TYPE_F16: return RF_TYPE_F16;
    case RF_TYPE_BF16: return RF_TYPE_BF16;
    case RF_TYPE_Q4_0: case RF_TYPE_Q5_0: case RF_TYPE_Q8_0: case RF_TYPE_IQ4_NL:
    case RF_TYPE_MXFP4: case RF_TYPE_NVFP4: case RF_TYPE_Q1_0:
        return RF_TYPE_Q8_0;
    case RF_TYPE_Q4_1: case RF_TYPE_Q5_1:
        return RF_TYPE_Q8_1;
    case RF_TYPE_Q2_K: case RF_TYPE_Q3_K: case RF_TYPE_Q4_K: case RF_TYPE_Q5_K: case RF_TYPE_Q6_K:
    case RF_TYPE_IQ2_XXS: case RF_TYPE_IQ2_XS: case RF_TYPE_IQ2_S: case RF_TYPE_IQ3_XXS:
    case RF_TYPE_IQ3_S: case RF_TYPE_IQ1_S: case RF_TYPE_IQ1_M: case RF_TYPE_IQ4_XS:
    case RF_TYPE_TQ1_0: case RF_TYPE_TQ2_0:
        return RF_TYPE_Q8_K;
    default:
        *ok = false;
        return RF_TYPE_F32;
    }
}

static rf_dot_table tables[IMPL_COUNT];
static bool impl_on[IMPL_COUNT];
static rf_cpu_dot entries[IMPL_COUNT][RF_TYPE_COUNT];
static rf_cpu_dot best[RF_TYPE_COUNT];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Order of preference, most capable last. */
static const int order[] = {IMPL_SCALAR, IMPL_NEON, IMPL_AVX2, IMPL_AVX512};

static int impl_index(const char *name) {
    for (int i = 0; i < IMPL_COUNT; i++)
        if (name && strcmp(name, impl_names[i]) == 0) return i;
    return -1;
}

static void init(void) {
    for (uint32_t h = 0; h < (1u << 16); h++) rf__dot_f16_table[h] = rf__fp16_to_fp32((uint16_t)h);
    for (int b = 0; b < 256; b++) rf__ue4m3_half_table[b] = rf__ue4m3_to_fp32_half((uint8_t)b);

    rf_dot_table *sc = &tables[IMPL_SCALAR];
    rf__dot_fill_float(sc);
    rf__dot_fill_legacy(sc);
    rf__dot_fill_kquant(sc);
    rf__dot_fill_iquant(sc);
    impl_on[IMPL_SCALAR] = true;
#if defined(__x86_64__)
    if (rf__cpu_has_avx2()) { rf__dot_fill_avx2(&tables[IMPL_AVX2]); impl_on[IMPL_AVX2] = true; }
    if (rf__cpu_has_avx512()) { rf__dot_fill_avx512(&tables[IMPL_AVX512]); impl_on[IMPL_AVX512] = true; }
#endif
#if defined(__aarch64__)
    if (rf__cpu_features()->neon) { rf__dot_fill_neon(&tables[IMPL_NEON]); impl_on[IMPL_NEON] = true; }
#endif
    int cap = impl_index(getenv("RF_CPU_DOT")); /* caps the choice */

    for (int t = 0; t < RF_TYPE_COUNT; t++) {
        bool ok;
        rf_type at = act_type_of((rf_type)t, &ok);
        if (!ok) continue;
        for (int i = 0; i < IMPL_COUNT; i++) {
            if (!impl_on[i] || !tables[i].dot[t]) continue;
            /* the activation quantizer of this implementation, or of the
             * most capable one below it */
            rf_act_quant_fn q = NULL;
            for (size_t k = 0; k < RF_ARRAY_LEN(order); k++) {
                if (impl_on[order[k]] && tables[order[k]].quant[at]) q = tables[order[k]].quant[at];
                if (order[k] == i) break;
            }
            entries[i][t] = (rf_cpu_dot){at, q, tables[i].dot[t], tables[i].dot_multi[t], impl_names[i]};
        }
        rf_vec_dot_fn dot = NULL;
        rf_vec_dot_multi_fn multi = NULL;
        rf_act_quant_fn quant = NULL;
        const char *name = NULL;
        for (size_t k = 0; k < RF_ARRAY_LEN(order); k++) {
            int i = order[k];
            if (!impl_on[i]) continue;
            if (tables[i].dot[t]) {
                dot = tables[i].dot[t];
                multi = tables[i].dot_multi[t];
                name = impl_names[i];
            }
            if (tables[i].quant[at]) quant = tables[i].quant[at];
            if (i == cap) break;
        }
        if (dot && quant) best[t] = (rf_cpu_dot){at, quant, dot, multi, name};
    }
}

const rf_cpu_dot *rf__cpu_dot_get(rf_type t) {
    if ((int)t < 0 || t >= RF_TYPE_COUNT) return NULL;
    pthread_once(&init_once, init);
    return best[t].vec_dot ? &best[t] : NULL;
}

const rf_cpu_dot *rf__cpu_dot_get_impl(rf_type t, const char *impl) {
    if ((int)t < 0 || t >= RF_TYPE_COUNT) return NULL;
    pthread_once(&init_once, init);
    int i = impl_index(impl);
    if (i < 0 || !impl_on[i]) return NULL;
    return entries[i][t].vec_dot && entries[i][t].quantize_act ? &entries[i][t] : NULL;
}

const char *const *rf__cpu_dot_impls(int *count) {
    *count = IMPL_COUNT;
    return impl_names;
}
