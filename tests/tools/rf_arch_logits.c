/* rf_arch_logits.c - logits of every position of a token sequence, for the
 * reference comparisons of tests/py/test_archs.py:
 *   rf_arch_logits MODEL N_CTX OUT [--kv f16|f32] [--threads N] [--batch N] TOKEN...
 * Loads MODEL through the public API, evaluates the tokens from position 0
 * in calls of --batch tokens (default: all in one call) and writes
 * n_tokens * n_vocab f32 values (one row per token) to OUT. Prints
 * "n_vocab N" on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rocmforge.h"

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: rf_arch_logits MODEL N_CTX OUT [--kv f16|f32] [--threads N] "
                        "[--batch N] TOKEN...\n");
        return 2;
    }
    const char *path = argv[1], *out = argv[3];
    long n_ctx = strtol(argv[2], NULL, 10), chunk = 0;
    bool kv_f32 = true;
    int n_threads = 1, rc = 1;
    rf_token *tokens = calloc((size_t)argc, sizeof *tokens);
    size_t n = 0;
    char msg[512] = "";
    rf_model *m = NULL;
    rf_context *c = NULL;
    float *logits = NULL;
    FILE *f = NULL;
    if (!tokens) return 1;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--kv") && i + 1 < argc)
            kv_f32 = strcmp(argv[++i], "f16") != 0;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            n_threads = (int)strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            chunk = strtol(argv[++i], NULL, 10);
        else
            tokens[n++] = (rf_token)strtol(argv[i], NULL, 10);
    }
    if (n == 0 || n_ctx <= 0) {
        fprintf(stderr, "need N_CTX > 0 and at least one token\n");
        goto out;
    }
    if (chunk <= 0 || (size_t)chunk > n) chunk = (long)n;
    rf_model_params mp = rf_model_params_default();
    mp.prefault = false;
    if (rf_model_load(path, &mp, &m, msg, sizeof msg) != RF_OK) {
        fprintf(stderr, "%s: %s\n", path, msg);
        goto out;
    }
    rf_context_params cp = rf_context_params_default();
    cp.n_ctx = (uint32_t)n_ctx;
    cp.n_batch = (uint32_t)chunk;
    cp.n_threads = n_threads;
    cp.kv_f32 = kv_f32;
    if (rf_context_create(m, &cp, &c, msg, sizeof msg) != RF_OK) {
        fprintf(stderr, "context: %s\n", msg);
        goto out;
    }
    size_t n_vocab = rf_model_n_vocab(m);
    logits = malloc(n * n_vocab * sizeof *logits);
    if (!logits) goto out;
    for (size_t i = 0; i < n; i += (size_t)chunk) {
        size_t k = n - i < (size_t)chunk ? n - i : (size_t)chunk;
        if (rf_eval(c, tokens + i, k, true, logits + i * n_vocab) != RF_OK) {
            fprintf(stderr, "eval: %s\n", rf_context_error(c));
            goto out;
        }
    }
    f = fopen(out, "wb");
    if (!f || fwrite(logits, sizeof *logits, n * n_vocab, f) != n * n_vocab) {
        fprintf(stderr, "cannot write %s\n", out);
        goto out;
    }
    printf("n_vocab %zu\n", n_vocab);
    rc = 0;
out:
    if (f && fclose(f) != 0) rc = 1;
    free(logits);
    rf_context_free(c);
    rf_model_free(m);
    free(tokens);
    return rc;
}
