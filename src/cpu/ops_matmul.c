/*
 * ops_matmul.c - matrix products on the CPU: weight (any type, used in place
 * from the mapped file) x activations.
 *
 * Phase 1: the activation rows are converted once to the weight type's
 * activation format (Q8_0/Q8_1 for legacy blocks, Q8_K for K-quants, see
 * cpu/dot.h), split between threads; barrier.
 * Phase 2: the output is cut into tiles of ROW_BLOCK weight rows x TOK_BLOCK
 * tokens handed out through an atomic counter (threads that run ahead take
 * more). Inside a tile each weight row is loaded once and dotted with every
 * token of the tile while it is hot in L1; the tile's activations stay in L2.
 * Decode (one token) takes blocks of DECODE_ROWS rows (long contiguous runs
 * keep the hardware prefetchers streaming), or one contiguous share per
 * thread when that would give fewer than 4 blocks per thread (as ggml).
 *
 * Types without a dot product fall back to dequantizing a weight row to f32
 * (correct, slow) so every type with a to_f32 can run.
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/dot.h"

#define ROW_BLOCK 16
#define TOK_BLOCK 64
#define TOK_GROUP 8 /* tokens per pass over a tile's rows (widest multi-row dot kernels) */
#define DECODE_ROWS 256

typedef struct mm_plan {
    const rf_cpu_dot *dot;  /* NULL: f32/f16 helpers or the dequantize fallback */
    size_t act_row;         /* bytes per converted activation row (0: use src1 as is) */
} mm_plan;

static mm_plan plan_for(rf_type wt, int64_t n_in) {
    mm_plan p = {0};
    p.dot = rf__cpu_dot_get(wt);
    if (p.dot && p.dot->act_type != RF_TYPE_F32) {
        p.act_row = rf_type_row_size(p.dot->act_type, n_in);
        if (!p.act_row) p.dot = NULL; /* row not a whole number of activation blocks */
    }
    return p;
}

bool rf__cpu_matmul_supported(rf_type t) {
    if (t == RF_TYPE_F32 || t == RF_TYPE_F16) return true;
    if (rf__cpu_dot_get(t)) return true;
    const rf_type_traits *tr = rf_type_get(t);
    return tr && tr->to_f32;
}

void rf__cpu_matmul_work_size(const rf_node *n, size_t *shared, size_t *per_thread) {
    const rf_tensor *w = n->src[0], *x = n->src[1];
    mm_plan p = plan_for(w->type, w->ne[0]);
    *shared = p.act_row * (size_t)rf__tensor_nrows(x);
    *per_thread = p.dot ? 0 : (size_t)w->ne[0] * sizeof(float);
}

bool rf__cpu_matmul_same_acts(const rf_node *a, const rf_node *b) {
    if (a->op != RF_OP_MATMUL || b->op != RF_OP_MATMUL) return false;
    const rf_tensor *xa = a->src[1], *xb = b->src[1];
    if (xa->buf != xb->buf || xa->offs != xb->offs || xa->type != xb->type) return false;
    for (int i = 0; i < RF_MAX_DIMS; i++)
        if (xa->ne[i] != xb->ne[i] || xa->nb[i] != xb->nb[i]) return false;
    mm_plan pa = plan_for(a->src[0]->type, a->src[0]->ne[0]);
    mm_plan pb = plan_for(b->src[0]->type, b->src[0]->ne[0]);
    return pa.act_row && pb.act_row && pa.dot->act_type == pb.dot->act_type &&
           pa.dot->quantize_act == pb.dot->quantize_act;
}

/* Converts the rows of x (all of dims 1..3) into the activation format. */
static void convert_acts(const mm_plan *p, const rf_tensor *x, rf_cpu_exec *ex) {
    if (!p->act_row || ex->reuse_act) return;
    int64_t r0, r1;
    rf__cpu_split(rf__tensor_nrows(x), ex->ith, ex->nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        p->dot->quantize_act((const float *)rf__cpu_row(x, r), ex->shared + (size_t)r * p->act_row,
                             x->ne[0]);
    rf__cpu_barrier(ex);
}

static inline const void *act_row(const mm_plan *p, const rf_tensor *x, rf_cpu_exec *ex, int64_t r) {
    return p->act_row ? (const void *)(ex->shared + (size_t)r * p->act_row)
                      : (const void *)rf__cpu_row(x, r);
}

/* One weight row against a list of activation rows. */
static inline void row_dots(const mm_plan *p, rf_type wt, int64_t n, const void *w,
                            const void *const *acts, int n_act, float *out, float *tmp) {
    if (p->dot) { /* decodes the weight row once for several tokens where it can */
        rf__cpu_dot_multi(p->dot, n, out, w, acts, n_act);
        return;
    }
    const rf_cpu_vec *v = rf__cpu_vec();
    if (wt == RF_TYPE_F32) {
        for (int t = 0; t < n_act; t++) out[t] = v->dot_f32(n, w, acts[t]);
    } else if (wt == RF_TYPE_F16) {
        for (int t = 0; t < n_act; t++) out[t] = v->dot_f16(n, w, acts[t]);
    } else {
        rf_type_get(wt)->to_f32(w, tmp, n);
        for (int t = 0; t < n_act; t++) out[t] = v->dot_f32(n, tmp, acts[t]);
    }
}

void rf__cpu_op_matmul(rf_backend *be, const rf_node *n, void *v) {
    rf_cpu_exec *ex = v;
    const rf_tensor *w = n->src[0], *x = n->src[1], *res = n->src[2], *d = n->dst;
    const int64_t n_in = w->ne[0], n_out = w->ne[1], n_tok = x->ne[1];
    mm_plan p = plan_for(w->type, n_in);
    convert_acts(&p, x, ex);

    const char *wdata = rf__tensor_data(w);
    int64_t rows = ROW_BLOCK;
    if (n_tok == 1) {
        rows = DECODE_ROWS;
        if ((n_out + rows - 1) / rows < 4 * (int64_t)ex->nth) rows = (n_out + ex->nth - 1) / ex->nth;
    }
    const int64_t n_rb = (n_out + rows - 1) / rows;
    const int64_t n_tb = (n_tok + TOK_BLOCK - 1) / TOK_BLOCK;
    const int64_t n_jobs = n_rb * n_tb;
    const void *acts[TOK_BLOCK];
    float *dst[TOK_BLOCK];
    const float *rsd[TOK_BLOCK];
    float out[TOK_BLOCK];
    float tile[ROW_BLOCK][TOK_BLOCK]; /* prefill results of one tile, [row][token] */
    char *ddata = rf__tensor_data(d);
    const char *rdata = res ? rf__tensor_data(res) : NULL;
    int64_t job;
    while ((job = atomic_fetch_add(ex->counter, 1)) < n_jobs) {
        int64_t tb = job / n_rb, rb = job % n_rb;
        int64_t t0 = tb * TOK_BLOCK, t1 = RF_MIN(t0 + TOK_BLOCK, n_tok);
        int64_t o0 = rb * rows, o1 = RF_MIN(o0 + rows, n_out);
        int nt = (int)(t1 - t0);
        for (int t = 0; t < nt; t++) {
            acts[t] = act_row(&p, x, ex, t0 + t);
            dst[t] = (float *)(ddata + (size_t)(t0 + t) * d->nb[1]);
            rsd[t] = res ? (const float *)(rdata + (size_t)(t0 + t) * res->nb[1]) : NULL;
        }
        if (p.dot && nt == 1) { /* decode: straight into the output row */
            const char *wr = wdata + (size_t)o0 * w->nb[1];
            for (int64_t o = o0; o < o1; o++, wr += w->nb[1]) {
                float s; /* dst may be the residual itself (in place) */
                p.dot->vec_dot(n_in, &s, wr, acts[0]);
                dst[0][o] = res ? s + rsd[0][o] : s;
            }
            continue;
        }
        if (p.dot) {
            /* TOK_GROUP tokens at a time against every row of the tile: the
             * group's activations (TOK_GROUP rows) stay in L1 while the tile's
             * weight rows come from L2, instead of streaming all TOK_BLOCK
             * activation rows from L2 once per weight row. Results go to a
             * local tile, then out as contiguous runs per token. */
            for (int g = 0; g < nt; g += TOK_GROUP) {
                int ng = RF_MIN(TOK_GROUP, nt - g);
                for (int64_t o = o0; o < o1; o++)
                    rf__cpu_dot_multi(p.dot, n_in, &tile[o - o0][g], wdata + (size_t)o * w->nb[1],
                                      acts + g, ng);
            }
            for (int t = 0; t < nt; t++) {
                float *dt = dst[t] + o0;
                const float *rt = res ? rsd[t] + o0 : NULL;
                for (int64_t o = 0; o < o1 - o0; o++) /* dst may be the residual itself */
                    dt[o] = rt ? tile[o][t] + rt[o] : tile[o][t];
            }
            continue;
        }
        for (int64_t o = o0; o < o1; o++) {
            row_dots(&p, w->type, n_in, wdata + (size_t)o * w->nb[1], acts, nt, out,
                     (float *)ex->local);
            if (res)
                for (int t = 0; t < nt; t++) dst[t][o] = out[t] + rsd[t][o];
            else
                for (int t = 0; t < nt; t++) dst[t][o] = out[t];
        }
    }
}

void rf__cpu_op_matmul_id(rf_backend *be, const rf_node *n, void *v) {
    rf_cpu_exec *ex = v;
    const rf_tensor *w = n->src[0], *x = n->src[1], *ids = n->src[2], *d = n->dst;
    const int64_t n_in = w->ne[0], n_out = w->ne[1], n_exp = w->ne[2];
    const int64_t n_used = ids->ne[0], n_tok = ids->ne[1];
    mm_plan p = plan_for(w->type, n_in);
    convert_acts(&p, x, ex);

    const char *wdata = rf__tensor_data(w);
    const int64_t n_rb = (n_out + ROW_BLOCK - 1) / ROW_BLOCK;
    const int64_t n_jobs = n_rb * n_used * n_tok;
    int64_t job;
    while ((job = atomic_fetch_add(ex->counter, 1)) < n_jobs) {
        int64_t rb = job % n_rb, slot = job / n_rb;
        int64_t e = slot % n_used, t = slot / n_used;
        int32_t xe = ((const int32_t *)rf__cpu_row(ids, t))[e];
        float *o = (float *)((char *)rf__tensor_data(d) + e * d->nb[1] + t * d->nb[2]);
        int64_t o0 = rb * ROW_BLOCK, o1 = RF_MIN(o0 + ROW_BLOCK, n_out);
        if (xe < 0 || xe >= n_exp) {
            for (int64_t r = o0; r < o1; r++) o[r] = 0.0f;
            continue;
        }
        int64_t xr = t * x->ne[1] + (x->ne[1] == 1 ? 0 : e); /* row index over dims 1..2 */
        const void *a = act_row(&p, x, ex, xr);
        for (int64_t r = o0; r < o1; r++)
            row_dots(&p, w->type, n_in, wdata + (size_t)xe * w->nb[2] + (size_t)r * w->nb[1], &a,
                     1, &o[r], (float *)ex->local);
    }
}
