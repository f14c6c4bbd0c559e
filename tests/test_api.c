/*
 * test_api.c - the public API on the real test model (RF_TEST_MODEL, the
 * SmolLM2 file; the test fails when it is missing): tokenization round
 * trips, greedy generation equal to an argmax loop over rf_eval, seeds,
 * stop strings held back and cut, token limits, a callback that stops,
 * prompt-prefix reuse, a prompt that does not fit, chat templates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "rf_test.h"
#include "rocmforge.h"

typedef struct {
    char buf[8192];
    size_t n;
    int calls;
    int stop_after;     /* return nonzero on this call (0 = never) */
} sink;

static int on_piece(const char *piece, size_t len, void *user) {
    sink *s = user;
    s->calls++;
    if (s->n + len < sizeof s->buf) {
        memcpy(s->buf + s->n, piece, len);
        s->n += len;
        s->buf[s->n] = '\0';
    }
    return s->stop_after && s->calls >= s->stop_after;
}

static rf_generate_stats gen(rf_context *c, const char *prompt, const rf_sampling_params *sp,
                             sink *s, rf_status *st_out) {
    rf_generate_stats gs;
    memset(s->buf, 0, sizeof s->buf);
    s->n = 0;
    s->calls = 0;
    rf_status st = rf_generate(c, prompt, sp, on_piece, s, &gs);
    if (st != RF_OK && !st_out) fprintf(stderr, "generate: %s\n", rf_context_error(c));
    if (st_out) *st_out = st;
    else RF_CHECK(st == RF_OK);
    return gs;
}

int main(void) {
    const char *path = getenv("RF_TEST_MODEL");
    if (!path || !*path) {
        fprintf(stderr, "RF_TEST_MODEL is not set (scripts/fetch-model.sh fetches the model)\n");
        return 1;
    }
    size_t live = rf__alloc_live_blocks();
    rf_model *m = NULL;
    rf_context *c = NULL;
    char err[512] = "";
    rf_model_params mp = rf_model_params_default();
    if (rf_model_load(path, &mp, &m, err, sizeof err) != RF_OK) {
        fprintf(stderr, "load: %s\n", err);
        return 1;
    }
    RF_CHECK(!strcmp(rf_model_arch(m), "llama") && rf_model_n_vocab(m) == 49152);
    RF_CHECK(strstr(rf_model_desc(m), "Q4_1") != NULL);

    /* tokens: round trip, small buffers */
    const char *text = "Hello world, this is a test.";
    rf_token toks[64];
    size_t nt = 0, need = 0, len;
    RF_CHECK(rf_tokenize(m, text, strlen(text), false, false, toks, 64, &nt) == RF_OK && nt > 3);
    RF_CHECK(rf_tokenize(m, text, strlen(text), false, false, toks, 2, &need) == RF_ERR_RANGE && need == nt);
    char back[256] = "";
    size_t bn = 0;
    for (size_t i = 0; i < nt; i++) {
        RF_CHECK(rf_token_to_piece(m, toks[i], false, back + bn, sizeof back - bn - 1, &len) == RF_OK);
        bn += len;
    }
    RF_CHECK(bn == strlen(text) && memcmp(back, text, bn) == 0);
    RF_CHECK(rf_token_to_piece(m, toks[0], false, back, 0, &len) == RF_ERR_RANGE && len > 0);
    RF_CHECK(rf_token_is_eog(m, rf_token_eos(m)) && !rf_token_is_eog(m, toks[0]));

    rf_context_params cp = rf_context_params_default();
    cp.n_ctx = 256;
    cp.n_threads = 2;
    if (rf_context_create(m, &cp, &c, err, sizeof err) != RF_OK) {
        fprintf(stderr, "context: %s\n", err);
        return 1;
    }
    const char *prompt = "The history of the printing press";
    sink s1 = {0}, s2 = {0};

    /* greedy = argmax loop over rf_eval */
    rf_sampling_params sp = rf_sampling_params_default();
    sp.temperature = 0.0f;
    sp.max_tokens = 24;
    sp.ignore_eog = true;
    rf_generate_stats gs = gen(c, prompt, &sp, &s1, NULL);
    RF_CHECK(gs.n_generated == 24 && gs.stop == RF_STOP_MAX_TOKENS);
    {
        size_t np = 0;
        RF_CHECK(rf_tokenize(m, prompt, strlen(prompt), true, true, toks, 64, &np) == RF_OK);
        float *logits = malloc(sizeof(float) * rf_model_n_vocab(m));
        rf_context_reset(c);
        RF_CHECK(rf_eval(c, toks, np, false, logits) == RF_OK);
        char text2[8192] = "";
        size_t n2 = 0;
        for (int i = 0; i < 24; i++) {
            rf_token best = 0;
            for (uint32_t j = 1; j < rf_model_n_vocab(m); j++)
                if (logits[j] > logits[best]) best = (rf_token)j;
            if (rf_token_to_piece(m, best, false, text2 + n2, sizeof text2 - n2 - 1, &len) == RF_OK) n2 += len;
            RF_CHECK(rf_eval(c, &best, 1, false, logits) == RF_OK);
        }
        text2[n2] = '\0';
        RF_CHECK(strcmp(text2, s1.buf) == 0);
        if (strcmp(text2, s1.buf)) fprintf(stderr, "greedy '%s' vs argmax loop '%s'\n", s1.buf, text2);
        free(logits);
    }

    /* the cached prompt is reused */
    gs = gen(c, prompt, &sp, &s2, NULL);
    RF_CHECK(gs.n_prompt_cached > 0 && gs.n_prompt_cached < gs.n_prompt);
    RF_CHECK(strcmp(s1.buf, s2.buf) == 0);

    /* seeds: same seed, same text; another seed, another text */
    sp = rf_sampling_params_default();
    sp.temperature = 1.0f;
    sp.max_tokens = 40;
    sp.ignore_eog = true;
    sp.seed = 1234;
    gs = gen(c, prompt, &sp, &s1, NULL);
    RF_CHECK(gs.seed == 1234 && gs.n_generated == 40);
    gen(c, prompt, &sp, &s2, NULL);
    RF_CHECK(strcmp(s1.buf, s2.buf) == 0);
    sp.seed = 99;
    gen(c, prompt, &sp, &s2, NULL);
    RF_CHECK(strcmp(s1.buf, s2.buf) != 0);

    /* stop strings: cut at the first occurrence, never printed, held back */
    sp.seed = 1234;
    size_t at = s1.n / 2;
    while (at < s1.n && (unsigned char)s1.buf[at] >= 0x80) at++; /* a UTF-8 boundary */
    char stop[8] = "";
    if (at + 3 <= s1.n) memcpy(stop, s1.buf + at, 3);
    const char *stops[] = {"\x01never", stop};
    sp.stop = stops;
    sp.n_stop = 2;
    sink s3 = {0};
    gs = gen(c, prompt, &sp, &s3, NULL);
    const char *first = strstr(s1.buf, stop);
    RF_CHECK(stop[0] && first != NULL);
    if (first) {
        size_t want = (size_t)(first - s1.buf);
        RF_CHECK(gs.stop == RF_STOP_STRING && s3.n == want && memcmp(s3.buf, s1.buf, want) == 0);
        if (s3.n != want) fprintf(stderr, "stop '%s': printed %zu bytes, want %zu\n", stop, s3.n, want);
    }
    RF_CHECK(strstr(s3.buf, stop) == NULL);
    sp.stop = NULL;
    sp.n_stop = 0;

    /* token limit and a callback that stops */
    sp.max_tokens = 5;
    gs = gen(c, prompt, &sp, &s3, NULL);
    RF_CHECK(gs.n_generated == 5 && gs.stop == RF_STOP_MAX_TOKENS);
    sp.max_tokens = 50;
    s3.stop_after = 1;
    gs = gen(c, prompt, &sp, &s3, NULL);
    RF_CHECK(gs.stop == RF_STOP_CALLBACK && s3.calls == 1);
    s3.stop_after = 0;

    /* a prompt longer than the context: an error before any callback */
    {
        char *big = malloc(20000);
        size_t o = 0;
        while (o + 6 < 20000) { memcpy(big + o, "word. ", 6); o += 6; }
        big[o] = '\0';
        rf_status st;
        gs = gen(c, big, &sp, &s3, &st);
        RF_CHECK(st == RF_ERR_CONTEXT_FULL && s3.calls == 0 && rf_context_error(c)[0]);
        free(big);
        rf_sampling_params bad = sp;
        bad.temperature = NAN;
        gen(c, prompt, &bad, &s3, &st);
        RF_CHECK(st == RF_ERR_INVALID_ARG && s3.calls == 0);
    }

    /* chat template */
    rf_chat_message msgs[] = {{"user", "Hi"}};
    char out[1024];
    RF_CHECK(rf_chat_apply_template(m, NULL, msgs, 1, true, NULL, 0, &len, err, sizeof err) == RF_ERR_RANGE);
    RF_CHECK(rf_chat_apply_template(m, NULL, msgs, 1, true, out, sizeof out, &len, err, sizeof err) == RF_OK);
    RF_CHECK(len == strlen(out) && strstr(out, "<|im_start|>user\nHi<|im_end|>\n") != NULL);
    RF_CHECK(len > 22 && !strcmp(out + len - 22, "<|im_start|>assistant\n"));
    RF_CHECK(rf_chat_apply_template(m, "{% for m in messages %}", msgs, 1, true, out, sizeof out, &len,
                                    err, sizeof err) == RF_ERR_TEMPLATE && err[0]);

    rf_context_free(c);
    rf_model_free(m);
    RF_CHECK(rf__alloc_live_blocks() == live);
    return rf_test_finish("test_api");
}
