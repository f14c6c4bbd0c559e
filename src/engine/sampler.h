/*
 * sampler.h - choosing the next token from logits, with llama.cpp's
 * semantics and order:
 *
 *   penalties (repeat / frequency / presence over the last N tokens)
 *   -> temperature <= 0: greedy (argmax)
 *   -> top-k -> top-p -> min-p -> temperature -> draw from the softmax
 *
 * The random numbers come from the sampler's own xoshiro256** generator
 * seeded by the caller: the same seed, logits and history give the same
 * token on every machine.
 */
#ifndef RF_SAMPLER_H
#define RF_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef struct rf_cand {
    int32_t id;
    float logit;
    float p;            /* filled by the steps that need probabilities */
} rf_cand;

typedef struct rf_cands {
    rf_cand *data;
    size_t n;
    bool sorted;        /* by logit, descending */
} rf_cands;

typedef struct rf_rng {
    uint64_t s[4];
} rf_rng;

void rf__rng_seed(rf_rng *r, uint64_t seed);
uint64_t rf__rng_next(rf_rng *r);
double rf__rng_uniform(rf_rng *r);  /* [0, 1) with 53 random bits */

/* ---- single steps (each keeps at least one candidate) ---- */
/* llama.cpp's penalties: for each id seen in the last `last_n` entries of
 * hist (count c > 0): logit = logit <= 0 ? logit * repeat : logit / repeat;
 * logit -= c * freq + presence. counts: n_vocab zeroed ints (left zeroed). */
void rf__sample_penalties(rf_cands *c, const int32_t *hist, size_t n_hist, size_t last_n,
                          float repeat, float freq, float presence, int32_t *counts,
                          size_t n_vocab);
void rf__sample_sort(rf_cands *c);                  /* descending by logit */
void rf__sample_top_k(rf_cands *c, int32_t k);      /* k <= 0: no-op */
void rf__sample_softmax(rf_cands *c);               /* sorts, fills p */
void rf__sample_top_p(rf_cands *c, float p);        /* p >= 1: no-op */
void rf__sample_min_p(rf_cands *c, float p);        /* p <= 0: no-op */
void rf__sample_temp(rf_cands *c, float t);         /* logits /= t */
int32_t rf__sample_greedy(const rf_cands *c);        /* first maximum */
int32_t rf__sample_dist(rf_cands *c, rf_rng *rng);   /* draw from softmax(logits) */

/* ---- the whole chain ---- */
typedef struct rf_sampler_cfg {
    float temperature;
    int32_t top_k;
    float top_p;
    float min_p;
    float repeat_penalty;
    int32_t repeat_last_n;   /* -1: the whole history */
    float presence_penalty;
    float frequency_penalty;
    uint64_t seed;
} rf_sampler_cfg;

typedef struct rf_sampler rf_sampler;

rf_status rf__sampler_create(const rf_sampler_cfg *cfg, size_t n_vocab, rf_sampler **out, rf_err *err);
void rf__sampler_free(rf_sampler *s);
/* Picks the next token from logits[n_vocab] given the token history
 * (prompt and generated so far, oldest first). */
int32_t rf__sampler_sample(rf_sampler *s, const float *logits, const int32_t *hist, size_t n_hist);

#endif /* RF_SAMPLER_H */
