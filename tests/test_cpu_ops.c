/*
 * test_cpu_ops.c - every CPU op against a plain double-precision reference on
 * random inputs, run with 1 and 3 threads (uneven splits, dynamic tiles).
 * Includes rope (normal/neox, partial dims, freq factors, linear and YaRN
 * scaling), attention (GQA, sliding window, softcap, f16 and f32 caches),
 * matrix products over every weight type with a quantizer and a dot product,
 * and the graph planner's memory reuse.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cpu/cpu.h"
#include "cpu/dot.h"
#include "cpu/vexp.h"
#include "rf_test.h"

/* ---- random numbers (xorshift, fixed seed) ---- */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}
static float frand(float lo, float hi) { return lo + (hi - lo) * (float)urand(); }
static void fill(float *x, int64_t n, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) x[i] = frand(lo, hi);
}

/* ---- helpers ---- */
static rf_backend *be;
static rf_buffer *bufs[4096];
static rf_tensor *tens[4096];
static int n_bufs;

/* An external tensor with its own buffer, filled from data (may be NULL). */
static rf_tensor *ext(rf_type type, int64_t ne0, int64_t ne1, int64_t ne2, const void *data,
                      const char *name) {
    rf_tensor *t = calloc(1, sizeof *t);
    rf_tensor probe;
    rf__tensor_init_external(&probe, NULL, 0, type, ne0, ne1, ne2, 1, name);
    size_t nb = rf__tensor_nbytes(&probe);
    rf_buffer *b = NULL;
    rf_err e = {0};
    if (rf__buffer_alloc(be, nb, &b, &e) != RF_OK) { fprintf(stderr, "%s\n", e.msg); exit(1); }
    tens[n_bufs] = t;
    bufs[n_bufs++] = b;
    rf__tensor_init_external(t, b, 0, type, ne0, ne1, ne2, 1, name);
    if (data) rf__tensor_upload(t, data, nb, &e);
    else memset(b->host, 0x7f, nb); /* poison */
    return t;
}

static void free_bufs(void) {
    for (int i = 0; i < n_bufs; i++) {
        rf__buffer_free(bufs[i]);
        free(tens[i]);
    }
    n_bufs = 0;
}

/* Allocates and runs g; returns false on error. */
static bool run(rf_graph *g) {
    rf_err e = {0};
    if (rf__graph_alloc(g, &e) != RF_OK || rf__graph_compute(g, &e) != RF_OK) {
        fprintf(stderr, "graph failed: %s\n", e.msg);
        return false;
    }
    return true;
}

static rf_graph *graph(void) {
    rf_graph *g = NULL;
    rf_err e = {0};
    rf__graph_create(be, &g, &e);
    return g;
}

/* normalised mean squared error of got against ref */
static double nmse(const float *got, const double *ref, int64_t n) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = got[i] - ref[i];
        if (isnan(got[i])) return INFINITY;
        num += d * d;
        den += ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}

static double max_abs_err(const float *got, const double *ref, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(got[i] - ref[i]);
        if (isnan(got[i]) || d > m) m = isnan(got[i]) ? INFINITY : d;
    }
    return m;
}

#define CHECK_CLOSE(name, got, ref, n, tol)                                               \
    do {                                                                                  \
        double err_ = max_abs_err(got, ref, n);                                           \
        if (!(err_ <= (tol))) fprintf(stderr, "%s: max abs err %g > %g\n", name, err_, (double)(tol)); \
        RF_CHECK(err_ <= (tol));                                                          \
    } while (0)

/* ---- element-wise and row ops ---- */

static void test_rowwise(void) {
    const int64_t nc = 96, nr = 7;
    float *a = malloc(nc * nr * 4), *b = malloc(nc * nr * 4), *w = malloc(nc * 4), *bias = malloc(nc * 4);
    float *out = malloc(nc * nr * 4);
    double *ref = malloc(nc * nr * 8);
    fill(a, nc * nr, -3, 3); fill(b, nc * nr, -2, 2); fill(w, nc, 0.5f, 1.5f); fill(bias, nc, -1, 1);
    rf_tensor *ta = ext(RF_TYPE_F32, nc, nr, 1, a, "a"), *tb = ext(RF_TYPE_F32, nc, nr, 1, b, "b");
    rf_tensor *tw = ext(RF_TYPE_F32, nc, 1, 1, w, "w"), *tbias = ext(RF_TYPE_F32, nc, 1, 1, bias, "bias");
    rf_err e = {0};

    float *rs = malloc(nr * 4);
    fill(rs, nr, -2, 2);
    rf_tensor *trs = ext(RF_TYPE_F32, 1, nr, 1, rs, "per_row");
    for (int op = 0; op < 15; op++) {
        rf_graph *g = graph();
        rf_tensor *r = NULL;
        switch (op) {
        case 0: r = rf__g_add(g, ta, tb); break;
        case 1: r = rf__g_mul(g, ta, tb); break;
        case 2: r = rf__g_add(g, ta, tw); break;    /* broadcast */
        case 3: r = rf__g_scale(g, ta, 0.37f); break;
        case 4: r = rf__g_swiglu(g, ta, tb); break;
        case 5: r = rf__g_geglu(g, ta, tb); break;
        case 6: r = rf__g_rms_norm(g, ta, tw, 1e-5f); break;
        case 7: r = rf__g_rms_norm(g, ta, NULL, 1e-6f); break;
        case 8: r = rf__g_layer_norm(g, ta, tw, tbias, 1e-5f); break;
        case 9: r = rf__g_softmax(g, ta, 0.7f); break;
        case 10: r = rf__g_softcap(g, ta, 1.5f); break;
        case 11: r = rf__g_mul(g, ta, trs); break;  /* one value per row */
        case 12: r = rf__g_add(g, ta, trs); break;
        case 13: r = rf__g_swiglu_oai(g, ta, tb, 1.702f, 1.5f); break; /* clamps bite at 1.5 */
        case 14: r = rf__g_sum_norm(g, ta, 6.103515625e-5f); break;
        }
        rf__g_set_output(g, r);
        RF_CHECK(run(g));
        rf__tensor_download(r, out, nc * nr * 4, &e);
        for (int64_t i = 0; i < nr; i++) {
            const float *x = a + i * nc, *y = b + i * nc;
            double *o = ref + i * nc;
            double ss = 0, mean = 0, var = 0, mx = -INFINITY, sum = 0, rsum = 0;
            for (int64_t j = 0; j < nc; j++) rsum += x[j];
            if (rsum < 6.103515625e-5) rsum = 6.103515625e-5;
            for (int64_t j = 0; j < nc; j++) { ss += (double)x[j] * x[j]; mean += x[j]; mx = fmax(mx, 0.7 * x[j]); }
            mean /= nc;
            for (int64_t j = 0; j < nc; j++) var += (x[j] - mean) * (x[j] - mean);
            var /= nc;
            for (int64_t j = 0; j < nc; j++) sum += exp(0.7 * x[j] - mx);
            for (int64_t j = 0; j < nc; j++) {
                double xv = x[j], yv = y[j];
                switch (op) {
                case 0: o[j] = xv + yv; break;
                case 1: o[j] = xv * yv; break;
                case 2: o[j] = xv + w[j]; break;
                case 3: o[j] = xv * 0.37; break;
                case 4: o[j] = xv / (1 + exp(-xv)) * yv; break;
                case 5: o[j] = 0.5 * xv * (1 + tanh(sqrt(2 / M_PI) * (xv + 0.044715 * xv * xv * xv))) * yv; break;
                case 6: o[j] = xv / sqrt(ss / nc + 1e-5) * w[j]; break;
                case 7: o[j] = xv / sqrt(ss / nc + 1e-6); break;
                case 8: o[j] = (xv - mean) / sqrt(var + 1e-5) * w[j] + bias[j]; break;
                case 9: o[j] = exp(0.7 * xv - mx) / sum; break;
                case 10: o[j] = 1.5 * tanh(xv / 1.5); break;
                case 11: o[j] = xv * rs[i]; break;
                case 12: o[j] = xv + rs[i]; break;
                case 14: o[j] = xv / rsum; break;
                case 13: {
                    double xc = fmin(xv, 1.5), yc = fmin(fmax(yv, -1.5), 1.5);
                    o[j] = xc / (1 + exp(-1.702 * xc)) * (yc + 1);
                } break;
                }
            }
        }
        char name[32];
        snprintf(name, sizeof name, "rowwise op %d", op);
        CHECK_CLOSE(name, out, ref, nc * nr, 2e-5);
        rf__graph_free(g);
    }

    /* argmax, topk, take */
    {
        rf_graph *g = graph();
        rf_tensor *am = rf__g_argmax(g, ta), *tk = rf__g_topk(g, ta, 5);
        rf_tensor *tv = rf__g_take(g, ta, tk);
        rf__g_set_output(g, am); rf__g_set_output(g, tk); rf__g_set_output(g, tv);
        RF_CHECK(run(g));
        int32_t amx[7], top[35];
        float vals[35];
        rf__tensor_download(am, amx, sizeof amx, &e);
        rf__tensor_download(tk, top, sizeof top, &e);
        rf__tensor_download(tv, vals, sizeof vals, &e);
        for (int64_t i = 0; i < nr; i++) {
            const float *x = a + i * nc;
            int best = 0;
            for (int j = 1; j < nc; j++) if (x[j] > x[best]) best = j;
            RF_CHECK(amx[i] == best);
            RF_CHECK(top[i * 5] == best);
            /* top-5 descending and each >= every value not chosen */
            for (int k = 0; k < 5; k++) {
                RF_CHECK(vals[i * 5 + k] == x[top[i * 5 + k]]);
                if (k) RF_CHECK(x[top[i * 5 + k]] <= x[top[i * 5 + k - 1]]);
                int bigger = 0;
                for (int j = 0; j < nc; j++) bigger += x[j] > x[top[i * 5 + k]];
                RF_CHECK(bigger == k);
            }
        }
        rf__graph_free(g);
    }

    /* copy f32 -> f16 -> f32 */
    {
        rf_graph *g = graph();
        rf_tensor *h = rf__g_copy(g, ta, RF_TYPE_F16), *back = rf__g_copy(g, h, RF_TYPE_F32);
        rf__g_set_output(g, back);
        RF_CHECK(run(g));
        rf__tensor_download(back, out, nc * nr * 4, &e);
        for (int64_t i = 0; i < nc * nr; i++) ref[i] = rf__fp16_to_fp32(rf__fp32_to_fp16(a[i]));
        CHECK_CLOSE("copy f16", out, ref, nc * nr, 0);
        rf__graph_free(g);
    }
    free(a); free(b); free(w); free(bias); free(out); free(ref); free(rs);
}

/* ---- get_rows ---- */

static bool make_weights(rf_type t, const float *src, int64_t n_per_row, int64_t rows, void **out) {
    const rf_type_traits *tr = rf_type_get(t);
    size_t rs = rf_type_row_size(t, n_per_row);
    *out = malloc(rs * rows);
    if (t == RF_TYPE_F32) { memcpy(*out, src, rs * rows); return true; }
    if (t == RF_TYPE_F16) {
        for (int64_t i = 0; i < n_per_row * rows; i++) ((uint16_t *)*out)[i] = rf__fp32_to_fp16(src[i]);
        return true;
    }
    if (!tr || !tr->quantize || !tr->to_f32) { free(*out); *out = NULL; return false; }
    tr->quantize(src, *out, rows, n_per_row, NULL);
    return true;
}

static void dequant(rf_type t, const void *w, int64_t n, float *out) {
    if (t == RF_TYPE_F32) memcpy(out, w, n * 4);
    else if (t == RF_TYPE_F16) for (int64_t i = 0; i < n; i++) out[i] = rf__fp16_to_fp32(((const uint16_t *)w)[i]);
    else rf_type_get(t)->to_f32(w, out, n);
}

static void test_get_rows(void) {
    const int64_t nc = 256, nr = 20, nid = 9;
    float *src = malloc(nc * nr * 4), *out = malloc(nc * nid * 4), *deq = malloc(nc * nr * 4);
    double *ref = malloc(nc * nid * 8);
    fill(src, nc * nr, -1, 1);
    int32_t ids[9] = {3, 0, 19, 7, 7, 12, 1, 18, 5};
    int tested = 0;
    rf_err e = {0};
    for (int t = 0; t < RF_TYPE_COUNT; t++) {
        void *w;
        if (!make_weights(t, src, nc, nr, &w)) continue;
        rf_tensor *tw = ext(t, nc, nr, 1, w, "table"), *ti = ext(RF_TYPE_I32, nid, 1, 1, ids, "ids");
        rf_graph *g = graph();
        rf_tensor *r = rf__g_get_rows(g, tw, ti);
        rf__g_set_output(g, r);
        RF_CHECK(run(g));
        rf__tensor_download(r, out, nc * nid * 4, &e);
        dequant(t, w, nc * nr, deq);
        for (int i = 0; i < nid; i++)
            for (int j = 0; j < nc; j++) ref[i * nc + j] = deq[ids[i] * nc + j];
        CHECK_CLOSE(rf_type_get(t)->name, out, ref, nc * nid, 0);
        rf__graph_free(g);
        free(w);
        tested++;
    }
    RF_CHECK(tested >= 3);
    free(src); free(out); free(deq); free(ref);
}

/* ---- matmul ---- */

static void test_matmul(void) {
    const int64_t n_in = 512, n_out = 37;
    const int64_t toks[] = {1, 5, 70};
    float *wsrc = malloc(n_in * n_out * 4), *deq = malloc(n_in * n_out * 4);
    fill(wsrc, n_in * n_out, -1, 1);
    int tested = 0;
    rf_err e = {0};
    for (int t = 0; t < RF_TYPE_COUNT; t++) {
        void *w;
        if (!rf__cpu_dot_get(t) || !make_weights(t, wsrc, n_in, n_out, &w)) continue;
        dequant(t, w, n_in * n_out, deq);
        rf_tensor *tw = ext(t, n_in, n_out, 1, w, "w");
        for (size_t k = 0; k < RF_ARRAY_LEN(toks); k++) {
            int64_t nt = toks[k];
            float *x = malloc(n_in * nt * 4), *res = malloc(n_out * nt * 4), *out = malloc(n_out * nt * 4);
            double *ref = malloc(n_out * nt * 8);
            fill(x, n_in * nt, -1, 1);
            fill(res, n_out * nt, -5, 5);
            rf_tensor *tx = ext(RF_TYPE_F32, n_in, nt, 1, x, "x"), *tr = ext(RF_TYPE_F32, n_out, nt, 1, res, "res");
            for (int with_res = 0; with_res < 3; with_res++) {
                rf_graph *g = graph();
                rf_tensor *r;
                if (with_res == 2) { /* in place on a planned residual */
                    rf_tensor *acc = rf__g_scale(g, tr, 1.0f);
                    r = rf__g_matmul_add(g, tw, tx, acc);
                    RF_CHECK(r == acc);
                } else {
                    r = with_res ? rf__g_matmul_add(g, tw, tx, tr) : rf__g_matmul(g, tw, tx);
                }
                rf__g_set_output(g, r);
                RF_CHECK(run(g));
                rf__tensor_download(r, out, n_out * nt * 4, &e);
                for (int64_t i = 0; i < nt; i++)
                    for (int64_t o = 0; o < n_out; o++) {
                        double s = with_res ? res[i * n_out + o] : 0;
                        for (int64_t j = 0; j < n_in; j++) s += (double)deq[o * n_in + j] * x[i * n_in + j];
                        ref[i * n_out + o] = s;
                    }
                double err = nmse(out, ref, n_out * nt);
                double tol = (t == RF_TYPE_F32) ? 1e-10 : 5e-4;
                if (!(err < tol)) fprintf(stderr, "matmul %s x %lld tokens: nmse %g\n", rf_type_get(t)->name, (long long)nt, err);
                RF_CHECK(err < tol);
                rf__graph_free(g);
            }
            free(x); free(res); free(out); free(ref);
        }
        free(w);
        tested++;
    }
    fprintf(stderr, "matmul: %d weight types tested\n", tested);
    RF_CHECK(tested >= 3);

    /* matmul_id: 4 experts, 2 used per token, 3 tokens, shared and per-slot inputs */
    {
        const int64_t ne = 4, nu = 2, nt = 3, ni = 64, no = 19;
        float *w = malloc(ni * no * ne * 4), *x = malloc(ni * nu * nt * 4), *out = malloc(no * nu * nt * 4);
        double *ref = malloc(no * nu * nt * 8);
        fill(w, ni * no * ne, -1, 1);
        fill(x, ni * nu * nt, -1, 1);
        int32_t ids[6] = {2, 0, 3, 3, 1, 2};
        rf_tensor *tw = ext(RF_TYPE_F32, ni, no, ne, w, "experts"), *ti = ext(RF_TYPE_I32, nu, nt, 1, ids, "ids");
        for (int shared = 0; shared < 2; shared++) {
            rf_tensor *tx = ext(RF_TYPE_F32, ni, shared ? 1 : nu, nt, x, "x");
            rf_graph *g = graph();
            rf_tensor *r = rf__g_matmul_id(g, tw, tx, ti);
            rf__g_set_output(g, r);
            RF_CHECK(run(g));
            rf__tensor_download(r, out, no * nu * nt * 4, &e);
            for (int t = 0; t < nt; t++)
                for (int u = 0; u < nu; u++)
                    for (int o = 0; o < no; o++) {
                        const float *xr = x + (shared ? t : t * nu + u) * ni;
                        const float *wr = w + (ids[t * nu + u] * no + o) * ni;
                        double s = 0;
                        for (int j = 0; j < ni; j++) s += (double)wr[j] * xr[j];
                        ref[(t * nu + u) * no + o] = s;
                    }
            RF_CHECK(nmse(out, ref, no * nu * nt) < 1e-10);
            rf__graph_free(g);
        }
        free(w); free(x); free(out); free(ref);
    }
    free(wsrc); free(deq);
}

/* ---- rope ---- */

static double ramp_ref(double low, double high, int i0) {
    double y = ((i0 / 2) - low) / fmax(0.001, high - low);
    return 1 - fmin(1, fmax(0, y));
}

static void test_rope(void) {
    const int hd = 64, nh = 3, nt = 5;
    const int32_t pos[5] = {0, 1, 17, 300, 999};
    float *x = malloc(hd * nh * nt * 4), *out = malloc(hd * nh * nt * 4), ff[32];
    double *ref = malloc(hd * nh * nt * 8);
    fill(x, hd * nh * nt, -2, 2);
    fill(ff, 32, 1, 8);
    rf_tensor *tx = ext(RF_TYPE_F32, hd, nh, nt, x, "x"), *tp = ext(RF_TYPE_I32, nt, 1, 1, pos, "pos");
    rf_tensor *tf = ext(RF_TYPE_F32, 32, 1, 1, ff, "ff");
    rf_err e = {0};
    struct { int mode, n_dims; float scale, ext; bool ff; } cases[] = {
        {RF_ROPE_NORMAL, 64, 1, 0, false}, {RF_ROPE_NEOX, 64, 1, 0, false},
        {RF_ROPE_NORMAL, 32, 1, 0, false}, {RF_ROPE_NEOX, 48, 1, 0, false},
        {RF_ROPE_NORMAL, 64, 0.25f, 0, false}, {RF_ROPE_NEOX, 64, 1, 0, true},
        {RF_ROPE_NORMAL, 64, 0.25f, 1, false}, {RF_ROPE_NEOX, 64, 0.125f, 1, true},
    };
    for (size_t c = 0; c < RF_ARRAY_LEN(cases); c++) {
        rf_rope_params p = {.n_dims = cases[c].n_dims, .mode = cases[c].mode, .n_ctx_orig = 4096,
                            .freq_base = 10000.0f, .freq_scale = cases[c].scale,
                            .ext_factor = cases[c].ext, .attn_factor = 1.0f,
                            .beta_fast = 32.0f, .beta_slow = 1.0f};
        rf_graph *g = graph();
        rf_tensor *r = rf__g_rope(g, tx, tp, cases[c].ff ? tf : NULL, &p);
        rf__g_set_output(g, r);
        RF_CHECK(run(g));
        rf__tensor_download(r, out, hd * nh * nt * 4, &e);
        float corr[2];
        rf__rope_corr_dims(p.n_dims, p.n_ctx_orig, p.freq_base, p.beta_fast, p.beta_slow, corr);
        int nd = p.n_dims;
        for (int t = 0; t < nt; t++)
            for (int h = 0; h < nh; h++) {
                const float *s = x + (t * nh + h) * hd;
                double *o = ref + (t * nh + h) * hd;
                for (int i = nd; i < hd; i++) o[i] = s[i];
                for (int i0 = 0; i0 < nd; i0 += 2) {
                    double th_e = pos[t] * pow(p.freq_base, -(double)i0 / nd) / (cases[c].ff ? ff[i0 / 2] : 1.0);
                    double th_i = p.freq_scale * th_e, th = th_i, ms = 1.0;
                    if (p.ext_factor != 0) {
                        double mix = ramp_ref(corr[0], corr[1], i0) * p.ext_factor;
                        th = th_i * (1 - mix) + th_e * mix;
                        ms *= 1 + 0.1 * log(1.0 / p.freq_scale);
                    }
                    int a = p.mode == RF_ROPE_NEOX ? i0 / 2 : i0, b = p.mode == RF_ROPE_NEOX ? i0 / 2 + nd / 2 : i0 + 1;
                    o[a] = (s[a] * cos(th) - s[b] * sin(th)) * ms;
                    o[b] = (s[a] * sin(th) + s[b] * cos(th)) * ms;
                }
            }
        char name[32];
        snprintf(name, sizeof name, "rope case %zu", c);
        CHECK_CLOSE(name, out, ref, hd * nh * nt, 2e-3);
        rf__graph_free(g);
    }
    free(x); free(out); free(ref);
}

/* ---- kv store + attention ---- */

/* nt tokens at positions first..first+nt-1 (one token takes llama.cpp's
 * single-token summation order, several its batched order) */
static void test_attention(int nt, int32_t first) {
    const int hk = 64, hv = 48, nh = 8, nkv = 2, n_ctx = 40;
    int32_t pos[4];
    for (int i = 0; i < nt; i++) pos[i] = first + i;
    float *q = malloc(hk * nh * nt * 4), *k = malloc(hk * nkv * n_ctx * 4), *v = malloc(hv * nkv * n_ctx * 4);
    float *knew = malloc(hk * nkv * nt * 4), *vnew = malloc(hv * nkv * nt * 4);
    float *out = malloc(hv * nh * nt * 4);
    double *ref = malloc(hv * nh * nt * 8);
    rf_err e = {0};
    fill(q, hk * nh * nt, -1, 1); fill(k, hk * nkv * n_ctx, -1, 1); fill(v, hv * nkv * n_ctx, -1, 1);
    fill(knew, hk * nkv * nt, -1, 1); fill(vnew, hv * nkv * nt, -1, 1);
    for (int f16 = 0; f16 < 2; f16++) {
        rf_type ct = f16 ? RF_TYPE_F16 : RF_TYPE_F32;
        struct { int window; float softcap; bool sinks; } cases[] = {
            {0, 0, false}, {7, 0, false}, {0, 5.0f, false}, {3, 2.0f, false}, {5, 0, true}};
        float sink[8];
        for (int h = 0; h < nh; h++) sink[h] = -2.0f + 0.6f * (float)h; /* below and above the scores */
        for (size_t c = 0; c < RF_ARRAY_LEN(cases); c++) {
            /* the cache starts with random rows; the graph stores rows 20..23 */
            void *kc0 = malloc(hk * nkv * n_ctx * 4), *vc0 = malloc(hv * nkv * n_ctx * 4);
            for (int i = 0; i < hk * nkv * n_ctx; i++)
                if (f16) ((uint16_t *)kc0)[i] = rf__fp32_to_fp16(k[i]); else ((float *)kc0)[i] = k[i];
            for (int i = 0; i < hv * nkv * n_ctx; i++)
                if (f16) ((uint16_t *)vc0)[i] = rf__fp32_to_fp16(v[i]); else ((float *)vc0)[i] = v[i];
            rf_tensor *kc = ext(ct, hk * nkv, n_ctx, 1, kc0, "k_cache"), *vc = ext(ct, hv * nkv, n_ctx, 1, vc0, "v_cache");
            rf_tensor *tq = ext(RF_TYPE_F32, hk, nh, nt, q, "q"), *tp = ext(RF_TYPE_I32, nt, 1, 1, pos, "pos");
            rf_tensor *tk = ext(RF_TYPE_F32, hk * nkv, nt, 1, knew, "k"), *tv = ext(RF_TYPE_F32, hv * nkv, nt, 1, vnew, "v");
            rf_attn_params p = {.n_head = nh, .n_head_kv = nkv, .head_dim_k = hk, .head_dim_v = hv,
                                .window = cases[c].window, .scale = 0.125f, .softcap = cases[c].softcap};
            rf_graph *g = graph();
            rf__g_kv_store(g, kc, tk, tp);
            rf__g_kv_store(g, vc, tv, tp);
            rf_tensor *ts = cases[c].sinks ? ext(RF_TYPE_F32, nh, 1, 1, sink, "sinks") : NULL;
            rf_tensor *r = rf__g_attention_sinks(g, tq, kc, vc, tp, ts, &p);
            rf__g_set_output(g, r);
            RF_CHECK(run(g));
            rf__tensor_download(r, out, hv * nh * nt * 4, &e);
            /* reference over the cache as the store leaves it */
            for (int t = 0; t < nt; t++)
                for (int h = 0; h < nh; h++) {
                    int kvh = h / (nh / nkv), lo = cases[c].window ? pos[t] - cases[c].window + 1 : 0;
                    if (lo < 0) lo = 0;
                    double sc[64], mx = -INFINITY, sum = 0;
                    for (int j = lo; j <= pos[t]; j++) {
                        double s = 0;
                        for (int i = 0; i < hk; i++) {
                            float kv = j >= pos[0] ? knew[(j - pos[0]) * hk * nkv + kvh * hk + i] : k[j * hk * nkv + kvh * hk + i];
                            float qv = q[(t * nh + h) * hk + i];
                            if (f16) { /* an f16 cache sees q rounded to f16 (as llama.cpp) */
                                kv = rf__fp16_to_fp32(rf__fp32_to_fp16(kv));
                                qv = rf__fp16_to_fp32(rf__fp32_to_fp16(qv));
                            }
                            s += (double)qv * kv;
                        }
                        if (cases[c].softcap > 0) s = cases[c].softcap * tanh(s / cases[c].softcap);
                        s *= 0.125;
                        sc[j - lo] = s;
                        mx = fmax(mx, s);
                    }
                    if (cases[c].sinks) mx = fmax(mx, sink[h]);
                    for (int j = lo; j <= pos[t]; j++) sum += exp(sc[j - lo] - mx);
                    if (cases[c].sinks) sum += exp(sink[h] - mx);
                    for (int i = 0; i < hv; i++) {
                        double acc = 0;
                        for (int j = lo; j <= pos[t]; j++) {
                            float vv = j >= pos[0] ? vnew[(j - pos[0]) * hv * nkv + kvh * hv + i] : v[j * hv * nkv + kvh * hv + i];
                            if (f16) vv = rf__fp16_to_fp32(rf__fp32_to_fp16(vv));
                            double w = exp(sc[j - lo] - mx) / sum;
                            if (f16) w = rf__fp16_to_fp32(rf__fp32_to_fp16((float)w)); /* weights too */
                            acc += w * vv;
                        }
                        ref[(t * nh + h) * hv + i] = acc;
                    }
                }
            char name[48];
            snprintf(name, sizeof name, "attention %s case %zu", f16 ? "f16" : "f32", c);
            /* f16: a weight near an f16 rounding boundary may round the other way */
            CHECK_CLOSE(name, out, ref, hv * nh * nt, f16 ? 1e-4 : 1e-5);
            /* the stored rows */
            void *kback = malloc(hk * nkv * n_ctx * 4);
            rf__tensor_download(kc, kback, rf__tensor_nbytes(kc), &e);
            bool same = true;
            for (int t = 0; t < nt; t++)
                for (int i = 0; i < hk * nkv; i++) {
                    float want = knew[t * hk * nkv + i];
                    float got = f16 ? rf__fp16_to_fp32(((uint16_t *)kback)[(pos[t]) * hk * nkv + i])
                                    : ((float *)kback)[(pos[t]) * hk * nkv + i];
                    if (f16) want = rf__fp16_to_fp32(rf__fp32_to_fp16(want));
                    same &= got == want;
                }
            RF_CHECK(same);
            free(kback);
            rf__graph_free(g);
            free(kc0); free(vc0);
        }
    }
    free(q); free(k); free(v); free(knew); free(vnew); free(out); free(ref);
}

/* ---- planner: a long chain reuses memory and stays correct ---- */

static void test_planner(void) {
    const int64_t nc = 1024;
    float *a = malloc(nc * 4), *out = malloc(nc * 4);
    double *ref = malloc(nc * 8);
    fill(a, nc, -1, 1);
    rf_tensor *ta = ext(RF_TYPE_F32, nc, 1, 1, a, "a");
    rf_graph *g = graph();
    rf_tensor *x = ta;
    for (int i = 0; i < 50; i++) x = rf__g_add(g, rf__g_scale(g, x, 0.5f), ta);
    rf__g_set_output(g, x);
    RF_CHECK(run(g));
    RF_CHECK(g->act_size <= 4 * nc * 4); /* 100 tensors of 4 KiB fit in a few */
    rf_err e = {0};
    rf__tensor_download(x, out, nc * 4, &e);
    for (int64_t i = 0; i < nc; i++) {
        double r = a[i];
        for (int k = 0; k < 50; k++) r = r * 0.5 + a[i];
        ref[i] = r;
    }
    CHECK_CLOSE("planner chain", out, ref, nc, 1e-5);
    rf__graph_free(g);

    /* shape errors are latched and reported */
    g = graph();
    rf_tensor *bad = ext(RF_TYPE_F32, nc + 1, 1, 1, NULL, "bad");
    RF_CHECK(rf__g_add(g, ta, bad) == NULL);
    RF_CHECK(rf__g_scale(g, NULL, 1.0f) == NULL);
    rf_err err = {0};
    RF_CHECK(rf__graph_alloc(g, &err) != RF_OK && strstr(err.msg, "bad") != NULL);
    rf__graph_free(g);
    free(a); free(out); free(ref);
}

/* ---- vector helpers: every variant against the scalar one ---- */

static void test_vec(void) {
    const rf_cpu_vec *sc = rf__cpu_vec_scalar(), *vs[] = {rf__cpu_vec_avx2()};
    const int64_t n = 203;
    float a[203], b[203], y0[203], y1[203], c0[203], c1[203];
    uint16_t h[203], h0[203], h1[203];
    fill(a, n, -1, 1); fill(b, n, -1, 1);
    for (int64_t i = 0; i < n; i++) h[i] = rf__fp32_to_fp16(a[i]);
    for (size_t k = 0; k < RF_ARRAY_LEN(vs); k++) {
        const rf_cpu_vec *v = vs[k];
        if (!v) continue;
        RF_CHECK(fabsf(v->dot_f32(n, a, b) - sc->dot_f32(n, a, b)) < 1e-4f);
        RF_CHECK(fabsf(v->dot_f16(n, h, b) - sc->dot_f16(n, h, b)) < 1e-4f);
        memcpy(y0, b, sizeof y0); memcpy(y1, b, sizeof y1);
        sc->axpy_f32(n, 0.3f, a, y0); v->axpy_f32(n, 0.3f, a, y1);
        for (int64_t i = 0; i < n; i++) RF_CHECK(fabsf(y0[i] - y1[i]) < 1e-6f);
        sc->axpy_f16(n, -0.7f, h, y0); v->axpy_f16(n, -0.7f, h, y1);
        for (int64_t i = 0; i < n; i++) RF_CHECK(fabsf(y0[i] - y1[i]) < 1e-6f);
        sc->f16_to_f32(n, h, c0); v->f16_to_f32(n, h, c1);
        RF_CHECK(memcmp(c0, c1, sizeof c0) == 0);
        sc->f32_to_f16(n, a, h0); v->f32_to_f16(n, a, h1);
        RF_CHECK(memcmp(h0, h1, sizeof h0) == 0);
        /* attention products: identical bits to the scalar versions */
        for (int64_t m = 16; m <= 192; m += 16) {
            float ka = sc->kq_batch(m, h, true, b), kb = v->kq_batch(m, h, true, b);
            float kc = sc->kq_batch(m, a, false, b), kd = v->kq_batch(m, a, false, b);
            RF_CHECK(memcmp(&ka, &kb, 4) == 0 && memcmp(&kc, &kd, 4) == 0);
            ka = sc->kq_single(m + 3, h, true, b), kb = v->kq_single(m + 3, h, true, b);
            kc = sc->kq_single(m + 3, a, false, b), kd = v->kq_single(m + 3, a, false, b);
            RF_CHECK(memcmp(&ka, &kb, 4) == 0 && memcmp(&kc, &kd, 4) == 0);
            RF_CHECK(fabsf(ka - sc->dot_f16(m + 3, h, b)) < 1e-4f);
        }
        fprintf(stderr, "vec %s checked\n", v->impl);
    }
}

/* ---- block exp: every implementation gives the scalar reference's bits ---- */

static void test_vexp(void) {
    rf_vexp16_fn impls[] = {rf__vexp16_scalar(), rf__vexp16_avx2(), rf__vexp16_avx512()};
    const char *names[] = {"scalar", "avx2", "avx512"};
    float x[16], y[16];
    int tested = 0;
    double max_rel = 0;
    for (int rep = 0; rep < 20000; rep++) {
        for (int i = 0; i < 16; i++) x[i] = rep < 10000 ? frand(-20, 20) : frand(-110, 95);
        if (rep == 0) { /* edges: saturation, infinities, zero, denormal results */
            const float e[16] = {0.0f, -0.0f, 88.7f, 89.0f, -87.3f, -100.0f, -103.9f, -104.5f,
                                 INFINITY, -INFINITY, 200.0f, -200.0f, 1e-30f, -1e-30f, 0.5f, -0.5f};
            memcpy(x, e, sizeof x);
        }
        float ref[16];
        for (int i = 0; i < 16; i++) ref[i] = rf__vexpf_ref(x[i]);
        for (size_t k = 0; k < 3; k++) {
            if (!impls[k]) continue;
            impls[k](x, y);
            bool same = memcmp(y, ref, sizeof y) == 0;
            if (!same) fprintf(stderr, "vexp %s differs from the scalar reference (rep %d)\n", names[k], rep);
            RF_CHECK(same);
            if (rep == 0) tested++;
        }
        for (int i = 0; i < 16; i++)
            if (isfinite(x[i]) && x[i] > -80 && x[i] < 80) max_rel = fmax(max_rel, fabs(ref[i] / exp(x[i]) - 1));
    }
    RF_CHECK(tested >= 2 || !rf__vexp16_avx2());
    RF_CHECK(max_rel < 4e-7); /* about 1.5 ulp */
    RF_CHECK(rf__vexpf_ref(-INFINITY) == 0.0f && rf__vexpf_ref(INFINITY) == INFINITY && rf__vexpf_ref(0.0f) == 1.0f);
    RF_CHECK(isnan(rf__vexpf_ref(NAN)));
    fprintf(stderr, "vexp: %d implementations agree, max relative error %.3g\n", tested, max_rel);
}

/* ---- position-dependent query scale ---- */

static void test_attn_temp(void) {
    int32_t pos[37];
    float out[37];
    rf_err e = {0};
    for (int i = 0; i < 37; i++) pos[i] = i * 5 + (i % 3); /* crosses several floors of 16 */
    rf_tensor *tp = ext(RF_TYPE_I32, 37, 1, 1, pos, "pos");
    rf_graph *g = graph();
    rf_tensor *r = rf__g_attn_temp(g, tp, 0.1f, 16.0f);
    rf__g_set_output(g, r);
    RF_CHECK(run(g) && r->ne[0] == 1 && r->ne[1] == 37);
    rf__tensor_download(r, out, sizeof out, &e);
    double ref[37];
    for (int i = 0; i < 37; i++) ref[i] = 1.0 + 0.1 * log((double)(pos[i] / 16) + 1.0);
    CHECK_CLOSE("attn_temp", out, ref, 37, 1e-6);
    RF_CHECK(out[0] == 1.0f && out[36] > 1.2f); /* 1 before the first floor, 1 + 0.1 log 12 at 180 */
    rf__graph_free(g);
}

int main(void) {
    test_vec();
    test_vexp();
    const int threads[] = {1, 3};
    size_t live = rf__alloc_live_blocks();
    for (size_t i = 0; i < RF_ARRAY_LEN(threads); i++) {
        rf_err e = {0};
        if (rf__cpu_backend_create(threads[i], &be, &e) != RF_OK) {
            fprintf(stderr, "backend: %s\n", e.msg);
            return 1;
        }
        fprintf(stderr, "== %d thread(s), vector helpers: %s\n", threads[i], rf__cpu_vec()->impl);
        test_rowwise(); free_bufs();
        test_get_rows(); free_bufs();
        test_matmul(); free_bufs();
        test_rope(); free_bufs();
        test_attention(4, 20); free_bufs();
        test_attention(1, 37); free_bufs();
        test_planner(); free_bufs();
        test_attn_temp(); free_bufs();
        rf__backend_free(be);
    }
    RF_CHECK(rf__alloc_live_blocks() == live);
    return rf_test_finish("test_cpu_ops");
}
