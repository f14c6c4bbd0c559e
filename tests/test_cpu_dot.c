/*
 * test_cpu_dot.c - every CPU dot product against an independent reference.
 *
 * For each weight type ggml can multiply and each implementation this CPU
 * runs (scalar, avx2, avx512, neon):
 *   - weights: random normal data quantized with the type's quantizer, or,
 *     where none exists yet, random bytes with sane scales;
 *   - activations: random normal data through the implementation's
 *     activation quantizer;
 *   - reference: a double-precision dot of the type's to_f32 (tested
 *     against gguf elsewhere) and the dequantized activations;
 *   - SIMD results must also match the scalar result to float rounding.
 * A type without a dot product, or without a dequantizer to check it, fails.
 * Activation quantizers are checked against the scalar ones.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "cpu/cpu_features.h"
#include "cpu/dot_impl.h"
#include "rf_test.h"

/* The weight types ggml's CPU backend multiplies (those with a vec_dot). */
static const rf_type kTypes[] = {
    RF_TYPE_F32,     RF_TYPE_F16,    RF_TYPE_BF16,    RF_TYPE_Q4_0,   RF_TYPE_Q4_1,  RF_TYPE_Q5_0,
    RF_TYPE_Q5_1,    RF_TYPE_Q8_0,   RF_TYPE_Q2_K,    RF_TYPE_Q3_K,   RF_TYPE_Q4_K,  RF_TYPE_Q5_K,
    RF_TYPE_Q6_K,    RF_TYPE_IQ1_S,  RF_TYPE_IQ1_M,   RF_TYPE_IQ2_XXS, RF_TYPE_IQ2_XS, RF_TYPE_IQ2_S,
    RF_TYPE_IQ3_XXS, RF_TYPE_IQ3_S,  RF_TYPE_IQ4_NL,  RF_TYPE_IQ4_XS, RF_TYPE_TQ1_0, RF_TYPE_TQ2_0,
    RF_TYPE_MXFP4,   RF_TYPE_NVFP4,  RF_TYPE_Q1_0,
};

/* ---- random numbers (xorshift, fixed seed) ---------------------------------- */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static float rnd_unit(void) { return ((float)(rnd_u32() & 0xFFFFFF) + 0.5f) / 16777216.0f; }
static float rnd_normal(void) {
    return sqrtf(-2.0f * logf(rnd_unit())) * cosf(6.2831853f * rnd_unit());
}
/* A random f16 scale of magnitude 2^-10 .. 2^-4, random sign if `sign`. */
static uint16_t rnd_scale(bool sign) {
    float v = ldexpf(1.0f + rnd_unit(), -10 + (int)(rnd_u32() % 6));
    if (sign && (rnd_u32() & 1)) v = -v;
    return rf__fp32_to_fp16(v);
}

/* ---- weights -------------------------------------------------------------------- */

/* Overwrites the scale fields of random-byte blocks with sane values. */
static void sanitize_blocks(rf_type t, uint8_t *p, int64_t nblocks, size_t bsize) {
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

/* Fills `w` with one row of n weights of type t; returns false on failure. */
static bool make_weights(rf_type t, int64_t n, void *w, float *tmp) {
    const rf_type_traits *tr = rf_type_get(t);
    for (int64_t i = 0; i < n; i++) tmp[i] = rnd_normal();
    if (t == RF_TYPE_F32) { memcpy(w, tmp, (size_t)n * 4); return true; }
    if (t == RF_TYPE_F16 || t == RF_TYPE_BF16) {
        uint16_t *h = w;
        for (int64_t i = 0; i < n; i++) h[i] = t == RF_TYPE_F16 ? rf__fp32_to_fp16(tmp[i]) : rf__fp32_to_bf16(tmp[i]);
        return true;
    }
    size_t rs = rf_type_row_size(t, n);
    if (tr->quantize) return tr->quantize(tmp, w, 1, n, NULL) == rs;
    uint8_t *p = w;
    for (size_t i = 0; i < rs; i++) p[i] = (uint8_t)rnd_u32();
    sanitize_blocks(t, p, n / tr->block_size, tr->type_size);
    return true;
}

/* ---- activations ------------------------------------------------------------------ */

static void dequant_act(rf_type at, const void *a, float *out, int64_t n) {
    switch (at) {
    case RF_TYPE_F32: memcpy(out, a, (size_t)n * 4); break;
    case RF_TYPE_F16:
        for (int64_t i = 0; i < n; i++) out[i] = rf__fp16_to_fp32(((const uint16_t *)a)[i]);
        break;
    case RF_TYPE_BF16:
        for (int64_t i = 0; i < n; i++) out[i] = rf__bf16_to_fp32(((const uint16_t *)a)[i]);
        break;
    case RF_TYPE_Q8_0:
        for (int64_t i = 0; i < n; i++) {
            const rf_blk_q8_0 *b = (const rf_blk_q8_0 *)a + i / 32;
            out[i] = rf__fp16_to_fp32(b->d) * b->qs[i % 32];
        }
        break;
    case RF_TYPE_Q8_1:
        for (int64_t i = 0; i < n; i++) {
            const rf_blk_q8_1 *b = (const rf_blk_q8_1 *)a + i / 32;
            out[i] = rf__fp16_to_fp32(b->d) * b->qs[i % 32];
        }
        break;
    case RF_TYPE_Q8_K:
        for (int64_t i = 0; i < n; i++) {
            const rf_blk_q8_k *b = (const rf_blk_q8_k *)a + i / 256;
            out[i] = b->d * b->qs[i % 256];
        }
        break;
    default: break;
    }
}

/* Checks the structural invariants of a quantized activation row (Q8_1's s,
 * Q8_K's bsums) and its closeness to x; returns the number of problems. */
static int check_act(rf_type at, const void *a, const float *x, int64_t n, const char *impl) {
    float *deq = malloc((size_t)n * sizeof(float));
    int bad = 0;
    dequant_act(at, a, deq, n);
    int64_t bs = at == RF_TYPE_Q8_K ? 256 : at == RF_TYPE_Q8_0 || at == RF_TYPE_Q8_1 ? 32 : 1;
    for (int64_t b0 = 0; b0 < n; b0 += bs) {
        float amax = 0.0f;
        for (int64_t i = b0; i < b0 + bs; i++) amax = fmaxf(amax, fabsf(x[i]));
        /* f32 exact, f16/bf16 relative rounding, int8: half a step (+ f16 d). */
        for (int64_t i = b0; i < b0 + bs; i++) {
            float err = fabsf(deq[i] - x[i]), lim;
            if (at == RF_TYPE_F32) lim = 0.0f;
            else if (at == RF_TYPE_F16) lim = fabsf(x[i]) * 4.9e-4f + 3.0e-8f; /* subnormals */
            else if (at == RF_TYPE_BF16) lim = fabsf(x[i]) * 3.91e-3f;
            else {
                /* half a step, plus the scale's rounding to f16 (subnormal
                 * for tiny blocks) times the largest code */
                float d = amax / 127.0f, d16 = at == RF_TYPE_Q8_K ? d : rf__fp16_to_fp32(rf__fp32_to_fp16(d));
                lim = 0.502f * d + 128.0f * fabsf(d16 - d) + amax * 1e-6f;
            }
            if (err > lim) bad++;
        }
    }
    if (at == RF_TYPE_Q8_1) {
        for (int64_t ib = 0; ib < n / 32; ib++) {
            const rf_blk_q8_1 *b = (const rf_blk_q8_1 *)a + ib;
            int sum = 0;
            for (int j = 0; j < 32; j++) sum += b->qs[j];
            float amax = 0.0f;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * ib + j]));
            /* s is d * sum with the unrounded d, itself rounded to f16 */
            float s = rf__fp16_to_fp32(b->s), want = amax / 127.0f * (float)sum;
            if (fabsf(s - want) > fabsf(want) * 4.9e-4f + 3.0e-8f) bad++;
        }
    }
    if (at == RF_TYPE_Q8_K) {
        for (int64_t ib = 0; ib < n / 256; ib++) {
            const rf_blk_q8_k *b = (const rf_blk_q8_k *)a + ib;
            for (int j = 0; j < 16; j++) {
                int sum = 0;
                for (int l = 0; l < 16; l++) sum += b->qs[16 * j + l];
                if (sum != b->bsums[j]) bad++;
            }
            for (int j = 0; j < 256; j++) if (b->qs[j] == -128) bad++;
        }
    }
    if (bad) fprintf(stderr, "  activation quantizer %s for %s: %d bad values\n", impl, rf_type_get(at)->name, bad);
    free(deq);
    return bad;
}

/* ---- the test ------------------------------------------------------------------------ */

static int impl_count;
static const char *const *impl_names;

static bool test_type(rf_type t) {
    const rf_type_traits *tr = rf_type_get(t);
    const rf_cpu_dot *best = rf__cpu_dot_get(t);
    const rf_cpu_dot *sc = rf__cpu_dot_get_impl(t, "scalar");
    bool ok = true;
    if (!best || !sc) {
        fprintf(stderr, "%-8s UNSUPPORTED: no %s dot product\n", tr->name, best ? "scalar" : "");
        return false;
    }
    /* Until a type's to_f32 lands, its reference check is the one of
     * tests/py/test_cpu_dot_gguf.py (against gguf); SIMD-vs-scalar runs. */
    bool have_ref = tr->to_f32 != NULL;
    const rf_type_traits *at = rf_type_get(best->act_type);
    static const int64_t sizes[] = {256, 512, 4096};
    char line[256];
    int used = snprintf(line, sizeof line, "%-8s act %-5s", tr->name, at->name);
    double worst_ref = 0.0, worst_simd = 0.0;

    for (size_t si = 0; si < RF_ARRAY_LEN(sizes); si++) {
        int64_t n = sizes[si];
        if (n % tr->block_size || n % at->block_size) continue;
        for (int trial = 0; trial < 4; trial++) {
            size_t wsz = rf_type_row_size(t, n), asz = rf_type_row_size(best->act_type, n);
            void *w = malloc(wsz), *a = malloc(asz), *a2 = malloc(asz);
            float *x = malloc((size_t)n * 4), *wf = malloc((size_t)n * 4), *af = malloc((size_t)n * 4);
            if (!make_weights(t, n, w, x)) {
                fprintf(stderr, "%s: quantizer failed\n", tr->name);
                ok = false;
            }
            if (have_ref) tr->to_f32(w, wf, n);
            else for (int64_t i = 0; i < n; i++) wf[i] = 1.0f;
            float scale = trial == 3 ? 1e-3f : 1.0f + (float)trial;
            for (int64_t i = 0; i < n; i++) x[i] = rnd_normal() * scale;
            sc->quantize_act(x, a, n);
            if (check_act(best->act_type, a, x, n, "scalar")) ok = false;
            dequant_act(best->act_type, a, af, n);
            double ref = 0.0, mag = 0.0;
            for (int64_t i = 0; i < n; i++) {
                ref += (double)wf[i] * (double)af[i];
                mag += fabs((double)wf[i] * (double)af[i]);
            }
            /* Q8_1 carries s = d * sum(q) rounded to f16: its rounding enters
             * through the weights' offset term. */
            double tol_ref = best->act_type == RF_TYPE_Q8_1 ? 2e-3 : 1e-5;
            float s_scalar = NAN;
            sc->vec_dot(n, &s_scalar, w, a);
            double e = fabs((double)s_scalar - ref) / (mag > 0 ? mag : 1.0);
            if (have_ref && !(e <= tol_ref)) {
                fprintf(stderr, "%s scalar n=%lld: got %.9g want %.9g (rel err %.3g)\n", tr->name,
                        (long long)n, s_scalar, ref, e);
                ok = false;
            }
            if (have_ref && e > worst_ref) worst_ref = e;
            if (!have_ref) mag = fabs((double)s_scalar) * sqrt((double)n); /* estimate */
            if (!(mag > 0)) { fprintf(stderr, "%s: all-zero dot\n", tr->name); ok = false; }

            for (int k = 0; k < impl_count; k++) {
                if (!strcmp(impl_names[k], "scalar")) continue;
                const rf_cpu_dot *im = rf__cpu_dot_get_impl(t, impl_names[k]);
                if (!im) continue;
                float s = NAN;
                im->vec_dot(n, &s, w, a);
                double es = fabs((double)s - (double)s_scalar) / (mag > 0 ? mag : 1.0);
                if (!(es <= 2e-6)) {
                    fprintf(stderr, "%s %s n=%lld: got %.9g, scalar %.9g (rel diff %.3g)\n", tr->name,
                            impl_names[k], (long long)n, s, s_scalar, es);
                    ok = false;
                }
                if (es > worst_simd) worst_simd = es;
                /* The implementation's own activation quantizer. */
                if (im->quantize_act != sc->quantize_act) {
                    im->quantize_act(x, a2, n);
                    if (check_act(best->act_type, a2, x, n, impl_names[k])) ok = false;
                    float s2 = NAN;
                    im->vec_dot(n, &s2, w, a2);
                    double e2 = fabs((double)s2 - (double)s_scalar) / (mag > 0 ? mag : 1.0);
                    if (!(e2 <= 2e-2)) {
                        fprintf(stderr, "%s %s n=%lld: own activations give %.9g, scalar %.9g\n",
                                tr->name, impl_names[k], (long long)n, s2, s_scalar);
                        ok = false;
                    }
                }
            }
            free(w); free(a); free(a2); free(x); free(wf); free(af);
        }
    }
    for (int k = 0; k < impl_count; k++)
        if (rf__cpu_dot_get_impl(t, impl_names[k]))
            used += snprintf(line + used, sizeof line - (size_t)used, " %s", impl_names[k]);
    snprintf(line + used, sizeof line - (size_t)used, "  [best %s] ref err %s%.2g simd diff %.2g %s%s",
             best->impl, have_ref ? "" : "(no to_f32: see test_cpu_dot_gguf) ", worst_ref, worst_simd, tr->quantize ? "" : "(random blocks) ", ok ? "ok" : "FAIL");
    fprintf(stderr, "%s\n", line);
    return ok;
}

int main(void) {
    char feats[256];
    rf__cpu_features_string(feats, sizeof feats);
    fprintf(stderr, "cpu features: %s\n", feats);
    impl_names = rf__cpu_dot_impls(&impl_count);
    for (size_t i = 0; i < RF_ARRAY_LEN(kTypes); i++) RF_CHECK(test_type(kTypes[i]));
    /* Types without a matrix product in ggml have no dot here either. */
    RF_CHECK(rf__cpu_dot_get(RF_TYPE_Q8_K) == NULL);
    RF_CHECK(rf__cpu_dot_get(RF_TYPE_I32) == NULL);
    RF_CHECK(rf__cpu_dot_get((rf_type)-1) == NULL);
    RF_CHECK(rf__cpu_dot_get_impl(RF_TYPE_F32, "no-such-impl") == NULL);
    return rf_test_finish("test_cpu_dot");
}
