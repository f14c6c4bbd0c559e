/* test_quant_edge.c - every quantizer on degenerate rows: all zeros (must
 * come back as zeros), and rows with NaN, infinities, FLT_MAX, subnormals and
 * huge dynamic range (must not crash, must write exactly the row size, must
 * be deterministic), with and without importance weights (including zero
 * weights). Run under ASan+UBSan in CI. Bit-exactness against ggml is the job
 * of tests/py/test_quantize.py; this covers what no reference defines. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/quant.h"
#include "rf_test.h"

#define N_PER_ROW 512
#define ROWS 6

static void fill_rows(float *x) {
    for (int i = 0; i < ROWS * N_PER_ROW; i++) x[i] = sinf((float)i * 0.37f) * (float)(1 + i % 13);
    float *r = x;
    for (int i = 0; i < N_PER_ROW; i += 7) r[i] = NAN;                 /* row 0: NaNs */
    r += N_PER_ROW;
    for (int i = 0; i < N_PER_ROW; i += 5) r[i] = (i & 1) ? INFINITY : -INFINITY; /* row 1: infinities */
    r += N_PER_ROW;
    for (int i = 0; i < N_PER_ROW; i += 3) r[i] = (i & 1) ? FLT_MAX : -FLT_MAX;   /* row 2: extremes */
    r += N_PER_ROW;
    for (int i = 0; i < N_PER_ROW; i++) r[i] = (i % 2 ? 1 : -1) * 1e-42f * (float)(i % 9); /* row 3: subnormals */
    r += N_PER_ROW;
    for (int i = 0; i < N_PER_ROW; i++) r[i] = powf(10.0f, (float)(i % 70) - 35.0f) * (i % 3 ? 1 : -1); /* row 4 */
    r += N_PER_ROW;
    for (int i = 0; i < N_PER_ROW; i++) r[i] = (i % 32 == 0) ? 1.0f : 0.0f; /* row 5: sparse */
}

int main(void) {
    float *x = malloc(sizeof(float) * ROWS * N_PER_ROW);
    float *zero = calloc(N_PER_ROW, sizeof(float));
    float *back = malloc(sizeof(float) * N_PER_ROW);
    float imat[N_PER_ROW], imat0[N_PER_ROW];
    unsigned char *q1 = malloc((size_t)ROWS * N_PER_ROW * 8), *q2 = malloc((size_t)ROWS * N_PER_ROW * 8);
    RF_CHECK(x && zero && back && q1 && q2);
    fill_rows(x);
    for (int i = 0; i < N_PER_ROW; i++) {
        imat[i] = 0.5f + (float)(i % 11);
        imat0[i] = (i / 32) % 3 == 0 ? 0.0f : 1.0f; /* whole 32-blocks of zero weight */
    }
    int tested = 0;
    for (int t = 0; t < RF_TYPE_COUNT; t++) {
        const rf_type_traits *tr = rf_type_get(t);
        if (!tr || !tr->quantize || N_PER_ROW % tr->block_size) continue;
        size_t row = rf_type_row_size((rf_type)t, N_PER_ROW);
        const float *ims[3] = {NULL, imat, imat0};
        for (int k = 0; k < 3; k++) {
            /* zeros in, zeros out */
            RF_CHECK(tr->quantize(zero, q1, 1, N_PER_ROW, ims[k]) == row);
            if (tr->to_f32) {
                tr->to_f32(q1, back, N_PER_ROW);
                int nz = 0;
                for (int i = 0; i < N_PER_ROW; i++) nz += back[i] != 0.0f;
                if (nz) fprintf(stderr, "%s: zero row quantizes to %d nonzero values\n", tr->name, nz);
                RF_CHECK(nz == 0);
            }
            /* degenerate rows: exact size, deterministic, convertible back */
            memset(q1, 0xAA, (size_t)ROWS * row + 16);
            memset(q2, 0x55, (size_t)ROWS * row + 16);
            RF_CHECK(tr->quantize(x, q1, ROWS, N_PER_ROW, ims[k]) == (size_t)ROWS * row);
            RF_CHECK(tr->quantize(x, q2, ROWS, N_PER_ROW, ims[k]) == (size_t)ROWS * row);
            RF_CHECK(memcmp(q1, q2, (size_t)ROWS * row) == 0);
            RF_CHECK(q1[(size_t)ROWS * row] == 0xAA); /* nothing written past the end */
            if (tr->to_f32)
                for (int r = 0; r < ROWS; r++) tr->to_f32(q1 + (size_t)r * row, back, N_PER_ROW);
        }
        tested++;
    }
    RF_CHECK(tested >= 17);
    free(x);
    free(zero);
    free(back);
    free(q1);
    free(q2);
    return rf_test_finish("test_quant_edge");
}
