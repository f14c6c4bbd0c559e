/*
 * ops.c - CPU reference implementations of the row-wise ops: embedding
 * lookup, norms, element-wise arithmetic, gated activations, softmax,
 * argmax/top-k, gather and copy. Rows are split between threads.
 * Numerics follow ggml where it matters for agreement (norm sums in double).
 */
#include <math.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/vexp.h"

#define EX(v) rf_cpu_exec *ex = (rf_cpu_exec *)(v)

void rf__cpu_op_get_rows(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *tab = n->src[0], *ids = n->src[1], *d = n->dst;
    const rf_type_traits *tr = rf_type_get(tab->type);
    const int32_t *id = rf__tensor_data(ids);
    int64_t r0, r1, ncol = tab->ne[0];
    rf__cpu_split(ids->ne[0], ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        float *y = (float *)rf__cpu_row(d, r);
        int32_t i = id[r];
        if (i < 0 || i >= tab->ne[1]) { /* the engine validates ids; never read out of bounds */
            memset(y, 0, (size_t)ncol * sizeof *y);
            continue;
        }
        const char *x = (const char *)rf__tensor_data(tab) + (size_t)i * tab->nb[1];
        if (tab->type == RF_TYPE_F32)
            memcpy(y, x, (size_t)ncol * sizeof *y);
        else if (tab->type == RF_TYPE_F16)
            rf__cpu_vec()->f16_to_f32(ncol, (const uint16_t *)x, y);
        else
            tr->to_f32(x, y, ncol);
    }
}

void rf__cpu_op_rms_norm(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *x = n->src[0], *w = n->src[1], *d = n->dst;
    const float *wv = w ? rf__tensor_data(w) : NULL;
    float eps = n->p.norm.eps;
    int64_t r0, r1, nc = x->ne[0];
    rf__cpu_split(rf__tensor_nrows(x), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = (const float *)rf__cpu_row(x, r);
        float *y = (float *)rf__cpu_row(d, r);
        double sum = 0.0;
        for (int64_t i = 0; i < nc; i++) sum += (double)(xr[i] * xr[i]);
        float scale = 1.0f / sqrtf((float)(sum / nc) + eps);
        if (wv)
            for (int64_t i = 0; i < nc; i++) y[i] = (xr[i] * scale) * wv[i];
        else
            for (int64_t i = 0; i < nc; i++) y[i] = xr[i] * scale;
    }
}

void rf__cpu_op_layer_norm(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *x = n->src[0], *w = n->src[1], *b = n->src[2], *d = n->dst;
    const float *wv = w ? rf__tensor_data(w) : NULL, *bv = b ? rf__tensor_data(b) : NULL;
    float eps = n->p.norm.eps;
    int64_t r0, r1, nc = x->ne[0];
    rf__cpu_split(rf__tensor_nrows(x), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = (const float *)rf__cpu_row(x, r);
        float *y = (float *)rf__cpu_row(d, r);
        double sum = 0.0;
        for (int64_t i = 0; i < nc; i++) sum += xr[i];
        float mean = (float)(sum / nc);
        double var = 0.0;
        for (int64_t i = 0; i < nc; i++) {
            float c = xr[i] - mean;
            y[i] = c;
            var += (double)(c * c);
        }
        float scale = 1.0f / sqrtf((float)(var / nc) + eps);
        for (int64_t i = 0; i < nc; i++) {
            float o = y[i] * scale;
            if (wv) o *= wv[i];
            if (bv) o += bv[i];
            y[i] = o;
        }
    }
}

static void binary(const rf_node *n, rf_cpu_exec *ex, bool mul) {
    const rf_tensor *a = n->src[0], *b = n->src[1], *d = n->dst;
    bool per_row = b->ne[0] == 1 && a->ne[0] != 1;
    bool bcast = !per_row && rf__tensor_nrows(b) == 1;
    int64_t r0, r1, nc = a->ne[0];
    rf__cpu_split(rf__tensor_nrows(a), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = (const float *)rf__cpu_row(a, r);
        const float *y = (const float *)rf__cpu_row(b, bcast ? 0 : r);
        float *o = (float *)rf__cpu_row(d, r);
        if (per_row) {
            float s = y[0];
            if (mul)
                for (int64_t i = 0; i < nc; i++) o[i] = x[i] * s;
            else
                for (int64_t i = 0; i < nc; i++) o[i] = x[i] + s;
        } else if (mul)
            for (int64_t i = 0; i < nc; i++) o[i] = x[i] * y[i];
        else
            for (int64_t i = 0; i < nc; i++) o[i] = x[i] + y[i];
    }
}

void rf__cpu_op_add(rf_backend *be, const rf_node *n, void *v) { binary(n, v, false); }
void rf__cpu_op_mul(rf_backend *be, const rf_node *n, void *v) { binary(n, v, true); }

void rf__cpu_op_scale(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *a = n->src[0], *d = n->dst;
    float s = n->p.scale.s, b = n->p.scale.b;
    int64_t r0, r1, nc = a->ne[0];
    rf__cpu_split(rf__tensor_nrows(a), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = (const float *)rf__cpu_row(a, r);
        float *o = (float *)rf__cpu_row(d, r);
        for (int64_t i = 0; i < nc; i++) o[i] = x[i] * s + b;
    }
}

void rf__cpu_op_softcap(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *a = n->src[0], *d = n->dst;
    float cap = n->p.scale.s;
    int64_t r0, r1, nc = a->ne[0];
    rf__cpu_split(rf__tensor_nrows(a), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = (const float *)rf__cpu_row(a, r);
        float *o = (float *)rf__cpu_row(d, r);
        for (int64_t i = 0; i < nc; i++) o[i] = cap * tanhf(x[i] / cap);
    }
}

static inline float gelu_tanh(float x) {
    const float c = 0.797884560802865355f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(c * x * (1.0f + 0.044715f * x * x)));
}

static void glu(const rf_node *n, rf_cpu_exec *ex, bool gelu) {
    const rf_tensor *g = n->src[0], *u = n->src[1], *d = n->dst;
    int64_t r0, r1, nc = g->ne[0];
    rf__cpu_split(rf__tensor_nrows(g), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = (const float *)rf__cpu_row(g, r), *y = (const float *)rf__cpu_row(u, r);
        float *o = (float *)rf__cpu_row(d, r);
        if (gelu)
            for (int64_t i = 0; i < nc; i++) o[i] = gelu_tanh(x[i]) * y[i];
        else
            rf__cpu_swiglu_row(nc, x, y, o); /* ggml's SiLU bits (vexp.h) */
    }
}

void rf__cpu_op_swiglu(rf_backend *be, const rf_node *n, void *v) { glu(n, v, false); }
void rf__cpu_op_geglu(rf_backend *be, const rf_node *n, void *v) { glu(n, v, true); }

/* ggml: sum_rows (float accumulation), clamp, div */
void rf__cpu_op_sum_norm(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *a = n->src[0], *d = n->dst;
    const float lo = n->p.norm.eps;
    int64_t r0, r1, nc = a->ne[0];
    rf__cpu_split(rf__tensor_nrows(a), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = (const float *)rf__cpu_row(a, r);
        float *o = (float *)rf__cpu_row(d, r);
        float sum = 0.0f;
        for (int64_t i = 0; i < nc; i++) sum += x[i];
        sum = fmaxf(sum, lo);
        for (int64_t i = 0; i < nc; i++) o[i] = x[i] / sum;
    }
}

/* llama.cpp computes this on the host, in double for the log and floor */
void rf__cpu_op_attn_temp(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const int32_t *pos = rf__tensor_data(n->src[0]);
    float *o = rf__tensor_data(n->dst);
    const float scale = n->p.temp.scale, fl = n->p.temp.floor;
    int64_t r0, r1;
    rf__cpu_split(n->src[0]->ne[0], ex->ith, ex->nth, &r0, &r1);
    for (int64_t t = r0; t < r1; t++)
        o[t] = (float)(log(floor((float)pos[t] / fl) + 1.0) * scale + 1.0);
}

/* gpt-oss's clamped SwiGLU, in ggml's expression order */
void rf__cpu_op_swiglu_oai(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *g = n->src[0], *u = n->src[1], *d = n->dst;
    const float alpha = n->p.glu.alpha, limit = n->p.glu.limit;
    int64_t r0, r1, nc = g->ne[0];
    rf__cpu_split(rf__tensor_nrows(g), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = (const float *)rf__cpu_row(g, r), *y = (const float *)rf__cpu_row(u, r);
        float *o = (float *)rf__cpu_row(d, r);
        for (int64_t i = 0; i < nc; i++) {
            const float xi = fminf(x[i], limit);
            const float yi = fminf(fmaxf(y[i], -limit), limit);
            o[i] = xi / (1.0f + expf(alpha * -xi)) * (yi + 1.0f);
        }
    }
}

void rf__cpu_op_softmax(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *a = n->src[0], *d = n->dst;
    float scale = n->p.softmax.scale;
    int64_t r0, r1, nc = a->ne[0];
    rf__cpu_split(rf__tensor_nrows(a), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = (const float *)rf__cpu_row(a, r);
        float *o = (float *)rf__cpu_row(d, r);
        /* as ggml: scale, max, exp (vexp.h) with a double sum, times 1/sum */
        float mx = -INFINITY;
        for (int64_t i = 0; i < nc; i++) {
            o[i] = x[i] * scale;
            mx = fmaxf(mx, o[i]);
        }
        double sum = rf__cpu_exp_sum_row(nc, o, mx, o);
        float inv = (float)(1.0 / sum);
        for (int64_t i = 0; i < nc; i++) o[i] *= inv;
    }
}

void rf__cpu_op_argmax(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *a = n->src[0];
    int32_t *o = rf__tensor_data(n->dst);
    int64_t r0, r1, nc = a->ne[0];
    rf__cpu_split(rf__tensor_nrows(a), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = (const float *)rf__cpu_row(a, r);
        int64_t best = 0;
        for (int64_t i = 1; i < nc; i++)
            if (x[i] > x[best]) best = i;
        o[r] = (int32_t)best;
    }
}

void rf__cpu_op_topk(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *a = n->src[0], *d = n->dst;
    int k = n->p.topk.k;
    int64_t r0, r1, nc = a->ne[0];
    rf__cpu_split(rf__tensor_nrows(a), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = (const float *)rf__cpu_row(a, r);
        int32_t *o = (int32_t *)rf__cpu_row(d, r);
        /* insertion into a sorted list of k: k is small (experts per token) */
        int m = 0;
        for (int64_t i = 0; i < nc; i++) {
            if (m == k && !(x[i] > x[o[k - 1]])) continue;
            int j = m < k ? m++ : k - 1;
            while (j > 0 && x[i] > x[o[j - 1]]) {
                o[j] = o[j - 1];
                j--;
            }
            o[j] = (int32_t)i;
        }
    }
}

void rf__cpu_op_take(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *a = n->src[0], *ids = n->src[1], *d = n->dst;
    int64_t r0, r1, k = ids->ne[0];
    rf__cpu_split(ids->ne[1], ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const float *x = (const float *)rf__cpu_row(a, r);
        const int32_t *id = (const int32_t *)rf__cpu_row(ids, r);
        float *o = (float *)rf__cpu_row(d, r);
        for (int64_t j = 0; j < k; j++)
            o[j] = (id[j] >= 0 && id[j] < a->ne[0]) ? x[id[j]] : 0.0f;
    }
}

void rf__cpu_op_copy(rf_backend *be, const rf_node *n, void *v) {
    EX(v);
    const rf_tensor *a = n->src[0], *d = n->dst;
    const rf_cpu_vec *vec = rf__cpu_vec();
    int64_t r0, r1, nc = a->ne[0];
    rf__cpu_split(rf__tensor_nrows(a), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const char *x = rf__cpu_row(a, r);
        char *o = rf__cpu_row(d, r);
        if (a->type == d->type)
            memcpy(o, x, (size_t)nc * a->nb[0]);
        else if (a->type == RF_TYPE_F32)
            vec->f32_to_f16(nc, (const float *)x, (uint16_t *)o);
        else
            vec->f16_to_f32(nc, (const uint16_t *)x, (float *)o);
    }
}
