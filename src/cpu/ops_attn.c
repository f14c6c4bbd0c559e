/*
 * ops_attn.c - rotary embedding, KV-cache store and attention on the CPU.
 *
 * RoPE reproduces ggml's float arithmetic (angles advanced by repeated
 * multiplication with base^(-2/n_dims), YaRN ramp and magnitude correction),
 * so positions agree with llama.cpp to the last bit where possible.
 *
 * Attention reads the KV cache (f16 or f32 rows, one row per position, all KV
 * heads side by side). Work units are (token, head) pairs handed out by an
 * atomic counter; each computes the scores over the rows the token may see,
 * a numerically safe softmax in f32 and the weighted sum of V rows.
 */
#include <math.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/vexp.h"

/* ---- rope ---- */

static float yarn_ramp(float low, float high, int i0) {
    float y = (i0 / 2 - low) / fmaxf(0.001f, high - low);
    return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

/* cos/sin pairs for one position over n_dims dims (ggml_rope_cache_init).
 * Sums of products are written as the FMAs GCC contracts them into when it
 * compiles ggml (the first product fused, the second rounded), so angles and
 * rotations agree bit for bit. */
static void rope_cache(const rf_rope_params *p, float pos, const float *ff, const float corr[2],
                       float *cache) {
    float theta_scale = powf(p->freq_base, -2.0f / p->n_dims);
    float theta = pos;
    for (int i0 = 0; i0 < p->n_dims; i0 += 2) {
        float extrap = theta / (ff ? ff[i0 / 2] : 1.0f);
        float interp = p->freq_scale * extrap;
        float th = interp, mscale = p->attn_factor;
        if (p->ext_factor != 0.0f) {
            float mix = yarn_ramp(corr[0], corr[1], i0) * p->ext_factor;
            th = fmaf(interp, 1 - mix, extrap * mix);
            mscale *= fmaf(0.1f, logf(1.0f / p->freq_scale), 1.0f);
        }
        cache[i0] = cosf(th) * mscale;
        cache[i0 + 1] = sinf(th) * mscale;
        theta *= theta_scale;
    }
}

void rf__cpu_op_rope(rf_backend *be, const rf_node *n, void *v) {
    rf_cpu_exec *ex = v;
    const rf_tensor *x = n->src[0], *pos = n->src[1], *ffs = n->src[2], *d = n->dst;
    const rf_rope_params *p = &n->p.rope;
    const int32_t *pv = rf__tensor_data(pos);
    const float *ff = ffs ? rf__tensor_data(ffs) : NULL;
    float corr[2];
    rf__rope_corr_dims(p->n_dims, p->n_ctx_orig, p->freq_base, p->beta_fast, p->beta_slow, corr);
    float *cache = (float *)ex->local;
    const int64_t hd = x->ne[0], n_head = x->ne[1], nd = p->n_dims;
    int64_t r0, r1, cur_t = -1;
    rf__cpu_split(n_head * x->ne[2], ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t t = r / n_head;
        if (t != cur_t) {
            rope_cache(p, (float)pv[t], ff, corr, cache);
            cur_t = t;
        }
        const float *s = (const float *)rf__cpu_row(x, r);
        float *o = (float *)rf__cpu_row(d, r);
        if (p->mode == RF_ROPE_NEOX) {
            for (int64_t i0 = 0; i0 < nd; i0 += 2) {
                int64_t ic = i0 / 2;
                float c = cache[i0], sn = cache[i0 + 1];
                float x0 = s[ic], x1 = s[ic + nd / 2];
                o[ic] = fmaf(x0, c, -(x1 * sn));
                o[ic + nd / 2] = fmaf(x0, sn, x1 * c);
            }
        } else {
            for (int64_t i0 = 0; i0 < nd; i0 += 2) {
                float c = cache[i0], sn = cache[i0 + 1];
                float x0 = s[i0], x1 = s[i0 + 1];
                o[i0] = fmaf(x0, c, -(x1 * sn));
                o[i0 + 1] = fmaf(x0, sn, x1 * c);
            }
        }
        for (int64_t i = nd; i < hd; i++) o[i] = s[i];
    }
}

/* ---- kv store ---- */

void rf__cpu_op_kv_store(rf_backend *be, const rf_node *n, void *v) {
    rf_cpu_exec *ex = v;
    const rf_tensor *x = n->src[0], *pos = n->src[1], *c = n->dst;
    const int32_t *pv = rf__tensor_data(pos);
    const float *xs = rf__tensor_data(x);
    const int64_t row = c->ne[0];
    int64_t r0, r1;
    rf__cpu_split(pos->ne[0], ex->ith, ex->nth, &r0, &r1);
    for (int64_t t = r0; t < r1; t++) {
        int32_t p = pv[t];
        if (p < 0 || p >= c->ne[1]) continue; /* the engine checks positions first */
        char *dst = (char *)rf__tensor_data(c) + (size_t)p * c->nb[1];
        if (c->type == RF_TYPE_F16)
            rf__cpu_vec()->f32_to_f16(row, xs + t * row, (uint16_t *)dst);
        else
            memcpy(dst, xs + t * row, (size_t)row * sizeof(float));
    }
}

/* ---- attention ----
 *
 * The arithmetic follows llama.cpp's CPU path without flash attention, so
 * results agree bit for bit (verified against llama.cpp's own tensors). Its
 * two matrix products (q.K and p.V) run through tinyBLAS when a batch has
 * several tokens and through ggml_vec_dot_f16 for a single token; the two
 * sum in different orders, and so do we:
 *   scores  s_j = q . k_j with q rounded to f16 when the cache is f16.
 *           Batch: 16 lanes, lane l summing dims l, l+16, ... in turn.
 *           One token: 4 x 16 lanes per 64 dims (dim i to accumulator
 *           (i % 64) / 16, lane i % 16), accumulators combined as
 *           (a0 + a2) + (a1 + a3). Lanes are then added in the order of
 *           _mm512_reduce_add_ps.
 *   softcap s = c * tanh(s * (1/c)), then s *= scale
 *   softmax e_j = exp(s_j - max) with the block exp of vexp.h over blocks of
 *           16 cache rows aligned to row 0 (rows a token may not see count as
 *           exp(-inf) = 0); sum in double of each block's float sum;
 *           p_j = e_j * (float)(1 / sum), rounded to f16 for an f16 cache
 *   output  o = sum_j p_j v_j, cache row j going to lane j % 16 (batch) or
 *           to accumulator (j % 64) / 16, lane j % 16 (one token), combined
 *           as above.
 * With an f16 cache every product is exact in f32, so FMA or multiply-add
 * give the same bits; with an f32 cache the products are fused (FMA).
 */

void rf__cpu_attention_work_size(const rf_node *n, size_t *shared, size_t *per_thread) {
    const rf_tensor *kc = n->src[1];
    *shared = 0;
    /* scores, 64 output lanes, q (+ its f16 copy) and 256 f16 weights */
    *per_thread = ((size_t)kc->ne[1] + 16 + 64 * (size_t)n->p.attn.head_dim_v +
                   2 * (size_t)n->p.attn.head_dim_k + 128) * sizeof(float);
}

/* q . k in the orders described above (vector helpers, cpu.h). */
static inline float score(const rf_cpu_vec *vec, const void *kr, bool f16, const float *q, int64_t hk,
                          bool single) {
    if (single) return vec->kq_single(hk, kr, f16, q);
    if (hk % 16 == 0) return vec->kq_batch(hk, kr, f16, q);
    float s = 0.0f; /* not a shape llama.cpp's batched path takes */
    for (int64_t i = 0; i < hk; i++)
        s = fmaf(f16 ? rf__fp16_to_fp32(((const uint16_t *)kr)[i]) : ((const float *)kr)[i], q[i], s);
    return s;
}

void rf__cpu_op_attention(rf_backend *be, const rf_node *n, void *v) {
    rf_cpu_exec *ex = v;
    const rf_tensor *q = n->src[0], *kc = n->src[1], *vc = n->src[2], *pos = n->src[3];
    const rf_tensor *d = n->dst;
    const rf_attn_params *p = &n->p.attn;
    const float *sinks = n->src[4] ? (const float *)rf__tensor_data(n->src[4]) : NULL;
    const rf_cpu_vec *vec = rf__cpu_vec();
    const int32_t *pv = rf__tensor_data(pos);
    const int64_t n_ctx = kc->ne[1], n_tok = q->ne[2];
    const int64_t hk = p->head_dim_k, hv = p->head_dim_v, grp = p->n_head / p->n_head_kv;
    const bool f16 = kc->type == RF_TYPE_F16;
    const size_t esz = f16 ? 2 : 4;
    const char *kd = rf__tensor_data(kc), *vd = rf__tensor_data(vc);
    float *sc = (float *)ex->local;            /* n_ctx + 16 scores / weights */
    float *lanes = sc + n_ctx + 16;            /* 16 or 64 x hv output lanes */
    float *qh = lanes + 64 * hv;               /* hk: q as the scores see it */
    const bool single = n_tok == 1;            /* llama.cpp's one-token order */
    const int n_lanes = single ? 64 : 16;
    const float inv_cap = p->softcap > 0.0f ? 1.0f / p->softcap : 0.0f;
    const rf_vexp16_fn vexp = rf__vexp16();
    const int64_t n_jobs = n_tok * p->n_head;
    int64_t job;
    while ((job = atomic_fetch_add(ex->counter, 1)) < n_jobs) {
        int64_t t = job / p->n_head, h = job % p->n_head, kvh = h / grp;
        const float *qr = (const float *)((const char *)rf__tensor_data(q) + t * q->nb[2] +
                                          h * q->nb[1]);
        float *o = (float *)rf__cpu_row(d, t) + h * hv;
        int64_t hi = pv[t], lo = 0;
        if (hi >= n_ctx) hi = n_ctx - 1;
        if (p->window > 0 && hi - p->window + 1 > lo) lo = hi - p->window + 1;
        if (hi < lo) { /* nothing visible: only for invalid positions */
            memset(o, 0, (size_t)hv * sizeof *o);
            continue;
        }
        if (f16) { /* q as llama.cpp hands it to an f16 cache: rounded to f16 */
            vec->f32_to_f16(hk, qr, (uint16_t *)(qh + hk));
            vec->f16_to_f32(hk, (const uint16_t *)(qh + hk), qh);
        } else {
            memcpy(qh, qr, (size_t)hk * sizeof *qh);
        }
        const int64_t c0 = lo & ~(int64_t)15, c1 = (hi | 15) + 1; /* whole blocks of 16 rows */
        float mx = -INFINITY;
        for (int64_t j = c0; j < c1; j++) {
            if (j < lo || j > hi) {
                sc[j - c0] = -INFINITY;
                continue;
            }
            float s = score(vec, kd + (size_t)j * kc->nb[1] + (size_t)kvh * hk * esz, f16, qh, hk, single);
            if (p->softcap > 0.0f) s = p->softcap * tanhf(s * inv_cap);
            s *= p->scale;
            sc[j - c0] = s;
            mx = fmaxf(mx, s);
        }
        if (sinks) mx = fmaxf(mx, sinks[h]); /* the sink joins the normalisation (ggml) */
        double sum = 0.0;
        for (int64_t j = c0; j < c1; j += 16) {
            float dd[16];
            for (int k = 0; k < 16; k++) dd[k] = sc[j - c0 + k] - mx;
            vexp(dd, &sc[j - c0]);
            sum += (double)rf__reduce16(&sc[j - c0]);
        }
        if (sinks) sum += (double)expf(sinks[h] - mx);
        const float inv = (float)(1.0 / sum);
        float *w = sc + (lo - c0);
        const int64_t nw = hi - lo + 1;
        for (int64_t j = 0; j < nw; j++) w[j] *= inv;
        if (f16) { /* the weights too, in place through a half-size copy */
            uint16_t *wh = (uint16_t *)(qh + 2 * hk);
            for (int64_t j = 0; j < nw; j += 256) {
                int64_t m = RF_MIN(256, nw - j);
                vec->f32_to_f16(m, w + j, wh);
                vec->f16_to_f32(m, wh, w + j);
            }
        }
        memset(lanes, 0, (size_t)n_lanes * (size_t)hv * sizeof *lanes);
        for (int64_t j = lo; j <= hi; j++) {
            float wj = w[j - lo];
            const char *vr = vd + (size_t)j * vc->nb[1] + (size_t)kvh * hv * esz;
            float *lane = lanes + (size_t)(j & (n_lanes - 1)) * hv;
            if (f16)
                vec->axpy_f16(hv, wj, (const uint16_t *)vr, lane);
            else
                vec->axpy_f32(hv, wj, (const float *)vr, lane);
        }
        for (int64_t i = 0; i < hv; i++) {
            float l16[16];
            for (int k = 0; k < 16; k++) {
                const float *a = lanes + (size_t)k * hv + i;
                l16[k] = single ? (a[0] + a[32 * hv]) + (a[16 * hv] + a[48 * hv]) : a[0];
            }
            o[i] = rf__reduce16(l16);
        }
    }
}
