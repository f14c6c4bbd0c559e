/* cmd_run.c - rocmforge run: generate a continuation of a prompt, streaming
 * the generated text to stdout (logs and statistics go to stderr). */
#include <stdio.h>
#include <string.h>

#include "cli_opts.h"
#include "commands.h"

static const char usage[] =
    "usage: rocmforge run -m MODEL.gguf (-p PROMPT | -f FILE) [options]\n"
    "  -n N                  tokens to generate (-1 = until end of text; default -1)\n"
    "  -c N                  context size (default: min(training context, 4096))\n"
    "  -b N                  prompt batch size (default 512)\n"
    "  -t N                  threads (default: all CPUs)\n"
    "  --temp T              temperature, 0 = greedy (default 0.8)\n"
    "  --top-k K             (default 40, 0 = off)\n"
    "  --top-p P             (default 0.95, 1 = off)\n"
    "  --min-p P             (default 0.05, 0 = off)\n"
    "  --seed S              random seed (default: random)\n"
    "  --repeat-penalty F    (default 1.0 = off)\n"
    "  --repeat-last-n N     penalty window (default 64, -1 = context)\n"
    "  --presence-penalty F  (default 0)\n"
    "  --frequency-penalty F (default 0)\n"
    "  --stop TEXT           stop at TEXT (repeatable)\n"
    "  --ignore-eos          continue past end-of-text tokens\n"
    "  --no-special          do not parse special-token text in the prompt\n"
    "  --kv-f32              f32 KV cache (default f16)\n"
    "  --no-stats            no summary line\n";

static int on_piece(const char *piece, size_t len, void *user) {
    (void)user;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static const char *stop_name(rf_stop_reason r) {
    switch (r) {
    case RF_STOP_EOG: return "end of text";
    case RF_STOP_MAX_TOKENS: return "token limit";
    case RF_STOP_STRING: return "stop string";
    case RF_STOP_CALLBACK: return "interrupted";
    case RF_STOP_CONTEXT_FULL: return "context full";
    default: return "-";
    }
}

int rf_cmd_run(int argc, char **argv) {
    cli_opts o = {.n_predict = -1, .show_stats = true, .warmup = true};
    o.cp = rf_context_params_default();
    o.sp = rf_sampling_params_default();
    int rc = cli_parse(argc, argv, &o, false, usage);
    if (rc) return rc == 1 ? 0 : rc;
    rf_model *m = NULL;
    rf_context *c = NULL;
    rc = 1;
    if (!o.prompt) {
        fprintf(stderr, "missing -p PROMPT or -f FILE\n%s", usage);
        rc = 2;
        goto out;
    }
    m = cli_load_model(o.model);
    if (!m) goto out;
    char err[512];
    rf_status st = rf_context_create(m, &o.cp, &c, err, sizeof err);
    if (st != RF_OK) {
        fprintf(stderr, "error: %s\n", err);
        goto out;
    }
    rf_generate_stats gs;
    st = rf_generate(c, o.prompt, &o.sp, on_piece, NULL, &gs);
    fputc('\n', stdout);
    fflush(stdout);
    if (st != RF_OK) {
        fprintf(stderr, "error: %s (%s)\n", rf_context_error(c), rf_status_str(st));
        goto out;
    }
    if (o.show_stats) {
        uint32_t ne = gs.n_prompt - gs.n_prompt_cached;
        fprintf(stderr,
                "prompt: %u tokens in %.2f s (%.2f t/s) | generation: %u tokens in %.2f s (%.2f t/s) "
                "| threads %d | seed %llu | stop: %s\n",
                gs.n_prompt, gs.t_prompt_s, gs.t_prompt_s > 0 ? ne / gs.t_prompt_s : 0.0,
                gs.n_generated, gs.t_gen_s, gs.t_gen_s > 0 ? gs.n_generated / gs.t_gen_s : 0.0,
                rf_context_n_threads(c), (unsigned long long)gs.seed, stop_name(gs.stop));
    }
    rc = 0;
out:
    rf_context_free(c);
    rf_model_free(m);
    cli_opts_free(&o);
    return rc;
}
