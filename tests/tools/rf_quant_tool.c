/* rf_quant_tool.c - drives the type table from tests:
 *   rf_quant_tool dequant TYPE IN OUT             blocks -> f32
 *   rf_quant_tool quantize TYPE N_PER_ROW IN OUT  [IMATRIX]   f32 rows -> blocks
 *   rf_quant_tool list                            one line per type: id name block type_size to_f32 quantize
 * TYPE is a name (q4_K) or a numeric id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "quant/quant.h"

static int read_file(const char *path, void **buf, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc(len > 0 ? (size_t)len : 1);
    *n = (size_t)len;
    size_t got = fread(*buf, 1, *n, f);
    fclose(f);
    return got == *n ? 0 : -1;
}

static int write_file(const char *path, const void *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t put = fwrite(buf, 1, n, f);
    fclose(f);
    return put == n ? 0 : -1;
}

static int parse_type(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end) return rf_type_get(v) ? (int)v : -1;
    return rf_type_from_name(s);
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "list")) {
        for (int t = 0; t < RF_TYPE_COUNT; t++) {
            const rf_type_traits *tr = rf_type_get(t);
            if (tr)
                printf("%d %s %lld %zu %d %d\n", t, tr->name, (long long)tr->block_size, tr->type_size,
                       tr->to_f32 != NULL, tr->quantize != NULL);
        }
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "dequant")) {
        int t = parse_type(argv[2]);
        const rf_type_traits *tr = rf_type_get(t);
        if (!tr || !tr->to_f32) { fprintf(stderr, "no to_f32 for %s\n", argv[2]); return 3; }
        void *in; size_t n;
        if (read_file(argv[3], &in, &n)) { perror(argv[3]); return 1; }
        if (n % tr->type_size) { fprintf(stderr, "input not a whole number of blocks\n"); return 1; }
        int64_t nv = (int64_t)(n / tr->type_size) * tr->block_size;
        float *out = malloc((size_t)nv * sizeof(float) + 1);
        tr->to_f32(in, out, nv);
        int rc = write_file(argv[4], out, (size_t)nv * sizeof(float));
        free(in); free(out);
        return rc ? 1 : 0;
    }
    if ((argc == 6 || argc == 7) && !strcmp(argv[1], "quantize")) {
        int t = parse_type(argv[2]);
        const rf_type_traits *tr = rf_type_get(t);
        if (!tr || !tr->quantize) { fprintf(stderr, "no quantizer for %s\n", argv[2]); return 3; }
        long per_row = strtol(argv[3], NULL, 10);
        void *in; size_t n;
        if (read_file(argv[4], &in, &n)) { perror(argv[4]); return 1; }
        void *imat = NULL; size_t ni = 0;
        if (argc == 7 && read_file(argv[6], &imat, &ni)) { perror(argv[6]); return 1; }
        int64_t nv = (int64_t)(n / sizeof(float));
        if (per_row <= 0 || nv % per_row || per_row % tr->block_size) { fprintf(stderr, "bad shape\n"); return 1; }
        int64_t rows = nv / per_row;
        size_t out_n = rf_type_row_size((rf_type)t, per_row) * (size_t)rows;
        void *out = malloc(out_n + 1);
        size_t wrote = tr->quantize(in, out, rows, per_row, imat);
        int rc = (wrote != out_n) || write_file(argv[5], out, out_n);
        if (wrote != out_n) fprintf(stderr, "quantize wrote %zu bytes, expected %zu\n", wrote, out_n);
        free(in); free(out); free(imat);
        return rc;
    }
    fprintf(stderr, "usage: rf_quant_tool list | dequant TYPE IN OUT | quantize TYPE N_PER_ROW IN OUT [IMATRIX]\n");
    return 2;
}
