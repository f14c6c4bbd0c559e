/*
 * sampler.c - token sampling (see sampler.h for the order and semantics).
 *
 * Sorting 50k-250k candidates per token would dominate a fast decode step,
 * so top-k and top-p select before they sort: top-k partitions the k largest
 * to the front (quickselect) and sorts only those; top-p, on an unsorted
 * list, selects growing prefixes (64, 256, ...) until one holds probability
 * mass p, which then contains the whole nucleus.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sampler.h"

/* ---- random numbers: xoshiro256** seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rf__rng_seed(rf_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rf__rng_next(rf_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double rf__rng_uniform(rf_rng *r) { return (double)(rf__rng_next(r) >> 11) * 0x1.0p-53; }

/* ---- ordering helpers ---- */

/* descending by logit, ties by id (deterministic) */
static inline bool before(const rf_cand *a, const rf_cand *b) {
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int cmp_cand(const void *a, const void *b) {
    const rf_cand *x = a, *y = b;
    return before(x, y) ? -1 : before(y, x) ? 1 : 0;
}

void rf__sample_sort(rf_cands *c) {
    if (!c->sorted) qsort(c->data, c->n, sizeof *c->data, cmp_cand);
    c->sorted = true;
}

static inline void swap_cand(rf_cand *a, rf_cand *b) {
    rf_cand t = *a;
    *a = *b;
    *b = t;
}

/* Moves the k first (in sort order) candidates to the front, unordered
 * (quickselect, median-of-three pivot, three-way partition). */
static void select_front(rf_cand *d, size_t n, size_t k) {
    size_t lo = 0, hi = n;
    while (hi - lo > 1 && k > lo && k < hi) {
        size_t mid = lo + (hi - lo) / 2;
        rf_cand *a = &d[lo], *b = &d[mid], *c = &d[hi - 1];
        rf_cand pivot = before(a, b) ? (before(b, c) ? *b : before(a, c) ? *c : *a)
                                     : (before(a, c) ? *a : before(b, c) ? *c : *b);
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (before(&d[i], &pivot)) swap_cand(&d[lt++], &d[i++]);
            else if (before(&pivot, &d[i])) swap_cand(&d[i], &d[--gt]);
            else i++;
        }
        if (k <= lt) hi = lt;
        else if (k >= gt) lo = gt;
        else return;
    }
}

void rf__sample_top_k(rf_cands *c, int32_t k) {
    if (k <= 0 || (size_t)k >= c->n) {
        return;
    }
    if (!c->sorted) {
        select_front(c->data, c->n, (size_t)k);
        qsort(c->data, (size_t)k, sizeof *c->data, cmp_cand);
        c->sorted = true;
    }
    c->n = (size_t)k;
}

static void softmax_sorted(rf_cands *c) {
    float mx = c->data[0].logit;
    double sum = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        c->data[i].p = expf(c->data[i].logit - mx);
        sum += c->data[i].p;
    }
    for (size_t i = 0; i < c->n; i++) c->data[i].p = (float)(c->data[i].p / sum);
}

void rf__sample_softmax(rf_cands *c) {
    rf__sample_sort(c);
    softmax_sorted(c);
}

void rf__sample_top_p(rf_cands *c, float p) {
    if (p >= 1.0f || c->n <= 1) return;
    if (!c->sorted) {
        /* probabilities over all candidates without sorting them */
        float mx = -INFINITY;
        for (size_t i = 0; i < c->n; i++) mx = fmaxf(mx, c->data[i].logit);
        double sum = 0.0;
        for (size_t i = 0; i < c->n; i++) sum += expf(c->data[i].logit - mx);
        for (size_t m = 64;; m *= 4) {
            if (m >= c->n) {
                rf__sample_sort(c);
                break;
            }
            select_front(c->data, c->n, m);
            double mass = 0.0;
            for (size_t i = 0; i < m; i++) mass += expf(c->data[i].logit - mx) / sum;
            if (mass >= p) {
                qsort(c->data, m, sizeof *c->data, cmp_cand);
                c->n = m; /* the nucleus lies inside; renormalised below */
                c->sorted = true;
                /* keep probabilities relative to the full distribution */
                double cum = 0.0;
                for (size_t i = 0; i < m; i++) {
                    cum += expf(c->data[i].logit - mx) / sum;
                    if (cum >= p) {
                        c->n = i + 1;
                        return;
                    }
                }
                return;
            }
        }
    }
    softmax_sorted(c);
    double cum = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        cum += c->data[i].p;
        if (cum >= p) {
            c->n = i + 1;
            return;
        }
    }
}

void rf__sample_min_p(rf_cands *c, float p) {
    if (p <= 0.0f || c->n <= 1) return;
    float mx = -INFINITY;
    for (size_t i = 0; i < c->n; i++) mx = fmaxf(mx, c->data[i].logit);
    float min_logit = mx + logf(p);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->data[i].logit >= min_logit) c->data[k++] = c->data[i];
    c->n = k ? k : 1; /* the maximum always passes; k >= 1 */
}

void rf__sample_temp(rf_cands *c, float t) {
    for (size_t i = 0; i < c->n; i++) c->data[i].logit /= t;
}

int32_t rf__sample_greedy(const rf_cands *c) {
    size_t best = 0;
    for (size_t i = 1; i < c->n; i++)
        if (before(&c->data[i], &c->data[best])) best = i;
    return c->data[best].id;
}

static int cmp_id(const void *a, const void *b) {
    const rf_cand *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int32_t rf__sample_dist(rf_cands *c, rf_rng *rng) {
    /* draw in id order, so the token depends only on the candidate set and
     * the random number, not on how earlier steps ordered the list */
    if (c->sorted) {
        qsort(c->data, c->n, sizeof *c->data, cmp_id);
        c->sorted = false;
    }
    float mx = -INFINITY;
    for (size_t i = 0; i < c->n; i++) mx = fmaxf(mx, c->data[i].logit);
    double sum = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        c->data[i].p = expf(c->data[i].logit - mx);
        sum += c->data[i].p;
    }
    double u = rf__rng_uniform(rng) * sum, acc = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        acc += c->data[i].p;
        if (u < acc) return c->data[i].id;
    }
    return c->data[c->n - 1].id; /* rounding at the very end */
}

void rf__sample_penalties(rf_cands *c, const int32_t *hist, size_t n_hist, size_t last_n,
                          float repeat, float freq, float presence, int32_t *counts,
                          size_t n_vocab) {
    if (last_n == 0 || n_hist == 0 || (repeat == 1.0f && freq == 0.0f && presence == 0.0f)) return;
    size_t from = n_hist > last_n ? n_hist - last_n : 0;
    for (size_t i = from; i < n_hist; i++)
        if (hist[i] >= 0 && (size_t)hist[i] < n_vocab) counts[hist[i]]++;
    /* candidates are indexed by id when they are the full, untouched vocab */
    bool by_id = c->n == n_vocab && !c->sorted;
    for (size_t i = from; i < n_hist; i++) {
        int32_t id = hist[i];
        if (id < 0 || (size_t)id >= n_vocab || counts[id] == 0) continue;
        int32_t cnt = counts[id];
        counts[id] = 0; /* each id once */
        rf_cand *cd = NULL;
        if (by_id && c->data[id].id == id) {
            cd = &c->data[id];
        } else {
            for (size_t k = 0; k < c->n; k++)
                if (c->data[k].id == id) {
                    cd = &c->data[k];
                    break;
                }
        }
        if (!cd) continue;
        cd->logit = cd->logit <= 0.0f ? cd->logit * repeat : cd->logit / repeat;
        cd->logit -= (float)cnt * freq + presence;
        c->sorted = false;
    }
}

/* ---- chain ---- */

struct rf_sampler {
    rf_sampler_cfg cfg;
    size_t n_vocab;
    rf_cand *cands;
    int32_t *counts;
    rf_rng rng;
};

rf_status rf__sampler_create(const rf_sampler_cfg *cfg, size_t n_vocab, rf_sampler **out, rf_err *err) {
    *out = NULL;
    if (n_vocab == 0 || n_vocab > (size_t)INT32_MAX)
        return rf__err(err, RF_ERR_INVALID_ARG, "vocabulary size %zu out of range", n_vocab);
    if (!isfinite(cfg->temperature) || !isfinite(cfg->top_p) || !isfinite(cfg->min_p) ||
        !isfinite(cfg->repeat_penalty) || !isfinite(cfg->presence_penalty) ||
        !isfinite(cfg->frequency_penalty))
        return rf__err(err, RF_ERR_INVALID_ARG, "sampling parameters must be finite numbers");
    if (cfg->repeat_penalty <= 0.0f)
        return rf__err(err, RF_ERR_INVALID_ARG, "repeat penalty must be > 0 (1 = off)");
    if (cfg->repeat_last_n < -1)
        return rf__err(err, RF_ERR_INVALID_ARG, "repeat_last_n must be >= -1");
    rf_sampler *s = rf__calloc(1, sizeof *s);
    if (!s) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    s->cfg = *cfg;
    s->n_vocab = n_vocab;
    s->cands = rf__malloc(n_vocab * sizeof *s->cands);
    s->counts = rf__calloc(n_vocab, sizeof *s->counts);
    if (!s->cands || !s->counts) {
        rf__sampler_free(s);
        return rf__err(err, RF_ERR_NOMEM, "out of memory");
    }
    rf__rng_seed(&s->rng, cfg->seed);
    *out = s;
    return RF_OK;
}

void rf__sampler_free(rf_sampler *s) {
    if (!s) return;
    rf__free(s->cands);
    rf__free(s->counts);
    rf__free(s);
}

int32_t rf__sampler_sample(rf_sampler *s, const float *logits, const int32_t *hist, size_t n_hist) {
    const rf_sampler_cfg *cfg = &s->cfg;
    rf_cands c = {s->cands, s->n_vocab, false};
    for (size_t i = 0; i < s->n_vocab; i++) {
        float l = logits[i];
        c.data[i] = (rf_cand){(int32_t)i, isnan(l) ? -INFINITY : l, 0.0f};
    }
    size_t last_n = cfg->repeat_last_n < 0 ? n_hist : (size_t)cfg->repeat_last_n;
    rf__sample_penalties(&c, hist, n_hist, last_n, cfg->repeat_penalty, cfg->frequency_penalty,
                         cfg->presence_penalty, s->counts, s->n_vocab);
    if (cfg->temperature <= 0.0f) return rf__sample_greedy(&c);
    rf__sample_top_k(&c, cfg->top_k);
    rf__sample_top_p(&c, cfg->top_p);
    rf__sample_min_p(&c, cfg->min_p);
    rf__sample_temp(&c, cfg->temperature);
    return rf__sample_dist(&c, &s->rng);
}
