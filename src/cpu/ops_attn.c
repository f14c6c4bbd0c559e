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

/* ---- rope ---- */

static float yarn_ramp(float low, float high, int i0) {
    float y = (i0 / 2 - low) / fmaxf(0.001f, high - low);
    return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

/* cos/sin pairs for one position over n_dims dims (ggml_rope_cache_init). */
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
            th = interp * (1 - mix) + extrap * mix;
            mscale *= 1.0f + 0.1f * logf(1.0f / p->freq_scale);
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
                o[ic] = x0 * c - x1 * sn;
                o[ic + nd / 2] = x0 * sn + x1 * c;
            }
        } else {
            for (int64_t i0 = 0; i0 < nd; i0 += 2) {
                float c = cache[i0], sn = cache[i0 + 1];
                float x0 = s[i0], x1 = s[i0 + 1];
                o[i0] = x0 * c - x1 * sn;
                o[i0 + 1] = x0 * sn + x1 * c;
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

/* ---- attention ---- */

void rf__cpu_attention_work_size(const rf_node *n, size_t *shared, size_t *per_thread) {
    const rf_tensor *kc = n->src[1];
    *shared = 0;
    *per_thread = ((size_t)kc->ne[1] + (size_t)n->p.attn.head_dim_v) * sizeof(float);
}

void rf__cpu_op_attention(rf_backend *be, const rf_node *n, void *v) {
    rf_cpu_exec *ex = v;
    const rf_tensor *q = n->src[0], *kc = n->src[1], *vc = n->src[2], *pos = n->src[3];
    const rf_tensor *d = n->dst;
    const rf_attn_params *p = &n->p.attn;
    const rf_cpu_vec *vec = rf__cpu_vec();
    const int32_t *pv = rf__tensor_data(pos);
    const int64_t n_ctx = kc->ne[1], n_tok = q->ne[2];
    const int64_t hk = p->head_dim_k, hv = p->head_dim_v, grp = p->n_head / p->n_head_kv;
    const bool f16 = kc->type == RF_TYPE_F16;
    const size_t esz = f16 ? 2 : 4;
    const char *kd = rf__tensor_data(kc), *vd = rf__tensor_data(vc);
    float *sc = (float *)ex->local, *acc = sc + n_ctx;
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
        float mx = -INFINITY;
        for (int64_t j = lo; j <= hi; j++) {
            const char *kr = kd + (size_t)j * kc->nb[1] + (size_t)kvh * hk * esz;
            float s = f16 ? vec->dot_f16(hk, (const uint16_t *)kr, qr)
                          : vec->dot_f32(hk, (const float *)kr, qr);
            if (p->softcap > 0.0f) s = p->softcap * tanhf(s / p->softcap);
            s *= p->scale;
            sc[j - lo] = s;
            mx = fmaxf(mx, s);
        }
        float sum = 0.0f;
        memset(acc, 0, (size_t)hv * sizeof *acc);
        for (int64_t j = lo; j <= hi; j++) {
            float w = expf(sc[j - lo] - mx);
            sum += w;
            const char *vr = vd + (size_t)j * vc->nb[1] + (size_t)kvh * hv * esz;
            if (f16)
                vec->axpy_f16(hv, w, (const uint16_t *)vr, acc);
            else
                vec->axpy_f32(hv, w, (const float *)vr, acc);
        }
        float inv = 1.0f / sum;
        for (int64_t i = 0; i < hv; i++) o[i] = acc[i] * inv;
    }
}
