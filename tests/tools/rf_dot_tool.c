/* rf_dot_tool.c - drives the CPU dot products from tests:
 *   rf_dot_tool TYPE N W_IN X_IN ACT_OUT
 * W_IN holds whole rows of N weights of TYPE, X_IN N f32 activations. The
 * activations are quantized with the scalar quantizer of TYPE's activation
 * format and written to ACT_OUT; then, for every implementation this CPU
 * runs, one line "IMPL r0 r1 ..." gives the dot of each weight row with them.
 * The first line is "act NAME". Exit 3 if TYPE has no dot product. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "cpu/dot.h"

static void *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(len > 0 ? (size_t)len : 1);
    *n = len > 0 ? (size_t)len : 0;
    if (buf && fread(buf, 1, *n, f) != *n) { free(buf); buf = NULL; }
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: rf_dot_tool TYPE N W_IN X_IN ACT_OUT\n");
        return 2;
    }
    int t = rf_type_from_name(argv[1]);
    long long n = strtoll(argv[2], NULL, 10);
    const rf_cpu_dot *sc = t >= 0 ? rf__cpu_dot_get_impl((rf_type)t, "scalar") : NULL;
    if (!sc) { fprintf(stderr, "no dot product for %s\n", argv[1]); return 3; }
    size_t rs = rf_type_row_size((rf_type)t, n), as = rf_type_row_size(sc->act_type, n);
    if (!rs || !as) { fprintf(stderr, "bad N\n"); return 2; }
    size_t wn, xn;
    unsigned char *w = read_all(argv[3], &wn);
    float *x = read_all(argv[4], &xn);
    if (!w || !x || wn % rs || xn != (size_t)n * sizeof(float)) { fprintf(stderr, "bad input files\n"); return 2; }
    void *a = malloc(as);
    sc->quantize_act(x, a, n);
    FILE *f = fopen(argv[5], "wb");
    if (!f || fwrite(a, 1, as, f) != as) { fprintf(stderr, "cannot write %s\n", argv[5]); return 1; }
    fclose(f);
    printf("act %s\n", rf_type_get(sc->act_type)->name);
    int count;
    const char *const *names = rf__cpu_dot_impls(&count);
    for (int k = 0; k < count; k++) {
        const rf_cpu_dot *im = rf__cpu_dot_get_impl((rf_type)t, names[k]);
        if (!im) continue;
        printf("%s", names[k]);
        for (size_t r = 0; r < wn / rs; r++) {
            float s;
            im->vec_dot(n, &s, w + r * rs, a);
            printf(" %.9g", s);
        }
        printf("\n");
    }
    free(w); free(x); free(a);
    return 0;
}
