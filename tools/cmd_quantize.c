/* cmd_quantize.c - rocmforge quantize: a thin wrapper over quant/quantize_model.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "core/core.h"
#include "gguf/gguf.h"
#include "quant/quantize_model.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: rocmforge quantize [options] IN.gguf OUT.gguf TYPE\n"
            "\n"
            "Converts a model from F32/F16/BF16 (or, with a warning, from a quantized\n"
            "type) to TYPE, with llama.cpp's per-tensor precision mix.\n"
            "\n"
            "options:\n"
            "  -t, --threads N   worker threads (default: all CPUs)\n"
            "  --pure            every quantizable tensor gets TYPE's default type\n"
            "  --dry-run         print each tensor's type, write nothing\n"
            "  -h, --help        this text\n"
            "\n"
            "TYPE:");
    const char *alias;
    for (int i = 0; rf_ftype_preset_at(i, &alias); i++) {
        const char *name = rf_ftype_preset_at(i, &alias);
        if (alias) fprintf(f, " %s(=%s)", name, alias);
        else fprintf(f, " %s", name);
    }
    fprintf(f, "\n");
}

typedef struct progress_state {
    bool tty;
    int last_len;
} progress_state;

static const char *tname(rf_type t) {
    const rf_type_traits *tr = rf_type_get(t);
    return tr ? tr->name : "?";
}

static void on_progress(void *user, const rf_quantize_progress *p) {
    progress_state *s = user;
    double mbs = p->elapsed > 0 ? (double)p->done_src_bytes / 1e6 / p->elapsed : 0.0;
    char conv[32];
    if (p->src_type == p->dst_type) snprintf(conv, sizeof conv, "%s", tname(p->dst_type));
    else snprintf(conv, sizeof conv, "%s -> %s", tname(p->src_type), tname(p->dst_type));
    if (s->tty) {
        char bar[21];
        int filled = (int)((p->index + 1) * 20 / (p->count ? p->count : 1));
        for (int k = 0; k < 20; k++) bar[k] = k < filled ? '#' : '.';
        bar[20] = '\0';
        int len = fprintf(stderr, "\r[%s] %4llu/%llu %-32.32s %-14s %8.1f MB/s", bar,
                          (unsigned long long)p->index + 1, (unsigned long long)p->count, p->name, conv, mbs);
        for (int k = len; k < s->last_len; k++) fputc(' ', stderr);
        s->last_len = len;
        if (p->index + 1 == p->count) fputc('\n', stderr);
    } else {
        fprintf(stderr, "[%4llu/%llu] %-40s %-14s %9.2f MiB -> %9.2f MiB %8.1f MB/s\n",
                (unsigned long long)p->index + 1, (unsigned long long)p->count, p->name, conv,
                (double)p->src_bytes / 1048576.0, (double)p->dst_bytes / 1048576.0, mbs);
    }
    fflush(stderr);
}

static void requant_warning(uint64_t types) {
    fprintf(stderr, "warning: requantizing from");
    const char *sep = " ";
    for (int t = 0; t < RF_TYPE_COUNT && t < 64; t++)
        if (types & (1ull << t)) {
            fprintf(stderr, "%s%s", sep, tname((rf_type)t));
            sep = ", ";
        }
    fprintf(stderr, ": the result is less precise than one made from F32/F16/BF16 weights\n");
}

static bool parse_threads(const char *s, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 256) return false;
    *out = (int)v;
    return true;
}

int rf_cmd_quantize(int argc, char **argv) {
    rf_quantize_params p = rf_quantize_default_params();
    const char *pos[3];
    int npos = 0;
    bool dry_run = false;
    rf_err err = {0};
    rf_gguf *g = NULL;
    rf_quantize_plan plan = {0};
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (i + 1 >= argc || !parse_threads(argv[++i], &p.n_threads)) {
                fprintf(stderr, "rocmforge quantize: --threads needs a number from 1 to 256\n");
                return 2;
            }
        } else if (!strncmp(a, "--threads=", 10)) {
            if (!parse_threads(a + 10, &p.n_threads)) {
                fprintf(stderr, "rocmforge quantize: --threads needs a number from 1 to 256\n");
                return 2;
            }
        } else if (!strcmp(a, "--pure")) {
            p.pure = true;
        } else if (!strcmp(a, "--dry-run")) {
            dry_run = true;
        } else if (!strcmp(a, "--imatrix") || !strncmp(a, "--imatrix=", 10)) {
            fprintf(stderr, "rocmforge quantize: importance matrices are not supported\n");
            return 2;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "rocmforge quantize: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (npos < 3) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "rocmforge quantize: too many arguments (see --help)\n");
            return 2;
        }
    }
    if (npos != 3) {
        usage(stderr);
        return 2;
    }
    if (!rf_ftype_from_name(pos[2], &p.ftype)) {
        fprintf(stderr, "rocmforge quantize: unknown type '%s' (see --help for the list)\n", pos[2]);
        return 2;
    }

    /* Plan first: for --dry-run, and to warn about requantizing before the work starts. */
    if (rf_gguf_open(pos[0], &g, &err) != RF_OK) {
        fprintf(stderr, "rocmforge quantize: %s\n", err.msg);
        goto out;
    }
    if (rf_quantize_plan_make(g, &p, &plan, &err) != RF_OK) {
        fprintf(stderr, "rocmforge quantize: %s\n", err.msg);
        goto out;
    }
    if (dry_run) {
        for (uint64_t i = 0; i < plan.n_tensors; i++) {
            const rf_gguf_tensor *t = rf_gguf_tensor_at(g, i);
            printf("%.*s %s %s\n", (int)RF_MIN(t->name.len, 4096u), t->name.ptr, tname(t->type),
                   tname(plan.types[i]));
        }
        rc = 0;
        goto out;
    }
    if (plan.n_requantized) requant_warning(plan.requant_types);
    rf_quantize_plan_free(&plan);
    rf_gguf_free(g);
    g = NULL;

    progress_state ps = {.tty = isatty(fileno(stderr)) != 0};
    p.progress = on_progress;
    p.progress_user = &ps;
    rf_quantize_stats s;
    if (rf_quantize_model(pos[0], pos[1], &p, &s, &err) != RF_OK) {
        if (ps.last_len) fputc('\n', stderr);
        fprintf(stderr, "rocmforge quantize: %s\n", err.msg);
        goto out;
    }
    fprintf(stderr,
            "quantized %llu tensors to %s: input %.2f MiB (%.2f bits/weight), output %.2f MiB (%.2f bits/weight), "
            "%.2f s, %.1f MB/s\n",
            (unsigned long long)s.n_tensors, rf_ftype_name(p.ftype), (double)s.src_file_bytes / 1048576.0,
            s.n_elements ? (double)s.src_tensor_bytes * 8.0 / (double)s.n_elements : 0.0,
            (double)s.dst_file_bytes / 1048576.0,
            s.n_elements ? (double)s.dst_tensor_bytes * 8.0 / (double)s.n_elements : 0.0, s.seconds,
            s.seconds > 0 ? (double)s.src_tensor_bytes / 1e6 / s.seconds : 0.0);
    if (s.n_fallback)
        fprintf(stderr, "note: %u tensor(s) got a fallback type (row length not a multiple of the block size)\n",
                s.n_fallback);
    rc = 0;
out:
    rf_quantize_plan_free(&plan);
    rf_gguf_free(g);
    return rc;
}
