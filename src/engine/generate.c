/*
 * generate.c - rf_generate: prompt -> tokens (reusing the cached prefix) ->
 * sample / evaluate loop -> streamed text with stop strings.
 *
 * Streaming: token pieces pass through the tokenizer's streaming decoder
 * (whole UTF-8 characters only), then through the stop-string filter, which
 * holds back the longest tail that could still begin a stop string and cuts
 * the output where one completes. What has been handed to the callback can
 * therefore never be part of a stop string.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "engine/api.h"
#include "engine/sampler.h"

rf_sampling_params rf_sampling_params_default(void) {
    return (rf_sampling_params){
        .temperature = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .repeat_penalty = 1.0f,
        .repeat_last_n = 64,
        .presence_penalty = 0.0f,
        .frequency_penalty = 0.0f,
        .seed = RF_SEED_RANDOM,
        .max_tokens = -1,
        .stop = NULL,
        .n_stop = 0,
        .ignore_eog = false,
        .add_special = -1,
        .parse_special = true,
    };
}

/* ---- stop strings ---- */

#define RF_MAX_STOP 64
#define RF_MAX_STOP_LEN 4096

typedef struct out_filter {
    const char *const *stop;
    size_t n_stop;
    char *pending;        /* text not yet handed out */
    size_t n, cap;
    rf_token_cb cb;
    void *user;
    bool cancelled;
} out_filter;

static bool emit(out_filter *f, const char *s, size_t n) {
    if (n && f->cb && !f->cancelled && f->cb(s, n, f->user)) f->cancelled = true;
    return !f->cancelled;
}

/* Appends text; returns 1 if a stop string completed (output cut before
 * it), 0 otherwise, -1 on allocation failure. */
static int filter_push(out_filter *f, const char *s, size_t n) {
    if (!f->n_stop) return emit(f, s, n), 0;
    if (f->n + n + 1 > f->cap) {
        size_t cap = (f->n + n + 1) * 2;
        char *p = rf__realloc(f->pending, cap);
        if (!p) return -1;
        f->pending = p;
        f->cap = cap;
    }
    memcpy(f->pending + f->n, s, n);
    f->n += n;
    /* earliest complete stop string */
    size_t cut = SIZE_MAX;
    for (size_t i = 0; i < f->n_stop; i++) {
        size_t sl = strlen(f->stop[i]);
        if (!sl || sl > f->n) continue;
        for (size_t at = 0; at + sl <= f->n && at < cut; at++)
            if (memcmp(f->pending + at, f->stop[i], sl) == 0) {
                cut = at;
                break;
            }
    }
    if (cut != SIZE_MAX) {
        emit(f, f->pending, cut);
        f->n = 0;
        return 1;
    }
    /* hold back the longest tail that is a prefix of some stop string */
    size_t hold = 0;
    for (size_t i = 0; i < f->n_stop; i++) {
        size_t sl = strlen(f->stop[i]);
        for (size_t k = RF_MIN(sl - 1, f->n); k > hold; k--)
            if (memcmp(f->pending + f->n - k, f->stop[i], k) == 0) {
                hold = k;
                break;
            }
    }
    emit(f, f->pending, f->n - hold);
    memmove(f->pending, f->pending + f->n - hold, hold);
    f->n = hold;
    return 0;
}

static void filter_flush(out_filter *f) {
    emit(f, f->pending, f->n);
    f->n = 0;
}

/* ---- generation ---- */

static uint64_t random_seed(void) {
    uint64_t s;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) == (ssize_t)sizeof s) return s;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
}

rf_status rf_generate(rf_context *c, const char *prompt, const rf_sampling_params *params,
                      rf_token_cb cb, void *user, rf_generate_stats *stats) {
    rf_status st = RF_OK;
    rf_sampling_params def = rf_sampling_params_default();
    rf_generate_stats sd = {0};
    rf_sampler *smp = NULL;
    rf_tok_stream *ts = NULL;
    int32_t *ptoks = NULL;
    out_filter f = {0};
    if (!c) return RF_ERR_INVALID_ARG;
    rf__err_clear(&c->err);
    if (!params) params = &def;
    if (!prompt) return rf__err(&c->err, RF_ERR_INVALID_ARG, "no prompt");
    if (params->n_stop > RF_MAX_STOP || (params->n_stop && !params->stop))
        return rf__err(&c->err, RF_ERR_INVALID_ARG, "at most %d stop strings", RF_MAX_STOP);
    for (size_t i = 0; i < params->n_stop; i++)
        if (!params->stop[i] || strlen(params->stop[i]) > RF_MAX_STOP_LEN)
            return rf__err(&c->err, RF_ERR_INVALID_ARG, "stop string %zu missing or longer than %d bytes",
                           i, RF_MAX_STOP_LEN);
    const rf_model *m = c->model;
    rf_ctx_impl *ci = c->impl;
    const uint32_t n_ctx = ci->n_ctx, n_vocab = m->impl->hp.n_vocab;

    /* tokenize */
    bool add_special = params->add_special < 0 ? true : params->add_special != 0;
    size_t np = 0, plen = strlen(prompt);
    st = rf__tokenizer_encode(m->tok, prompt, plen, add_special, params->parse_special, &ptoks, &np, &c->err);
    if (st != RF_OK) goto out;
    if (np == 0) {
        st = rf__err(&c->err, RF_ERR_INVALID_ARG, "the prompt is empty (no tokens)");
        goto out;
    }
    if (np >= n_ctx) {
        st = rf__err(&c->err, RF_ERR_CONTEXT_FULL, "the prompt has %zu tokens; the context holds %u", np, n_ctx);
        goto out;
    }
    sd.seed = params->seed == RF_SEED_RANDOM ? random_seed() : params->seed;
    rf_sampler_cfg sc = {
        .temperature = params->temperature,
        .top_k = params->top_k,
        .top_p = params->top_p,
        .min_p = params->min_p,
        .repeat_penalty = params->repeat_penalty,
        .repeat_last_n = params->repeat_last_n,
        .presence_penalty = params->presence_penalty,
        .frequency_penalty = params->frequency_penalty,
        .seed = sd.seed,
    };
    st = rf__sampler_create(&sc, n_vocab, &smp, &c->err);
    if (st != RF_OK) goto out;
    st = rf__tok_stream_create(m->tok, false, false, &ts, &c->err);
    if (st != RF_OK) goto out;

    /* reuse the cached prefix; evaluate at least one token for logits */
    uint32_t keep = 0;
    while (keep < ci->n_past && keep < np && c->hist[keep] == ptoks[keep]) keep++;
    if (keep == np) keep--;
    rf__ctx_truncate(ci, keep);
    sd.n_prompt = (uint32_t)np;
    sd.n_prompt_cached = keep;
    double t0 = rf__now();
    st = rf_eval(c, ptoks + keep, np - keep, false, c->logits);
    sd.t_prompt_s = rf__now() - t0;
    if (st != RF_OK) goto out;

    f.stop = params->stop;
    f.n_stop = params->n_stop;
    f.cb = cb;
    f.user = user;
    t0 = rf__now();
    for (;;) {
        if (params->max_tokens >= 0 && sd.n_generated >= (uint32_t)params->max_tokens) {
            sd.stop = RF_STOP_MAX_TOKENS;
            break;
        }
        int32_t tok = rf__sampler_sample(smp, c->logits, c->hist, ci->n_past);
        sd.n_generated++;
        if (!params->ignore_eog && rf__tokenizer_is_eog(m->tok, tok)) {
            sd.stop = RF_STOP_EOG;
            break;
        }
        const char *text;
        size_t tl;
        st = rf__tok_stream_push(ts, tok, &text, &tl, &c->err);
        if (st != RF_OK) goto out;
        int r = filter_push(&f, text, tl);
        if (r < 0) {
            st = rf__err(&c->err, RF_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (r > 0) {
            sd.stop = RF_STOP_STRING;
            break;
        }
        if (f.cancelled) {
            sd.stop = RF_STOP_CALLBACK;
            break;
        }
        if (ci->n_past >= n_ctx) {
            sd.stop = RF_STOP_CONTEXT_FULL;
            break;
        }
        st = rf_eval(c, &tok, 1, false, c->logits);
        if (st != RF_OK) goto out;
    }
    if (sd.stop != RF_STOP_STRING && sd.stop != RF_STOP_CALLBACK) {
        const char *text;
        size_t tl;
        rf__tok_stream_flush(ts, &text, &tl);
        if (filter_push(&f, text, tl) == 0) filter_flush(&f);
    }
    sd.t_gen_s = rf__now() - t0;
out:
    if (stats) *stats = sd;
    rf__free(f.pending);
    rf__tok_stream_free(ts);
    rf__sampler_free(smp);
    rf__free(ptoks);
    return st;
}
