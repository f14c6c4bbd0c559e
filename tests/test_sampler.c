/*
 * test_sampler.c - every sampling step against a plain reference (full sort,
 * double precision) on random logits; the whole chain against a reference
 * chain drawing with the same random numbers; same seed => same tokens;
 * the draw follows the softmax distribution.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sampler.h"
#include "rf_test.h"

static uint64_t rs = 0x1234567887654321ull;
static double urand(void) {
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0;
}

typedef struct { int32_t id; double logit; } ref_c;

static int cmp_ref(const void *a, const void *b) {
    const ref_c *x = a, *y = b;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return x->id - y->id;
}

static int cmp_id_ref(const void *a, const void *b) {
    const ref_c *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static void random_logits(float *l, size_t n, double scale) {
    for (size_t i = 0; i < n; i++) l[i] = (float)((urand() * 2 - 1) * scale);
}

static void load(rf_cands *c, rf_cand *buf, const float *l, size_t n) {
    for (size_t i = 0; i < n; i++) buf[i] = (rf_cand){(int32_t)i, l[i], 0};
    c->data = buf;
    c->n = n;
    c->sorted = false;
}

static ref_c *ref_sorted(const float *l, size_t n) {
    ref_c *r = malloc(n * sizeof *r);
    for (size_t i = 0; i < n; i++) r[i] = (ref_c){(int32_t)i, l[i]};
    qsort(r, n, sizeof *r, cmp_ref);
    return r;
}

/* number of entries of the reference nucleus for p over r[0..n) */
static size_t ref_top_p(const ref_c *r, size_t n, double p) {
    double mx = r[0].logit, sum = 0, cum = 0;
    for (size_t i = 0; i < n; i++) sum += exp(r[i].logit - mx);
    for (size_t i = 0; i < n; i++) {
        cum += exp(r[i].logit - mx) / sum;
        if (cum >= p) return i + 1;
    }
    return n;
}

static bool same_ids_in_order(const rf_cands *c, const ref_c *r, size_t n) {
    if (c->n != n) return false;
    for (size_t i = 0; i < n; i++)
        if (c->data[i].id != r[i].id) return false;
    return true;
}

static bool same_id_set(const rf_cands *c, const int32_t *ids, size_t n) {
    if (c->n != n) return false;
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < n && !found; j++) found = c->data[j].id == ids[i];
        if (!found) return false;
    }
    return true;
}

static void test_steps(void) {
    const size_t sizes[] = {1, 7, 1000, 50000};
    for (size_t si = 0; si < 4; si++) {
        size_t n = sizes[si];
        float *l = malloc(n * sizeof *l);
        rf_cand *buf = malloc(n * sizeof *buf);
        for (int rep = 0; rep < 5; rep++) {
            random_logits(l, n, rep == 4 ? 30.0 : 5.0);
            if (n > 10 && rep == 3) /* ties */
                for (size_t i = 0; i < n; i += 3) l[i] = 1.0f;
            ref_c *r = ref_sorted(l, n);
            rf_cands c;

            /* sort */
            load(&c, buf, l, n);
            rf__sample_sort(&c);
            RF_CHECK(same_ids_in_order(&c, r, n));

            /* top-k */
            const int32_t ks[] = {0, 1, 5, 40, 100000};
            for (int ki = 0; ki < 5; ki++) {
                load(&c, buf, l, n);
                rf__sample_top_k(&c, ks[ki]);
                size_t want = ks[ki] <= 0 || (size_t)ks[ki] >= n ? n : (size_t)ks[ki];
                RF_CHECK(c.n == want);
                if (ks[ki] > 0 && (size_t)ks[ki] < n) RF_CHECK(same_ids_in_order(&c, r, want));
            }

            /* top-p on the full list and after top-k */
            const float ps[] = {0.1f, 0.5f, 0.9f, 0.95f, 0.999f, 1.0f};
            for (int pi = 0; pi < 6; pi++) {
                load(&c, buf, l, n);
                rf__sample_top_p(&c, ps[pi]);
                size_t want = ps[pi] >= 1.0f ? n : ref_top_p(r, n, ps[pi]);
                RF_CHECK(c.n == want);
                if (ps[pi] < 1.0f && c.n == want) RF_CHECK(same_ids_in_order(&c, r, want));
                if (c.n != want) fprintf(stderr, "top-p %g n=%zu: %zu vs %zu\n", ps[pi], n, c.n, want);

                load(&c, buf, l, n);
                rf__sample_top_k(&c, 40);
                rf__sample_top_p(&c, ps[pi]);
                size_t nk = n < 40 ? n : 40;
                rf__sample_sort(&c); /* order is only defined when something was cut */
                want = ps[pi] >= 1.0f ? nk : ref_top_p(r, nk, ps[pi]);
                if (!(c.n == want && same_ids_in_order(&c, r, want))) fprintf(stderr, "n=%zu rep=%d p=%g got %zu want %zu\n", n, rep, ps[pi], c.n, want);
                RF_CHECK(c.n == want && same_ids_in_order(&c, r, want));
            }

            /* min-p */
            const float mps[] = {0.0f, 0.01f, 0.05f, 0.3f, 1.0f};
            for (int mi = 0; mi < 5; mi++) {
                load(&c, buf, l, n);
                rf__sample_min_p(&c, mps[mi]);
                int32_t *keep = malloc(n * sizeof *keep);
                size_t nk = 0;
                for (size_t i = 0; i < n; i++)
                    if (mps[mi] <= 0 || l[i] >= (float)(r[0].logit + log(mps[mi]))) keep[nk++] = (int32_t)i;
                RF_CHECK(same_id_set(&c, keep, nk));
                free(keep);
            }

            /* temperature, greedy */
            load(&c, buf, l, n);
            rf__sample_temp(&c, 0.7f);
            bool ok = true;
            for (size_t i = 0; i < n; i++) ok &= fabsf(c.data[i].logit - l[i] / 0.7f) <= 1e-6f * fabsf(l[i]) + 1e-7f;
            RF_CHECK(ok);
            RF_CHECK(rf__sample_greedy(&c) == r[0].id);
            free(r);
        }
        free(l);
        free(buf);
    }
}

static void test_penalties(void) {
    const size_t n = 300, nh = 100;
    float l[300];
    rf_cand buf[300];
    int32_t hist[100], *counts = calloc(n, sizeof *counts);
    for (int rep = 0; rep < 20; rep++) {
        random_logits(l, n, 4.0);
        for (size_t i = 0; i < nh; i++) hist[i] = (int32_t)(urand() * 40); /* many repeats */
        size_t last_n = rep % 4 == 0 ? nh : (size_t)(urand() * 120);
        float rep_p = 1.0f + (float)urand(), fr = (float)urand(), pr = (float)urand();
        rf_cands c;
        load(&c, buf, l, n);
        if (rep % 2) rf__sample_top_k(&c, 250); /* sorted, not by id */
        rf__sample_penalties(&c, hist, nh, last_n, rep_p, fr, pr, counts, n);
        /* reference */
        int cnt[300] = {0};
        for (size_t i = nh > last_n ? nh - last_n : 0; i < nh; i++) cnt[hist[i]]++;
        bool ok = true;
        for (size_t i = 0; i < c.n; i++) {
            int32_t id = c.data[i].id;
            double want = l[id];
            if (cnt[id] > 0) {
                want = want <= 0 ? want * rep_p : want / rep_p;
                want -= cnt[id] * fr + pr;
            }
            ok &= fabs(c.data[i].logit - want) < 1e-4;
        }
        RF_CHECK(ok);
        bool zero = true;
        for (size_t i = 0; i < n; i++) zero &= counts[i] == 0;
        RF_CHECK(zero);
    }
    free(counts);
}

static void test_dist(void) {
    /* frequencies follow softmax(logits / 1) within 5 sigma */
    const int n = 8, draws = 200000;
    float l[8];
    rf_cand buf[8];
    random_logits(l, n, 2.0);
    rf_rng rng;
    rf__rng_seed(&rng, 42);
    int hits[8] = {0};
    for (int d = 0; d < draws; d++) {
        rf_cands c;
        load(&c, buf, l, n);
        hits[rf__sample_dist(&c, &rng)]++;
    }
    double mx = -INFINITY, sum = 0;
    for (int i = 0; i < n; i++) mx = fmax(mx, l[i]);
    for (int i = 0; i < n; i++) sum += exp(l[i] - mx);
    for (int i = 0; i < n; i++) {
        double p = exp(l[i] - mx) / sum, sd = sqrt(draws * p * (1 - p));
        RF_CHECK(fabs(hits[i] - draws * p) < 5 * sd + 1);
    }
    /* the uniform generator is in [0, 1) */
    bool ok = true;
    for (int i = 0; i < 100000; i++) {
        double u = rf__rng_uniform(&rng);
        ok &= u >= 0 && u < 1;
    }
    RF_CHECK(ok);
}

/* Reference chain: same order, full sorts, same single uniform draw. */
static int32_t ref_chain(const rf_sampler_cfg *cfg, const float *l0, size_t n, const int32_t *hist,
                         size_t nh, rf_rng *rng) {
    double *l = malloc(n * sizeof *l);
    for (size_t i = 0; i < n; i++) l[i] = l0[i];
    size_t last_n = cfg->repeat_last_n < 0 ? nh : (size_t)cfg->repeat_last_n;
    int *cnt = calloc(n, sizeof *cnt);
    for (size_t i = nh > last_n ? nh - last_n : 0; i < nh; i++) cnt[hist[i]]++;
    for (size_t i = 0; i < n; i++)
        if (cnt[i] > 0) {
            l[i] = l[i] <= 0 ? l[i] * cfg->repeat_penalty : l[i] / cfg->repeat_penalty;
            l[i] -= cnt[i] * cfg->frequency_penalty + cfg->presence_penalty;
        }
    free(cnt);
    ref_c *r = malloc(n * sizeof *r);
    for (size_t i = 0; i < n; i++) r[i] = (ref_c){(int32_t)i, (float)l[i]};
    free(l);
    qsort(r, n, sizeof *r, cmp_ref);
    int32_t out;
    if (cfg->temperature <= 0) {
        out = r[0].id;
    } else {
        size_t k = n;
        if (cfg->top_k > 0 && (size_t)cfg->top_k < k) k = (size_t)cfg->top_k;
        if (cfg->top_p < 1) k = ref_top_p(r, k, cfg->top_p);
        if (cfg->min_p > 0) {
            size_t j = 0;
            while (j < k && r[j].logit >= (float)(r[0].logit + log(cfg->min_p))) j++;
            k = j ? j : 1;
        }
        /* draw over the kept set in id order */
        qsort(r, k, sizeof *r, cmp_id_ref);
        double mx = -INFINITY, sum = 0;
        for (size_t i = 0; i < k; i++) mx = fmax(mx, (float)(r[i].logit / cfg->temperature));
        for (size_t i = 0; i < k; i++) sum += exp((float)(r[i].logit / cfg->temperature) - mx);
        double u = rf__rng_uniform(rng) * sum, acc = 0;
        out = r[k - 1].id;
        for (size_t i = 0; i < k; i++) {
            acc += exp((float)(r[i].logit / cfg->temperature) - mx);
            if (u < acc) {
                out = r[i].id;
                break;
            }
        }
    }
    free(r);
    return out;
}

static void test_chain(void) {
    const size_t n = 5000;
    float *l = malloc(n * sizeof *l);
    int32_t hist[64];
    rf_sampler_cfg cfgs[] = {
        {.temperature = 0, .top_k = 40, .top_p = 0.9f, .min_p = 0.05f, .repeat_penalty = 1.3f, .repeat_last_n = 64, .seed = 1},
        {.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f, .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 2},
        {.temperature = 1.0f, .top_k = 0, .top_p = 0.9f, .min_p = 0.0f, .repeat_penalty = 1.1f, .repeat_last_n = -1, .presence_penalty = 0.5f, .frequency_penalty = 0.2f, .seed = 3},
        {.temperature = 1.5f, .top_k = 0, .top_p = 1.0f, .min_p = 0.1f, .repeat_penalty = 1.0f, .repeat_last_n = 16, .seed = 4},
        {.temperature = 0.5f, .top_k = 1, .top_p = 1.0f, .min_p = 0.0f, .repeat_penalty = 1.0f, .repeat_last_n = 0, .seed = 5},
    };
    for (size_t ci = 0; ci < RF_ARRAY_LEN(cfgs); ci++) {
        rf_sampler *s = NULL, *s2 = NULL;
        rf_err e = {0};
        RF_CHECK(rf__sampler_create(&cfgs[ci], n, &s, &e) == RF_OK);
        RF_CHECK(rf__sampler_create(&cfgs[ci], n, &s2, &e) == RF_OK);
        rf_rng rng;
        rf__rng_seed(&rng, cfgs[ci].seed);
        int agree = 0, same_seed = 0;
        for (int step = 0; step < 50; step++) {
            random_logits(l, n, 6.0);
            for (int i = 0; i < 64; i++) hist[i] = (int32_t)(urand() * 100);
            int32_t a = rf__sampler_sample(s, l, hist, 64);
            int32_t b = ref_chain(&cfgs[ci], l, n, hist, 64, &rng);
            int32_t a2 = rf__sampler_sample(s2, l, hist, 64);
            agree += a == b;
            same_seed += a == a2;
        }
        if (agree != 50) fprintf(stderr, "chain %zu: %d/50 agree with the reference\n", ci, agree);
        RF_CHECK(agree == 50);
        RF_CHECK(same_seed == 50);
        rf__sampler_free(s);
        rf__sampler_free(s2);
    }
    /* different seeds give different sequences */
    rf_sampler_cfg c = {.temperature = 1.0f, .top_p = 1.0f, .repeat_penalty = 1.0f, .seed = 7};
    rf_sampler *s1, *s2;
    rf_err e = {0};
    rf__sampler_create(&c, n, &s1, &e);
    c.seed = 8;
    rf__sampler_create(&c, n, &s2, &e);
    random_logits(l, n, 1.0);
    int diff = 0;
    for (int i = 0; i < 20; i++) diff += rf__sampler_sample(s1, l, NULL, 0) != rf__sampler_sample(s2, l, NULL, 0);
    RF_CHECK(diff > 10);
    rf__sampler_free(s1);
    rf__sampler_free(s2);
    /* invalid parameters are refused */
    rf_sampler_cfg bad = {.temperature = NAN, .repeat_penalty = 1.0f};
    RF_CHECK(rf__sampler_create(&bad, n, &s1, &e) == RF_ERR_INVALID_ARG && s1 == NULL);
    bad = (rf_sampler_cfg){.repeat_penalty = 0.0f};
    RF_CHECK(rf__sampler_create(&bad, n, &s1, &e) == RF_ERR_INVALID_ARG);
    free(l);
}

int main(void) {
    size_t live = rf__alloc_live_blocks();
    test_steps();
    test_penalties();
    test_dist();
    test_chain();
    RF_CHECK(rf__alloc_live_blocks() == live);
    return rf_test_finish("test_sampler");
}
