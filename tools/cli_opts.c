/* cli_opts.c - option parsing and model loading shared by run, chat, bench. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_opts.h"

static bool parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_float(const char *s, float lo, float hi, float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) return false;
    *out = (float)v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') {
        long v;
        if (!parse_long(s, -1, -1, &v)) return false;
        *out = RF_SEED_RANDOM;
        return true;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

int cli_parse(int argc, char **argv, cli_opts *o, bool bench, const char *usage) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
        float f;
#define NEED_VALUE                                                   \
    do {                                                             \
        if (!v) {                                                    \
            fprintf(stderr, "option %s needs a value\n%s", a, usage); \
            return 2;                                                \
        }                                                            \
        i++;                                                         \
    } while (0)
#define BAD_VALUE                                                         \
    do {                                                                  \
        fprintf(stderr, "invalid value '%s' for %s\n", v, a);             \
        return 2;                                                         \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 1;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            NEED_VALUE;
            o->model = v;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            NEED_VALUE;
            if (bench) {
                if (!parse_long(v, 0, 1 << 20, &l)) BAD_VALUE;
                o->n_prompt_bench = (int32_t)l;
            } else {
                o->prompt = v;
            }
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            NEED_VALUE;
            o->prompt_file = v;
        } else if (!strcmp(a, "-sys") || !strcmp(a, "--system")) {
            NEED_VALUE;
            o->system = v;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            NEED_VALUE;
            if (!parse_long(v, -1, INT32_MAX, &l)) BAD_VALUE;
            o->n_predict = (int32_t)l;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            NEED_VALUE;
            if (!parse_long(v, 0, 1 << 24, &l)) BAD_VALUE;
            o->cp.n_ctx = (uint32_t)l;
        } else if (!strcmp(a, "-b") || !strcmp(a, "--batch-size")) {
            NEED_VALUE;
            if (!parse_long(v, 1, 65536, &l)) BAD_VALUE;
            o->cp.n_batch = (uint32_t)l;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            NEED_VALUE;
            if (!parse_long(v, 1, 1024, &l)) BAD_VALUE;
            o->cp.n_threads = (int32_t)l;
        } else if (!strcmp(a, "-r") || !strcmp(a, "--repetitions")) {
            NEED_VALUE;
            if (!parse_long(v, 1, 1000, &l)) BAD_VALUE;
            o->reps = (int32_t)l;
        } else if (!strcmp(a, "--temp")) {
            NEED_VALUE;
            if (!parse_float(v, 0, 100, &f)) BAD_VALUE;
            o->sp.temperature = f;
        } else if (!strcmp(a, "--top-k")) {
            NEED_VALUE;
            if (!parse_long(v, 0, INT32_MAX, &l)) BAD_VALUE;
            o->sp.top_k = (int32_t)l;
        } else if (!strcmp(a, "--top-p")) {
            NEED_VALUE;
            if (!parse_float(v, 0, 1, &f)) BAD_VALUE;
            o->sp.top_p = f;
        } else if (!strcmp(a, "--min-p")) {
            NEED_VALUE;
            if (!parse_float(v, 0, 1, &f)) BAD_VALUE;
            o->sp.min_p = f;
        } else if (!strcmp(a, "--seed") || !strcmp(a, "-s")) {
            NEED_VALUE;
            if (!parse_u64(v, &o->sp.seed)) BAD_VALUE;
        } else if (!strcmp(a, "--repeat-penalty")) {
            NEED_VALUE;
            if (!parse_float(v, 0.001f, 100, &f)) BAD_VALUE;
            o->sp.repeat_penalty = f;
        } else if (!strcmp(a, "--repeat-last-n")) {
            NEED_VALUE;
            if (!parse_long(v, -1, INT32_MAX, &l)) BAD_VALUE;
            o->sp.repeat_last_n = (int32_t)l;
        } else if (!strcmp(a, "--presence-penalty")) {
            NEED_VALUE;
            if (!parse_float(v, -100, 100, &f)) BAD_VALUE;
            o->sp.presence_penalty = f;
        } else if (!strcmp(a, "--frequency-penalty")) {
            NEED_VALUE;
            if (!parse_float(v, -100, 100, &f)) BAD_VALUE;
            o->sp.frequency_penalty = f;
        } else if (!strcmp(a, "--stop")) {
            NEED_VALUE;
            if (o->n_stop == CLI_MAX_STOP) {
                fprintf(stderr, "at most %d stop strings\n", CLI_MAX_STOP);
                return 2;
            }
            o->stop[o->n_stop++] = v;
        } else if (!strcmp(a, "--ignore-eos")) {
            o->sp.ignore_eog = true;
        } else if (!strcmp(a, "--no-warmup")) {
            o->warmup = false;
        } else if (!strcmp(a, "--kv-f32")) {
            o->cp.kv_f32 = true;
        } else if (!strcmp(a, "--no-special")) {
            o->sp.parse_special = false;
        } else if (!strcmp(a, "--no-stats")) {
            o->show_stats = false;
        } else {
            fprintf(stderr, "unknown option '%s'\n%s", a, usage);
            return 2;
        }
#undef NEED_VALUE
#undef BAD_VALUE
    }
    if (!o->model) {
        fprintf(stderr, "missing -m MODEL.gguf\n%s", usage);
        return 2;
    }
    if (o->prompt_file) {
        o->prompt_owned = cli_read_file(o->prompt_file);
        if (!o->prompt_owned) {
            fprintf(stderr, "cannot read prompt file '%s'\n", o->prompt_file);
            return 2;
        }
        o->prompt = o->prompt_owned;
    }
    o->sp.stop = o->stop;
    o->sp.n_stop = (size_t)o->n_stop;
    o->sp.max_tokens = o->n_predict;
    return 0;
}

void cli_opts_free(cli_opts *o) { free(o->prompt_owned); }

char *cli_read_file(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) break;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    bool bad = ferror(fp);
    fclose(fp);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

typedef struct { int last; } bar_state;

static int progress_bar(float frac, void *user) {
    bar_state *b = user;
    int pct = (int)(frac * 100.0f + 0.5f);
    if (pct == b->last) return 0;
    b->last = pct;
    int fill = pct * 30 / 100;
    char bar[31];
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\rloading [%s] %3d%%", bar, pct);
    if (pct >= 100) fputc('\n', stderr);
    fflush(stderr);
    return 0;
}

rf_model *cli_load_model(const char *path) {
    rf_model_params mp = rf_model_params_default();
    bar_state bs = {-1};
    if (isatty(2)) {
        mp.progress = progress_bar;
        mp.progress_user = &bs;
    }
    rf_model *m = NULL;
    char err[512];
    rf_status st = rf_model_load(path, &mp, &m, err, sizeof err);
    if (st != RF_OK) {
        if (bs.last >= 0 && bs.last < 100) fputc('\n', stderr);
        fprintf(stderr, "error: cannot load '%s': %s (%s)\n", path, err, rf_status_str(st));
        return NULL;
    }
    fprintf(stderr, "model: %s, %.2f MiB, %.2f M parameters\n", rf_model_desc(m),
            (double)rf_model_size(m) / (1024.0 * 1024.0), (double)rf_model_n_params(m) / 1e6);
    return m;
}
