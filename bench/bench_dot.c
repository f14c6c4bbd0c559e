/*
 * bench_dot.c - single-thread throughput of the CPU dot products: a
 * ROWS x COLS matrix-vector product (default 4096 x 4096) per weight type and
 * implementation, reported as GB/s of weight bytes read (decode is bound by
 * memory bandwidth, so this is the number to compare with the machine's).
 *
 *   bench_dot [--types q4_K,q6_K] [--impls scalar,avx2] [--rows R] [--cols C]
 *             [--seconds S] [--batch B]
 * --batch B multiplies each weight row with B activation rows at once
 * (vec_dot_multi, as prefill does) and reports the time per activation row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "cpu/cpu_features.h"
#include "cpu/dot_impl.h"
#include "rf_dot_random.h"

static const rf_type kTypes[] = {
    RF_TYPE_F32,  RF_TYPE_F16,    RF_TYPE_BF16,    RF_TYPE_Q4_0,   RF_TYPE_Q4_1,   RF_TYPE_Q5_0,
    RF_TYPE_Q5_1, RF_TYPE_Q8_0,   RF_TYPE_Q2_K,    RF_TYPE_Q3_K,   RF_TYPE_Q4_K,   RF_TYPE_Q5_K,
    RF_TYPE_Q6_K, RF_TYPE_IQ1_S,  RF_TYPE_IQ1_M,   RF_TYPE_IQ2_XXS, RF_TYPE_IQ2_XS, RF_TYPE_IQ2_S,
    RF_TYPE_IQ3_XXS, RF_TYPE_IQ3_S, RF_TYPE_IQ4_NL, RF_TYPE_IQ4_XS, RF_TYPE_TQ1_0,  RF_TYPE_TQ2_0,
    RF_TYPE_MXFP4, RF_TYPE_NVFP4, RF_TYPE_Q1_0,
};

static volatile uint64_t g_sink;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static bool in_list(const char *list, const char *name) {
    if (!list) return true;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0) return true;
        p += len + (e ? 1 : 0);
    }
    return false;
}

int main(int argc, char **argv) {
    const char *types = NULL, *impls = NULL;
    int batch = 1;
    long rows = 4096, cols = 4096;
    double seconds = 0.5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--types")) types = argv[i + 1];
        else if (!strcmp(argv[i], "--impls")) impls = argv[i + 1];
        else if (!strcmp(argv[i], "--rows")) rows = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--cols")) cols = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--seconds")) seconds = strtod(argv[i + 1], NULL);
        else if (!strcmp(argv[i], "--batch")) batch = (int)strtol(argv[i + 1], NULL, 10);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (batch < 1 || batch > 64) { fprintf(stderr, "--batch must be 1..64\n"); return 2; }
    if (rows <= 0 || cols <= 0 || cols % 256) { fprintf(stderr, "cols must be a multiple of 256\n"); return 2; }
    char feats[256];
    rf__cpu_features_string(feats, sizeof feats);
    printf("# %ld x %ld matrix-vector product%s, one thread; cpu: %s\n", rows, cols,
           batch > 1 ? " (batched, time per activation row)" : "", feats);
    printf("| type | impl | MB | best ms | best GB/s | median GB/s |\n|---|---|---|---|---|---|\n");
    int nimpl;
    const char *const *names = rf__cpu_dot_impls(&nimpl);
    float *x = malloc((size_t)cols * sizeof(float));
    float *out = malloc((size_t)rows * sizeof(float));
    for (long i = 0; i < cols; i++) x[i] = rnd_normal();
    {
        /* Reference: sequential read of a buffer larger than the caches. */
        size_t words = (size_t)256 << 20 >> 3;
        uint64_t *buf = malloc(words * 8);
        for (size_t i = 0; i < words; i++) buf[i] = i * 0x9E3779B97F4A7C15ull;
        double best = 1e30;
        uint64_t sink = 0;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = rf__now();
            typedef uint64_t v2u64 __attribute__((vector_size(16)));
            v2u64 acc[8] = {{0}};
            const v2u64 *v = (const v2u64 *)buf;
            for (size_t i = 0; i < words / 2; i += 8)
                for (int k = 0; k < 8; k++) acc[k] += v[i + k];
            for (int k = 1; k < 8; k++) acc[0] ^= acc[k];
            sink += acc[0][0] ^ acc[0][1];
            g_sink = sink;
            double el = rf__now() - t0;
            if (el < best) best = el;
        }
        printf("| (memory read, 256 MiB) | - | %.1f | %.3f | %.2f | - |\n", words * 8 / 1e6, best * 1e3,
               words * 8 / best / 1e9);
        free(buf);
    }
    for (size_t ti = 0; ti < RF_ARRAY_LEN(kTypes); ti++) {
        rf_type t = kTypes[ti];
        const rf_type_traits *tr = rf_type_get(t);
        if (!in_list(types, tr->name)) continue;
        size_t rs = rf_type_row_size(t, cols);
        uint8_t *w = malloc(rs * (size_t)rows);
        /* Random bytes, then sane scales (so no denormals or infinities). */
        for (size_t i = 0; i < rs * (size_t)rows; i++) w[i] = (uint8_t)rnd_u32();
        if (t == RF_TYPE_F32 || t == RF_TYPE_F16 || t == RF_TYPE_BF16) {
            for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++) {
                float v = rnd_normal();
                if (t == RF_TYPE_F32) memcpy(w + 4 * i, &v, 4);
                else {
                    uint16_t h = t == RF_TYPE_F16 ? rf__fp32_to_fp16(v) : rf__fp32_to_bf16(v);
                    memcpy(w + 2 * i, &h, 2);
                }
            }
        } else {
            sanitize_blocks(t, w, (int64_t)rows * cols / tr->block_size, tr->type_size);
        }
        for (int k = 0; k < nimpl; k++) {
            if (!in_list(impls, names[k])) continue;
            const rf_cpu_dot *d = rf__cpu_dot_get_impl(t, names[k]);
            if (!d) continue;
            size_t as = rf_type_row_size(d->act_type, cols);
            uint8_t *a = malloc(as * (size_t)batch);
            const void *arow[64];
            float outb[64];
            for (int b = 0; b < batch; b++) arow[b] = a + (size_t)b * as;
            /* Time each product alone; report the best (the machine may be
             * shared) and the median. */
            static double times[4096];
            int reps = 0;
            double t_end = rf__now() + seconds;
            do {
                double t0 = rf__now();
                for (int b = 0; b < batch; b++) d->quantize_act(x, a + (size_t)b * as, cols);
                if (batch == 1) {
                    for (long r = 0; r < rows; r++) d->vec_dot(cols, &out[r], w + (size_t)r * rs, a);
                } else {
                    for (long r = 0; r < rows; r++) {
                        rf__cpu_dot_multi(d, cols, outb, w + (size_t)r * rs, arow, batch);
                        out[r] = outb[0];
                    }
                }
                times[reps++] = (rf__now() - t0) / batch;
            } while (rf__now() < t_end && reps < 4096);
            qsort(times, (size_t)reps, sizeof(double), cmp_double);
            double best = times[0], med = times[reps / 2], mb = rs * (double)rows / 1e6;
            printf("| %s | %s | %.1f | %.3f | %.2f | %.2f |\n", tr->name, names[k], mb, best * 1e3,
                   mb / best / 1e3, mb / med / 1e3);
            fflush(stdout);
            free(a);
        }
        free(w);
    }
    free(x);
    free(out);
    return 0;
}
