/* cmd_bench.c - rocmforge bench: prompt processing (pp) and token generation
 * (tg) speed as a llama-bench style markdown table.
 *
 * ppN: N random tokens evaluated as one batch (in chunks of -b) from an empty
 * context. tgN: N tokens evaluated one at a time from an empty context.
 * Each test runs once as warm-up (unless --no-warmup), then -r times; the
 * table shows tokens per second as mean +- sample standard deviation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli_opts.h"
#include "commands.h"

static const char usage[] =
    "usage: rocmforge bench -m MODEL.gguf [-p N] [-n N] [-r N] [-t N] [-b N] [--no-warmup]\n"
    "  -p N   prompt tokens for the pp test (default 512, 0 = skip)\n"
    "  -n N   generated tokens for the tg test (default 128, 0 = skip)\n"
    "  -r N   repetitions (default 5)\n"
    "  -t N   threads (default: all CPUs)\n"
    "  -b N   batch size (default 512)\n";

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* One repetition; returns seconds or a negative value on error. */
static double run_once(rf_context *c, const rf_model *m, int n, bool batch) {
    uint32_t nv = rf_model_n_vocab(m);
    rf_token *toks = malloc((size_t)n * sizeof *toks);
    if (!toks) return -1;
    for (int i = 0; i < n; i++) toks[i] = (rf_token)(next_rand() % nv);
    rf_context_reset(c);
    double t0 = now();
    rf_status st = RF_OK;
    if (batch) {
        st = rf_eval(c, toks, (size_t)n, false, NULL);
    } else {
        for (int i = 0; i < n && st == RF_OK; i++) st = rf_eval(c, &toks[i], 1, false, NULL);
    }
    double t = now() - t0;
    free(toks);
    if (st != RF_OK) {
        fprintf(stderr, "error: %s\n", rf_context_error(c));
        return -1;
    }
    return t;
}

static int bench_test(rf_context *c, const rf_model *m, const cli_opts *o, int n, bool batch) {
    if (o->warmup && run_once(c, m, n, batch) < 0) return 1;
    double sum = 0, sq = 0;
    for (int r = 0; r < o->reps; r++) {
        double t = run_once(c, m, n, batch);
        if (t < 0) return 1;
        double ts = n / t;
        sum += ts;
        sq += ts * ts;
    }
    double mean = sum / o->reps;
    double sd = o->reps > 1 ? sqrt(fmax(0.0, (sq - o->reps * mean * mean) / (o->reps - 1))) : 0.0;
    double mib = (double)rf_model_size(m) / (1024.0 * 1024.0);
    char size[32], params[32], test[32];
    if (mib < 1024) snprintf(size, sizeof size, "%.2f MiB", mib);
    else snprintf(size, sizeof size, "%.2f GiB", mib / 1024.0);
    double p = (double)rf_model_n_params(m);
    if (p < 1e9) snprintf(params, sizeof params, "%.2f M", p / 1e6);
    else snprintf(params, sizeof params, "%.2f B", p / 1e9);
    snprintf(test, sizeof test, "%s%d", batch ? "pp" : "tg", n);
    printf("| %s | %s | %s | CPU | %d | %s | %.2f ± %.2f |\n", rf_model_desc(m), size, params,
           rf_context_n_threads(c), test, mean, sd);
    fflush(stdout);
    return 0;
}

int rf_cmd_bench(int argc, char **argv) {
    cli_opts o = {.n_predict = 128, .n_prompt_bench = 512, .reps = 5, .warmup = true};
    o.cp = rf_context_params_default();
    o.sp = rf_sampling_params_default();
    int rc = cli_parse(argc, argv, &o, true, usage);
    if (rc) return rc == 1 ? 0 : rc;
    rf_model *m = NULL;
    rf_context *c = NULL;
    rc = 1;
    if (o.n_predict < 0) o.n_predict = 0;
    m = cli_load_model(o.model);
    if (!m) goto out;
    if (o.cp.n_ctx == 0) {
        uint32_t need = (uint32_t)(o.n_prompt_bench > o.n_predict ? o.n_prompt_bench : o.n_predict);
        o.cp.n_ctx = need < 16 ? 16 : need;
    }
    char err[512];
    if (rf_context_create(m, &o.cp, &c, err, sizeof err) != RF_OK) {
        fprintf(stderr, "error: %s\n", err);
        goto out;
    }
    printf("| model | size | params | backend | threads | test | t/s |\n");
    printf("| ------------------------------ | ---------: | ---------: | ---------- | ------: | ------------: | -------------------: |\n");
    fflush(stdout);
    if (o.n_prompt_bench > 0 && bench_test(c, m, &o, o.n_prompt_bench, true)) goto out;
    if (o.n_predict > 0 && bench_test(c, m, &o, o.n_predict, false)) goto out;
    rc = 0;
out:
    rf_context_free(c);
    rf_model_free(m);
    cli_opts_free(&o);
    return rc;
}
