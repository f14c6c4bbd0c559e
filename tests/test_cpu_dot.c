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
#include "rf_dot_random.h"
#include "rf_test.h"

/* The weight types ggml's CPU backend multiplies (those with a vec_dot). */
static const rf_type kTypes[] = {
    RF_TYPE_F32,     RF_TYPE_F16,    RF_TYPE_BF16,    RF_TYPE_Q4_0,   RF_TYPE_Q4_1,  RF_TYPE_Q5_0,
    RF_TYPE_Q5_1,    RF_TYPE_Q8_0,   RF_TYPE_Q2_K,    RF_TYPE_Q3_K,   RF_TYPE_Q4_K,  RF_TYPE_Q5_K,
    RF_TYPE_Q6_K,    RF_TYPE_IQ1_S,  RF_TYPE_IQ1_M,   RF_TYPE_IQ2_XXS, RF_TYPE_IQ2_XS, RF_TYPE_IQ2_S,
    RF_TYPE_IQ3_XXS, RF_TYPE_IQ3_S,  RF_TYPE_IQ4_NL,  RF_TYPE_IQ4_XS, RF_TYPE_TQ1_0, RF_TYPE_TQ2_0,
    RF_TYPE_MXFP4,   RF_TYPE_NVFP4,  RF_TYPE_Q1_0,
};

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
    if (!tr->to_f32) {
        fprintf(stderr, "%-8s NOT CHECKED: the type has no to_f32 to compare with\n", tr->name);
        return false;
    }
    const rf_type_traits *at = rf_type_get(best->act_type);
    static const int64_t sizes[] = {100, 160, 256, 512, 1000, 4096}; /* odd sizes reach the tails */
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
            tr->to_f32(w, wf, n);
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
            /* Q8_1 carries s = d * sum(q) rounded to f16, which the kernels
             * use for the weights' offset m (an f16 at byte 2 of Q4_1 and
             * Q5_1 blocks): add that rounding, m * (s - d * sum(q)), to the
             * reference so the bound stays tight. */
            if (best->act_type == RF_TYPE_Q8_1) {
                for (int64_t ib = 0; ib < n / 32; ib++) {
                    const rf_blk_q8_1 *b = (const rf_blk_q8_1 *)a + ib;
                    uint16_t m16;
                    memcpy(&m16, (const uint8_t *)w + ib * tr->type_size + 2, 2);
                    int qsum = 0;
                    for (int j = 0; j < 32; j++) qsum += b->qs[j];
                    ref += (double)rf__fp16_to_fp32(m16) *
                           ((double)rf__fp16_to_fp32(b->s) - (double)rf__fp16_to_fp32(b->d) * qsum);
                }
            }
            const double tol_ref = 1e-5;
            float s_scalar = NAN;
            sc->vec_dot(n, &s_scalar, w, a);
            double e = fabs((double)s_scalar - ref) / (mag > 0 ? mag : 1.0);
            if (!(e <= tol_ref)) {
                fprintf(stderr, "%s scalar n=%lld: got %.9g want %.9g (rel err %.3g)\n", tr->name,
                        (long long)n, s_scalar, ref, e);
                ok = false;
            }
            if (e > worst_ref) worst_ref = e;
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
    snprintf(line + used, sizeof line - (size_t)used, "  [best %s] ref err %.2g simd diff %.2g %s%s",
             best->impl, worst_ref, worst_simd, tr->quantize ? "" : "(random blocks) ", ok ? "ok" : "FAIL");
    fprintf(stderr, "%s\n", line);
    return ok;
}

/* vec_dot_multi (one weight row, several activation rows) against vec_dot of
 * the same implementation, for every implementation that has one, and the
 * fallback of rf__cpu_dot_multi. Returns false on a mismatch. */
static bool test_multi(rf_type t) {
    enum { NA = 13 }; /* 8 + 4 + 1: every pass width of the widest kernels */
    const rf_type_traits *tr = rf_type_get(t);
    const rf_cpu_dot *best = rf__cpu_dot_get(t);
    if (!best || !tr->to_f32) return false;
    const int64_t n = 512;
    bool ok = true;
    size_t asz = rf_type_row_size(best->act_type, n);
    void *w = malloc(rf_type_row_size(t, n));
    float *x = malloc(n * sizeof(float)), *wf = malloc(n * sizeof(float)), *af = malloc(n * sizeof(float));
    void *acts[NA];
    double mag[NA];
    make_weights(t, n, w, x);
    tr->to_f32(w, wf, n);
    for (int r = 0; r < NA; r++) {
        acts[r] = malloc(asz);
        for (int64_t i = 0; i < n; i++) x[i] = rnd_normal();
        best->quantize_act(x, acts[r], n);
        dequant_act(best->act_type, acts[r], af, n);
        mag[r] = 0.0;
        for (int64_t i = 0; i < n; i++) mag[r] += fabs((double)wf[i] * (double)af[i]);
    }
    for (int k = -1; k < impl_count; k++) {
        const rf_cpu_dot *im = k < 0 ? best : rf__cpu_dot_get_impl(t, impl_names[k]);
        if (!im || (k >= 0 && !im->vec_dot_multi)) continue;
        float got[NA], want[NA];
        rf__cpu_dot_multi(im, n, got, w, (const void *const *)acts, NA);
        for (int r = 0; r < NA; r++) {
            im->vec_dot(n, &want[r], w, acts[r]);
            double e = fabs((double)got[r] - (double)want[r]) / (mag[r] > 0 ? mag[r] : 1.0);
            if (!(e <= 2e-6)) {
                fprintf(stderr, "%s %s multi row %d: got %.9g, vec_dot %.9g\n", tr->name, im->impl, r, got[r], want[r]);
                ok = false;
            }
        }
    }
    for (int r = 0; r < NA; r++) free(acts[r]);
    free(w); free(x); free(wf); free(af);
    return ok;
}

int main(void) {
    char feats[256];
    rf__cpu_features_string(feats, sizeof feats);
    fprintf(stderr, "cpu features: %s\n", feats);
    impl_names = rf__cpu_dot_impls(&impl_count);
    for (size_t i = 0; i < RF_ARRAY_LEN(kTypes); i++) RF_CHECK(test_type(kTypes[i]));
    for (size_t i = 0; i < RF_ARRAY_LEN(kTypes); i++) RF_CHECK(test_multi(kTypes[i]));
    /* The SIMD paths this CPU should take do exist (a lost table entry would
     * otherwise fall back to scalar silently). */
    static const rf_type kSimd[] = {RF_TYPE_F32, RF_TYPE_F16, RF_TYPE_Q4_0, RF_TYPE_Q4_1, RF_TYPE_Q5_0,
                                    RF_TYPE_Q5_1, RF_TYPE_Q8_0, RF_TYPE_Q2_K, RF_TYPE_Q3_K, RF_TYPE_Q4_K,
                                    RF_TYPE_Q5_K, RF_TYPE_Q6_K, RF_TYPE_IQ4_NL, RF_TYPE_IQ4_XS};
    static const rf_type kNeon[] = {RF_TYPE_F32, RF_TYPE_F16, RF_TYPE_Q4_0, RF_TYPE_Q4_1,
                                    RF_TYPE_Q8_0, RF_TYPE_Q4_K, RF_TYPE_Q6_K};
    for (size_t i = 0; i < RF_ARRAY_LEN(kSimd); i++) {
        if (rf__cpu_has_avx2()) RF_CHECK(rf__cpu_dot_get_impl(kSimd[i], "avx2") != NULL);
        if (rf__cpu_has_avx512()) RF_CHECK(rf__cpu_dot_get_impl(kSimd[i], "avx512") != NULL);
    }
#if defined(__aarch64__)
    for (size_t i = 0; i < RF_ARRAY_LEN(kNeon); i++) RF_CHECK(rf__cpu_dot_get_impl(kNeon[i], "neon") != NULL);
#else
    (void)kNeon;
#endif
    /* Types without a matrix product in ggml have no dot here either. */
    RF_CHECK(rf__cpu_dot_get(RF_TYPE_Q8_K) == NULL);
    RF_CHECK(rf__cpu_dot_get(RF_TYPE_I32) == NULL);
    RF_CHECK(rf__cpu_dot_get((rf_type)-1) == NULL);
    RF_CHECK(rf__cpu_dot_get_impl(RF_TYPE_F32, "no-such-impl") == NULL);
    return rf_test_finish("test_cpu_dot");
}
