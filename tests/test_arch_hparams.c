/* test_arch_hparams.c - hyperparameter helpers of the architecture files:
 * the sliding-window layer pattern (period and per-layer forms, llama.cpp's
 * rule), and rejection of malformed patterns. */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "gguf/gguf.h"
#include "models/models.h"
#include "rf_test.h"

/* A GGUF with just the keys the helper reads. pattern_kind: 0 none, 1 period,
 * 2 bool array of n_arr flags (flags[i] = i % 3 != 1), 3 float array. */
static void *bufs[16]; /* file images, freed at the end (the reader points into them) */
static int n_bufs;

static rf_gguf *make(int pattern_kind, uint32_t period, uint64_t n_arr) {
    rf_gguf_writer *w = NULL;
    rf_gguf *g = NULL;
    void *buf = NULL;
    size_t size = 0;
    rf_err err = {0};
    if (rf_gguf_writer_create(&w) != RF_OK) return NULL;
    rf_gguf_writer_set_str(w, "general.architecture", "gemma3");
    if (pattern_kind == 1) {
        rf_gguf_writer_set_u32(w, "gemma3.attention.sliding_window_pattern", period);
    } else if (pattern_kind == 2) {
        uint8_t flags[16];
        for (uint64_t i = 0; i < n_arr; i++) flags[i] = i % 3 != 1;
        rf_gguf_writer_set_arr(w, "gemma3.attention.sliding_window_pattern", RF_GGUF_BOOL, flags, n_arr);
    } else if (pattern_kind == 3) {
        float f[16] = {0};
        rf_gguf_writer_set_arr(w, "gemma3.attention.sliding_window_pattern", RF_GGUF_F32, f, n_arr);
    }
    if (n_bufs < 16 && rf_gguf_writer_write_buffer(w, &buf, &size, &err) == RF_OK) {
        bufs[n_bufs++] = buf;
        if (rf_gguf_open_buffer(buf, size, &g, &err) != RF_OK) g = NULL;
    }
    rf_gguf_writer_free(w);
    return g;
}

static void check_period(uint32_t n_layer, uint32_t period, uint32_t n_swa) {
    rf_hparams hp;
    memset(&hp, 0, sizeof hp);
    snprintf(hp.arch, sizeof hp.arch, "gemma3");
    hp.n_layer = n_layer;
    hp.n_swa = n_swa;
    rf_gguf *g = make(1, period, 0);
    rf_err err = {0};
    RF_CHECK(g != NULL);
    if (!g) return;
    RF_CHECK(rf__hparams_swa_pattern(&hp, g, 2, &err) == RF_OK);
    for (uint32_t il = 0; il < n_layer; il++) {
        bool want = n_swa && (period == 0 || il % period < period - 1);
        RF_CHECK(hp.swa_layer[il] == want);
    }
    rf_gguf_free(g);
}

int main(void) {
    rf_err err = {0};
    rf_hparams hp;

    /* period form: 6 -> layers 0-4 local, 5 global, ...; 2 alternates; 1 none; 0 all */
    check_period(12, 6, 8);
    check_period(7, 2, 8);
    check_period(5, 1, 8);
    check_period(5, 0, 8);
    check_period(6, 6, 0); /* no window: nothing slides */

    /* default period when the key is absent */
    memset(&hp, 0, sizeof hp);
    snprintf(hp.arch, sizeof hp.arch, "gemma3");
    hp.n_layer = 8;
    hp.n_swa = 16;
    rf_gguf *g = make(0, 0, 0);
    RF_CHECK(g && rf__hparams_swa_pattern(&hp, g, 4, &err) == RF_OK);
    for (uint32_t il = 0; il < 8; il++) RF_CHECK(hp.swa_layer[il] == (il % 4 < 3));
    rf_gguf_free(g);

    /* per-layer array */
    memset(&hp, 0, sizeof hp);
    snprintf(hp.arch, sizeof hp.arch, "gemma3");
    hp.n_layer = 7;
    hp.n_swa = 16;
    g = make(2, 0, 7);
    RF_CHECK(g && rf__hparams_swa_pattern(&hp, g, 6, &err) == RF_OK);
    for (uint32_t il = 0; il < 7; il++) RF_CHECK(hp.swa_layer[il] == (il % 3 != 1));
    rf_gguf_free(g);

    /* array of the wrong length or type: format errors, not guesses */
    memset(&hp, 0, sizeof hp);
    snprintf(hp.arch, sizeof hp.arch, "gemma3");
    hp.n_layer = 7;
    hp.n_swa = 16;
    g = make(2, 0, 5);
    RF_CHECK(g && rf__hparams_swa_pattern(&hp, g, 6, &err) == RF_ERR_FORMAT);
    rf_gguf_free(g);
    g = make(3, 0, 7);
    RF_CHECK(g && rf__hparams_swa_pattern(&hp, g, 6, &err) == RF_ERR_FORMAT);
    rf_gguf_free(g);

    for (int i = 0; i < n_bufs; i++) rf__free(bufs[i]);
    return rf_test_finish("test_arch_hparams");
}
