/*
 * rf_logits.c - next-token log-probabilities and greedy continuations from
 * the library's public API, for comparisons with reference implementations.
 *
 *   rf_logits MODEL IDS.i32 QUERY.i32 K CHUNK OUT.bin [THREADS]
 *     IDS: int32 token ids, a whole number of CHUNKs. Each chunk is evaluated
 *     from an empty context as one batch (n_ctx = n_batch = CHUNK); position
 *     i of a chunk predicts token i+1. QUERY: int32 [P, K] ids per position
 *     (P = chunks * (CHUNK - 1)). OUT: per position int32 argmax, then K
 *     float32 log-probabilities of the query ids.
 *
 *   rf_logits MODEL --greedy PROMPT.i32 N N_CTX OUT.i32 [THREADS]
 *     Evaluates the prompt as one batch, then picks the argmax N times, one
 *     token per step; writes the N ids.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rocmforge.h"

static int32_t *read_ids(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (sz < 0 || sz % 4) {
        fclose(f);
        return NULL;
    }
    int32_t *ids = malloc((size_t)sz + 4);
    if (ids && fread(ids, 1, (size_t)sz, f) != (size_t)sz) {
        free(ids);
        ids = NULL;
    }
    fclose(f);
    *n = (size_t)sz / 4;
    return ids;
}

static int argmax(const float *l, uint32_t n) {
    uint32_t b = 0;
    for (uint32_t i = 1; i < n; i++)
        if (l[i] > l[b]) b = i;
    return (int)b;
}

static rf_context *make_ctx(rf_model *m, uint32_t n_ctx, int threads) {
    rf_context_params cp = rf_context_params_default();
    cp.n_ctx = n_ctx;
    cp.n_batch = n_ctx;
    cp.n_threads = threads;
    rf_context *c = NULL;
    char err[512];
    if (rf_context_create(m, &cp, &c, err, sizeof err) != RF_OK) fprintf(stderr, "context: %s\n", err);
    return c;
}

static int greedy(rf_model *m, int argc, char **argv) {
    if (argc < 7) return 2;
    size_t np;
    int32_t *p = read_ids(argv[3], &np);
    int n = atoi(argv[4]), threads = argc > 7 ? atoi(argv[7]) : 2;
    rf_context *c = make_ctx(m, (uint32_t)atoi(argv[5]), threads);
    uint32_t nv = rf_model_n_vocab(m);
    float *l = malloc(nv * sizeof *l);
    int32_t *out = malloc((size_t)n * sizeof *out);
    if (!p || !c || !l || !out || np == 0) return 1;
    if (rf_eval(c, p, np, false, l) != RF_OK) {
        fprintf(stderr, "eval: %s\n", rf_context_error(c));
        return 1;
    }
    for (int i = 0; i < n; i++) {
        out[i] = argmax(l, nv);
        if (rf_eval(c, &out[i], 1, false, l) != RF_OK) {
            fprintf(stderr, "eval: %s\n", rf_context_error(c));
            return 1;
        }
    }
    FILE *f = fopen(argv[6], "wb");
    if (!f || fwrite(out, 4, (size_t)n, f) != (size_t)n) return 1;
    fclose(f);
    rf_context_free(c);
    free(p);
    free(l);
    free(out);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: rf_logits MODEL IDS QUERY K CHUNK OUT [THREADS]\n"
                        "       rf_logits MODEL --greedy PROMPT N N_CTX OUT [THREADS]\n");
        return 2;
    }
    rf_model *m = NULL;
    char err[512];
    rf_model_params mp = rf_model_params_default();
    if (rf_model_load(argv[1], &mp, &m, err, sizeof err) != RF_OK) {
        fprintf(stderr, "load: %s\n", err);
        return 1;
    }
    int rc;
    if (!strcmp(argv[2], "--greedy")) {
        rc = greedy(m, argc, argv);
        rf_model_free(m);
        return rc;
    }
    size_t n_ids, n_q;
    int32_t *ids = read_ids(argv[2], &n_ids), *q = read_ids(argv[3], &n_q);
    int k = atoi(argv[4]), chunk = atoi(argv[5]), threads = argc > 7 ? atoi(argv[7]) : 2;
    if (!ids || !q || k <= 0 || chunk < 2 || n_ids % (size_t)chunk ||
        n_q != n_ids / (size_t)chunk * (size_t)(chunk - 1) * (size_t)k) {
        fprintf(stderr, "bad inputs\n");
        return 2;
    }
    uint32_t nv = rf_model_n_vocab(m);
    rf_context *c = make_ctx(m, (uint32_t)chunk, threads);
    float *logits = malloc((size_t)chunk * nv * sizeof *logits);
    FILE *out = fopen(argv[6], "wb");
    if (!c || !logits || !out) return 1;
    size_t pos = 0;
    for (size_t ch = 0; ch < n_ids / (size_t)chunk; ch++) {
        rf_context_reset(c);
        if (rf_eval(c, ids + ch * (size_t)chunk, (size_t)chunk, true, logits) != RF_OK) {
            fprintf(stderr, "eval: %s\n", rf_context_error(c));
            return 1;
        }
        for (int i = 0; i < chunk - 1; i++, pos++) {
            const float *l = logits + (size_t)i * nv;
            double mx = -INFINITY, sum = 0;
            for (uint32_t j = 0; j < nv; j++) mx = fmax(mx, l[j]);
            for (uint32_t j = 0; j < nv; j++) sum += exp(l[j] - mx);
            double lse = mx + log(sum);
            int32_t top = argmax(l, nv);
            fwrite(&top, 4, 1, out);
            for (int j = 0; j < k; j++) {
                int32_t id = q[pos * (size_t)k + (size_t)j];
                float lp = (id >= 0 && (uint32_t)id < nv) ? (float)(l[id] - lse) : -INFINITY;
                fwrite(&lp, 4, 1, out);
            }
        }
    }
    if (fclose(out) != 0) return 1;
    rf_context_free(c);
    rf_model_free(m);
    free(ids);
    free(q);
    free(logits);
    return 0;
}
