/* test_kquants.c - K-quant conversions on ordinary and hostile input.
 *
 * Bit-exactness against llama.cpp is checked by py/test_quantize_kquants.py and
 * py/test_dequant.py; this test covers what those cannot: round-trip error
 * bounds on fresh random data, Q8_K's group sums, and rows of NaN, infinities,
 * huge, subnormal and zero values (with and without importance weights, some
 * of them zero or NaN), which must quantize and dequantize without undefined
 * behaviour (run under ASan/UBSan) and, where the input is finite, give
 * finite output. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "quant/blocks_k.h"
#include "quant/quant.h"
#include "rf_test.h"

#define N_PER_ROW 1024
#define NROWS 8

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static float rng_uniform(void) { return (float)((rng_next() >> 40) + 1) / 16777217.0f; }

static float rng_normal(void) {
    return sqrtf(-2.0f * logf(rng_uniform())) * cosf(6.2831853f * rng_uniform());
}

static const struct {
    rf_type type;
    double max_rel_rmse; /* round-trip RMSE / input RMS on Gaussian rows */
} kTypes[] = {
    {RF_TYPE_Q2_K, 0.33}, {RF_TYPE_Q3_K, 0.17}, {RF_TYPE_Q4_K, 0.08},
    {RF_TYPE_Q5_K, 0.041}, {RF_TYPE_Q6_K, 0.020}, {RF_TYPE_Q8_K, 0.008},
};

static float src[NROWS * N_PER_ROW];
static float back[NROWS * N_PER_ROW];
static float imat[N_PER_ROW];
static uint8_t qbuf[NROWS * N_PER_ROW / RF_QK_K * 292 + 1];

static void test_round_trip(void) {
    for (int i = 0; i < NROWS * N_PER_ROW; i++) src[i] = 0.03f * rng_normal();
    for (int i = 0; i < N_PER_ROW; i++) imat[i] = rng_uniform() * 4.0f;
    double rms = 0;
    for (int i = 0; i < NROWS * N_PER_ROW; i++) rms += (double)src[i] * src[i];
    rms = sqrt(rms / (NROWS * N_PER_ROW));
    for (size_t t = 0; t < RF_ARRAY_LEN(kTypes); t++) {
        const rf_type_traits *tr = rf_type_get(kTypes[t].type);
        RF_CHECK(tr && tr->to_f32 && tr->quantize && tr->block_size == RF_QK_K);
        if (!tr || !tr->to_f32 || !tr->quantize) continue;
        const size_t want = rf_type_row_size(kTypes[t].type, N_PER_ROW) * NROWS;
        for (int use_im = 0; use_im < 2; use_im++) {
            memset(qbuf, 0xA5, sizeof qbuf);
            size_t got = tr->quantize(src, qbuf, NROWS, N_PER_ROW, use_im ? imat : NULL);
            RF_CHECK(got == want);
            RF_CHECK(qbuf[want] == 0xA5); /* nothing written past the end */
            tr->to_f32(qbuf, back, NROWS * N_PER_ROW);
            double err = 0;
            for (int i = 0; i < NROWS * N_PER_ROW; i++) err += ((double)back[i] - src[i]) * ((double)back[i] - src[i]);
            double rel = sqrt(err / (NROWS * N_PER_ROW)) / rms;
            if (getenv("RF_TEST_VERBOSE") || !(rel <= kTypes[t].max_rel_rmse))
                fprintf(stderr, "%s%s: relative RMSE %.4f (bound %.4f)\n", tr->name, use_im ? " (imatrix)" : "", rel,
                        kTypes[t].max_rel_rmse);
            RF_CHECK(rel <= kTypes[t].max_rel_rmse);
        }
    }
}

static void test_q8_k_sums(void) {
    for (int i = 0; i < 4 * RF_QK_K; i++) src[i] = rng_normal() * (i % 7 == 0 ? 5.0f : 1.0f);
    const rf_type_traits *tr = rf_type_get(RF_TYPE_Q8_K);
    RF_CHECK(tr->quantize(src, qbuf, 1, 4 * RF_QK_K, NULL) == 4 * sizeof(rf_block_q8_k));
    for (int b = 0; b < 4; b++) {
        rf_block_q8_k blk;
        memcpy(&blk, qbuf + b * sizeof blk, sizeof blk);
        RF_CHECK(blk.d > 0 || blk.d < 0);
        int amax = 0;
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int k = 0; k < 16; k++) {
                s += blk.qs[16 * j + k];
                amax = abs(blk.qs[16 * j + k]) > amax ? abs(blk.qs[16 * j + k]) : amax;
            }
            RF_CHECK(blk.bsums[j] == s);
        }
        RF_CHECK(amax == 127 || amax == 128);
    }
}

/* Fills row r (of N_PER_ROW) with a hostile pattern. */
static void hostile_row(int r, float *x) {
    for (int i = 0; i < N_PER_ROW; i++) {
        float v = rng_normal();
        switch (r) {
        case 0: x[i] = (i % 37 == 0) ? NAN : v; break;
        case 1: x[i] = (i % 53 == 0) ? (i & 1 ? INFINITY : -INFINITY) : v; break;
        case 2: x[i] = v * FLT_MAX; break; /* half the values overflow to inf */
        case 3: x[i] = v * 1e30f; break;
        case 4: x[i] = v * 1e-40f; break; /* subnormal */
        case 5: x[i] = 0.0f; break;
        case 6: x[i] = (i / 16) % 2 ? 0.0f : v * 1e-30f; break;
        default: x[i] = (i % 256 == 0) ? 6e4f : v * 1e-6f; break;
        }
    }
}

static void test_hostile(void) {
    for (int r = 0; r < NROWS; r++) hostile_row(r, src + r * N_PER_ROW);
    for (int i = 0; i < N_PER_ROW; i++) imat[i] = (i % 5 == 0) ? 0.0f : (i % 301 == 0 ? NAN : rng_uniform());
    for (size_t t = 0; t < RF_ARRAY_LEN(kTypes); t++) {
        const rf_type_traits *tr = rf_type_get(kTypes[t].type);
        if (!tr || !tr->to_f32 || !tr->quantize) continue;
        const size_t row = rf_type_row_size(kTypes[t].type, N_PER_ROW);
        for (int use_im = 0; use_im < 2; use_im++) {
            RF_CHECK(tr->quantize(src, qbuf, NROWS, N_PER_ROW, use_im ? imat : NULL) == row * NROWS);
            tr->to_f32(qbuf, back, NROWS * N_PER_ROW);
            /* a row of zeros stays zeros */
            int zeros = 1;
            for (int i = 0; i < N_PER_ROW; i++) zeros &= back[5 * N_PER_ROW + i] == 0.0f;
            RF_CHECK(zeros);
            /* tiny but finite rows give finite values, without importance weights
             * (a NaN weight may legitimately poison its block) */
            if (!use_im) {
                int finite = 1;
                for (int r = 4; r < NROWS; r++)
                    for (int i = 0; i < N_PER_ROW; i++) finite &= isfinite(back[r * N_PER_ROW + i]) != 0;
                RF_CHECK(finite);
            }
        }
    }
}

/* Random bytes: every block decodes without undefined behaviour, and the
 * result does not depend on the alignment of the data. */
static uint8_t aligned_buf[sizeof qbuf];
static float back2[NROWS * N_PER_ROW];

static void test_random_blocks(void) {
    for (size_t i = 0; i < sizeof qbuf; i++) qbuf[i] = (uint8_t)rng_next();
    for (size_t t = 0; t < RF_ARRAY_LEN(kTypes); t++) {
        const rf_type_traits *tr = rf_type_get(kTypes[t].type);
        if (!tr || !tr->to_f32) continue;
        int64_t nblocks = (int64_t)((sizeof qbuf - 1) / tr->type_size);
        if (nblocks > NROWS * N_PER_ROW / RF_QK_K) nblocks = NROWS * N_PER_ROW / RF_QK_K;
        memcpy(aligned_buf, qbuf + 1, (size_t)nblocks * tr->type_size);
        tr->to_f32(qbuf + 1, back, nblocks * RF_QK_K);
        tr->to_f32(aligned_buf, back2, nblocks * RF_QK_K);
        RF_CHECK(memcmp(back, back2, (size_t)nblocks * RF_QK_K * sizeof(float)) == 0);
    }
}

/* A row that is not a whole number of super-blocks is refused (0 bytes). */
static void test_bad_row_length(void) {
    static const rf_type types[] = {RF_TYPE_Q2_K, RF_TYPE_Q3_K, RF_TYPE_Q4_K, RF_TYPE_Q5_K,
                                    RF_TYPE_Q6_K, RF_TYPE_Q8_K};
    float x[2 * RF_QK_K];
    for (int i = 0; i < 2 * RF_QK_K; i++) x[i] = (float)(i % 7) - 3.0f;
    unsigned char out[2 * 292];
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const rf_type_traits *tr = rf_type_get(types[k]);
        RF_CHECK(tr->quantize(x, out, 1, RF_QK_K + 32, NULL) == 0);
        RF_CHECK(tr->quantize(x, out, 1, 2 * RF_QK_K, NULL) == 2 * tr->type_size);
    }
}

int main(void) {
    test_bad_row_length();
    test_round_trip();
    test_q8_k_sums();
    test_hostile();
    test_random_blocks();
    return rf_test_finish("test_kquants");
}
