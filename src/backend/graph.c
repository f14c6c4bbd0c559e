/*
 * graph.c - building op graphs and planning their memory.
 *
 * Builders append nodes; shapes are checked as they are built and the first
 * error is latched in the graph (builders return NULL from then on and accept
 * NULL inputs), so model code reads like the math without a check per line.
 *
 * Planning (rf__graph_alloc): every tensor the graph created that is not a
 * view or external gets a lifetime [first node, last node] from the nodes that
 * touch it or any view of it; inputs live from the start and outputs to the
 * end. Tensors are then placed in one activation buffer in node order with a
 * best-fit free list, a tensor's bytes returning to the list after its last
 * node. The result: one allocation per graph, made before the first step.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"

#define GRAPH_INIT_NODES 64

static rf_tensor *fail(rf_graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static rf_tensor *fail(rf_graph *g, const char *fmt, ...) {
    if (g->err.status == RF_OK) {
        va_list ap;
        va_start(ap, fmt);
        g->err.status = RF_ERR_INVALID_ARG;
        vsnprintf(g->err.msg, sizeof g->err.msg, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

rf_status rf__graph_create(rf_backend *be, rf_graph **out, rf_err *err) {
    *out = NULL;
    rf_graph *g = rf__calloc(1, sizeof *g);
    if (!g) return rf__err(err, RF_ERR_NOMEM, "graph allocation failed");
    g->be = be;
    *out = g;
    return RF_OK;
}

void rf__graph_free(rf_graph *g) {
    if (!g) return;
    if (g->backend_data && g->be->iface->graph_release) g->be->iface->graph_release(g->be, g);
    rf__buffer_free(g->act);
    for (int i = 0; i < g->n_tensors; i++) rf__free(g->tensors[i]);
    rf__free(g->tensors);
    rf__free(g->nodes);
    rf__free(g);
}

/* ---- tensors ---- */

static rf_tensor *new_tensor(rf_graph *g) {
    if (g->err.status != RF_OK) return NULL;
    if (g->allocated) return fail(g, "graph already allocated");
    if (g->n_tensors == g->cap_tensors) {
        int cap = g->cap_tensors ? g->cap_tensors * 2 : 256;
        rf_tensor **nt = rf__realloc(g->tensors, (size_t)cap * sizeof *nt);
        if (!nt) {
            g->err.status = RF_ERR_NOMEM;
            snprintf(g->err.msg, sizeof g->err.msg, "graph: out of memory");
            return NULL;
        }
        g->tensors = nt;
        g->cap_tensors = cap;
    }
    rf_tensor *t = rf__calloc(1, sizeof *t);
    if (!t) {
        g->err.status = RF_ERR_NOMEM;
        snprintf(g->err.msg, sizeof g->err.msg, "graph: out of memory");
        return NULL;
    }
    t->id = g->n_tensors;
    g->tensors[g->n_tensors++] = t;
    return t;
}

rf_tensor *rf__g_new(rf_graph *g, rf_type type, int64_t ne0, int64_t ne1, int64_t ne2,
                     int64_t ne3) {
    rf_tensor *t = new_tensor(g);
    if (!t) return NULL;
    t->type = type;
    t->ne[0] = ne0; t->ne[1] = ne1; t->ne[2] = ne2; t->ne[3] = ne3;
    if (!rf__tensor_set_contiguous(t))
        return fail(g, "invalid tensor shape [%lld, %lld, %lld, %lld] of type %d", (long long)ne0,
                    (long long)ne1, (long long)ne2, (long long)ne3, (int)type);
    return t;
}

rf_tensor *rf__g_input(rf_graph *g, rf_type type, int64_t ne0, int64_t ne1, const char *name) {
    rf_tensor *t = rf__g_new(g, type, ne0, ne1, 1, 1);
    if (!t) return NULL;
    t->flags |= RF_TF_INPUT;
    if (name) snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}

void rf__g_set_output(rf_graph *g, rf_tensor *t) {
    (void)g;
    if (t) t->flags |= RF_TF_OUTPUT;
}

void rf__g_set_name(rf_tensor *t, const char *fmt, ...) {
    if (!t) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
}

rf_tensor *rf__g_view(rf_graph *g, rf_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2,
                      int64_t ne3, size_t nb1, size_t nb2, size_t nb3, size_t offs) {
    if (!t) return NULL;
    rf_tensor probe = {.type = t->type, .ne = {ne0, ne1, ne2, ne3}};
    if (!rf__tensor_set_contiguous(&probe)) return fail(g, "invalid view shape of '%s'", t->name);
    probe.nb[1] = nb1; probe.nb[2] = nb2; probe.nb[3] = nb3;
    size_t span = rf__tensor_nbytes(&probe), total = rf__tensor_nbytes(t);
    if (offs > total || span > total - offs)
        return fail(g, "view of '%s' out of bounds (%zu + %zu > %zu)", t->name, offs, span, total);
    rf_tensor *v = new_tensor(g);
    if (!v) return NULL;
    *v = probe;
    v->id = g->n_tensors - 1;
    rf_tensor *root = t->view_src ? t->view_src : t;
    v->view_src = root;
    v->view_offs = (t->view_src ? t->view_offs : 0) + offs;
    v->flags = root->flags & RF_TF_EXTERNAL;
    if (root->flags & RF_TF_EXTERNAL) {
        v->buf = root->buf;
        v->offs = root->offs + v->view_offs;
    }
    snprintf(v->name, sizeof v->name, "%.40s (view)", t->name);
    return v;
}

rf_tensor *rf__g_reshape(rf_graph *g, rf_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2,
                         int64_t ne3) {
    if (!t) return NULL;
    if (!rf__tensor_is_contiguous(t)) return fail(g, "reshape of non-contiguous '%s'", t->name);
    if (ne0 * ne1 * ne2 * ne3 != rf__tensor_nelements(t))
        return fail(g, "reshape of '%s' changes the element count", t->name);
    rf_tensor probe = {.type = t->type, .ne = {ne0, ne1, ne2, ne3}};
    if (!rf__tensor_set_contiguous(&probe)) return fail(g, "invalid reshape of '%s'", t->name);
    return rf__g_view(g, t, ne0, ne1, ne2, ne3, probe.nb[1], probe.nb[2], probe.nb[3], 0);
}

rf_tensor *rf__g_rows(rf_graph *g, rf_tensor *t, int64_t row0, int64_t n) {
    if (!t) return NULL;
    if (t->ne[2] != 1 || t->ne[3] != 1 || row0 < 0 || n <= 0 || row0 + n > t->ne[1])
        return fail(g, "rows [%lld, +%lld) of '%s' out of range", (long long)row0, (long long)n,
                    t->name);
    return rf__g_view(g, t, t->ne[0], n, 1, 1, t->nb[1], t->nb[1] * (size_t)n,
                      t->nb[1] * (size_t)n, t->nb[1] * (size_t)row0);
}

/* ---- nodes ---- */

rf_tensor *rf__g_op(rf_graph *g, rf_op op, rf_tensor *dst, rf_tensor *const *src, int n_src,
                    const rf_op_params *p) {
    if (g->err.status != RF_OK || !dst) return NULL;
    if (n_src > RF_MAX_SRC) return fail(g, "too many sources for %s", rf__op_name(op));
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : GRAPH_INIT_NODES;
        rf_node *nn = rf__realloc(g->nodes, (size_t)cap * sizeof *nn);
        if (!nn) {
            g->err.status = RF_ERR_NOMEM;
            snprintf(g->err.msg, sizeof g->err.msg, "graph: out of memory");
            return NULL;
        }
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    rf_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->dst = dst;
    for (int i = 0; i < n_src; i++) n->src[i] = src[i];
    if (p) n->p = *p;
    return dst;
}

static bool row_f32(const rf_tensor *t) { return t->type == RF_TYPE_F32 && t->nb[0] == 4; }

static bool same_shape(const rf_tensor *a, const rf_tensor *b) {
    for (int i = 0; i < RF_MAX_DIMS; i++)
        if (a->ne[i] != b->ne[i]) return false;
    return true;
}

static rf_tensor *new_like(rf_graph *g, const rf_tensor *t) {
    return rf__g_new(g, RF_TYPE_F32, t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
}

rf_tensor *rf__g_get_rows(rf_graph *g, rf_tensor *table, rf_tensor *ids) {
    if (!table || !ids) return NULL;
    if (ids->type != RF_TYPE_I32 || ids->ne[1] != 1 || table->ne[2] != 1)
        return fail(g, "get_rows: bad ids/table '%s'", table->name);
    rf_tensor *d = rf__g_new(g, RF_TYPE_F32, table->ne[0], ids->ne[0], 1, 1);
    return rf__g_op(g, RF_OP_GET_ROWS, d, (rf_tensor *[]){table, ids}, 2, NULL);
}

static bool norm_weight_ok(const rf_tensor *x, const rf_tensor *w) {
    return !w || (w->type == RF_TYPE_F32 && w->ne[0] == x->ne[0] && rf__tensor_nrows(w) == 1);
}

rf_tensor *rf__g_rms_norm(rf_graph *g, rf_tensor *x, rf_tensor *w, float eps) {
    if (!x) return NULL;
    if (!row_f32(x) || !norm_weight_ok(x, w))
        return fail(g, "rms_norm: bad input '%s' or weight '%s'", x->name, w ? w->name : "");
    rf_op_params p = {.norm = {eps}};
    return rf__g_op(g, RF_OP_RMS_NORM, new_like(g, x), (rf_tensor *[]){x, w}, 2, &p);
}

rf_tensor *rf__g_layer_norm(rf_graph *g, rf_tensor *x, rf_tensor *w, rf_tensor *b, float eps) {
    if (!x) return NULL;
    if (!row_f32(x) || !norm_weight_ok(x, w) || !norm_weight_ok(x, b))
        return fail(g, "layer_norm: bad input '%s'", x->name);
    rf_op_params p = {.norm = {eps}};
    return rf__g_op(g, RF_OP_LAYER_NORM, new_like(g, x), (rf_tensor *[]){x, w, b}, 3, &p);
}

rf_tensor *rf__g_matmul_add(rf_graph *g, rf_tensor *w, rf_tensor *x, rf_tensor *res) {
    if (!w || !x) return NULL;
    if (w->ne[0] != x->ne[0] || w->ne[2] != 1 || w->ne[3] != 1 || !row_f32(x) || x->ne[2] != 1 ||
        x->ne[3] != 1)
        return fail(g, "matmul: '%s' [%lld, %lld] cannot multiply [%lld, %lld]", w->name,
                    (long long)w->ne[0], (long long)w->ne[1], (long long)x->ne[0],
                    (long long)x->ne[1]);
    rf_tensor *d;
    if (res) {
        if (!row_f32(res) || res->ne[0] != w->ne[1] || res->ne[1] != x->ne[1])
            return fail(g, "matmul_add: residual '%s' has the wrong shape", res->name);
        /* in place on a planned residual; a fresh tensor otherwise */
        d = (res->flags & (RF_TF_EXTERNAL | RF_TF_INPUT)) || res->view_src
                ? rf__g_new(g, RF_TYPE_F32, w->ne[1], x->ne[1], 1, 1)
                : res;
        return rf__g_op(g, RF_OP_MATMUL, d, (rf_tensor *[]){w, x, res}, 3, NULL);
    }
    d = rf__g_new(g, RF_TYPE_F32, w->ne[1], x->ne[1], 1, 1);
    return rf__g_op(g, RF_OP_MATMUL, d, (rf_tensor *[]){w, x}, 2, NULL);
}

rf_tensor *rf__g_matmul(rf_graph *g, rf_tensor *w, rf_tensor *x) {
    return rf__g_matmul_add(g, w, x, NULL);
}

rf_tensor *rf__g_matmul_id(rf_graph *g, rf_tensor *w, rf_tensor *x, rf_tensor *ids) {
    if (!w || !x || !ids) return NULL;
    if (w->ne[0] != x->ne[0] || !row_f32(x) || ids->type != RF_TYPE_I32 ||
        ids->ne[1] != x->ne[2] || (x->ne[1] != 1 && x->ne[1] != ids->ne[0]))
        return fail(g, "matmul_id: bad shapes for '%s'", w->name);
    rf_tensor *d = rf__g_new(g, RF_TYPE_F32, w->ne[1], ids->ne[0], ids->ne[1], 1);
    return rf__g_op(g, RF_OP_MATMUL_ID, d, (rf_tensor *[]){w, x, ids}, 3, NULL);
}

static rf_tensor *binary(rf_graph *g, rf_op op, rf_tensor *a, rf_tensor *b) {
    if (!a || !b) return NULL;
    bool bcast = b->ne[0] == a->ne[0] && rf__tensor_nrows(b) == 1;
    bool per_row = b->ne[0] == 1 && b->ne[1] == a->ne[1] && b->ne[2] == a->ne[2] &&
                   b->ne[3] == a->ne[3];
    if (!row_f32(a) || !row_f32(b) || !(same_shape(a, b) || bcast || per_row))
        return fail(g, "%s: incompatible '%s' and '%s'", rf__op_name(op), a->name, b->name);
    return rf__g_op(g, op, new_like(g, a), (rf_tensor *[]){a, b}, 2, NULL);
}

rf_tensor *rf__g_add(rf_graph *g, rf_tensor *a, rf_tensor *b) {
    return binary(g, RF_OP_ADD, a, b);
}
rf_tensor *rf__g_mul(rf_graph *g, rf_tensor *a, rf_tensor *b) {
    return binary(g, RF_OP_MUL, a, b);
}

rf_tensor *rf__g_scale(rf_graph *g, rf_tensor *a, float s) {
    if (!a) return NULL;
    if (!row_f32(a)) return fail(g, "scale: bad input '%s'", a->name);
    rf_op_params p = {.scale = {s, 0.0f}};
    return rf__g_op(g, RF_OP_SCALE, new_like(g, a), (rf_tensor *[]){a}, 1, &p);
}

static rf_tensor *glu(rf_graph *g, rf_op op, rf_tensor *gate, rf_tensor *up) {
    if (!gate || !up) return NULL;
    if (!row_f32(gate) || !row_f32(up) || !same_shape(gate, up))
        return fail(g, "%s: incompatible '%s' and '%s'", rf__op_name(op), gate->name, up->name);
    return rf__g_op(g, op, new_like(g, gate), (rf_tensor *[]){gate, up}, 2, NULL);
}

rf_tensor *rf__g_swiglu(rf_graph *g, rf_tensor *gate, rf_tensor *up) {
    return glu(g, RF_OP_SWIGLU, gate, up);
}
rf_tensor *rf__g_geglu(rf_graph *g, rf_tensor *gate, rf_tensor *up) {
    return glu(g, RF_OP_GEGLU, gate, up);
}
rf_tensor *rf__g_attn_temp(rf_graph *g, rf_tensor *pos, float scale, float floor_scale) {
    if (!pos) return NULL;
    if (pos->type != RF_TYPE_I32 || rf__tensor_nrows(pos) != 1 || !(floor_scale >= 1.0f))
        return fail(g, "attn_temp: bad arguments for '%s'", pos->name);
    rf_op_params p = {.temp = {scale, floor_scale}};
    rf_tensor *d = rf__g_new(g, RF_TYPE_F32, 1, pos->ne[0], 1, 1);
    return rf__g_op(g, RF_OP_ATTN_TEMP, d, (rf_tensor *[]){pos}, 1, &p);
}

rf_tensor *rf__g_sum_norm(rf_graph *g, rf_tensor *x, float min_sum) {
    if (!x) return NULL;
    if (!row_f32(x) || !(min_sum > 0.0f)) return fail(g, "sum_norm: bad input '%s'", x->name);
    rf_op_params p = {.norm = {min_sum}};
    return rf__g_op(g, RF_OP_SUM_NORM, new_like(g, x), (rf_tensor *[]){x}, 1, &p);
}

rf_tensor *rf__g_swiglu_oai(rf_graph *g, rf_tensor *gate, rf_tensor *up, float alpha, float limit) {
    if (!gate || !up) return NULL;
    if (!row_f32(gate) || !row_f32(up) || !same_shape(gate, up) || !(limit > 0.0f))
        return fail(g, "swiglu_oai: incompatible '%s' and '%s'", gate->name, up->name);
    rf_op_params p = {.glu = {alpha, limit}};
    return rf__g_op(g, RF_OP_SWIGLU_OAI, new_like(g, gate), (rf_tensor *[]){gate, up}, 2, &p);
}

rf_tensor *rf__g_rope(rf_graph *g, rf_tensor *x, rf_tensor *pos, rf_tensor *ff,
                      const rf_rope_params *p) {
    if (!x || !pos) return NULL;
    if (!row_f32(x) || pos->type != RF_TYPE_I32 || pos->ne[0] != x->ne[2] ||
        p->n_dims <= 0 || p->n_dims > x->ne[0] || p->n_dims % 2 ||
        (p->mode != RF_ROPE_NORMAL && p->mode != RF_ROPE_NEOX) ||
        (ff && (ff->type != RF_TYPE_F32 || ff->ne[0] < p->n_dims / 2)))
        return fail(g, "rope: bad arguments for '%s'", x->name);
    rf_op_params op = {.rope = *p};
    return rf__g_op(g, RF_OP_ROPE, new_like(g, x), (rf_tensor *[]){x, pos, ff}, 3, &op);
}

void rf__g_kv_store(rf_graph *g, rf_tensor *cache, rf_tensor *x, rf_tensor *pos) {
    if (!cache || !x || !pos) return;
    if ((cache->type != RF_TYPE_F16 && cache->type != RF_TYPE_F32) || !row_f32(x) ||
        pos->type != RF_TYPE_I32 || cache->ne[0] != rf__tensor_nelements(x) / pos->ne[0] ||
        rf__tensor_nelements(x) % pos->ne[0] || !rf__tensor_is_contiguous(x)) {
        fail(g, "kv_store: '%s' does not fit cache '%s'", x->name, cache->name);
        return;
    }
    rf__g_op(g, RF_OP_KV_STORE, cache, (rf_tensor *[]){x, pos}, 2, NULL);
}

rf_tensor *rf__g_attention(rf_graph *g, rf_tensor *q, rf_tensor *kc, rf_tensor *vc,
                           rf_tensor *pos, const rf_attn_params *p) {
    return rf__g_attention_sinks(g, q, kc, vc, pos, NULL, p);
}

rf_tensor *rf__g_attention_sinks(rf_graph *g, rf_tensor *q, rf_tensor *kc, rf_tensor *vc,
                                 rf_tensor *pos, rf_tensor *sinks, const rf_attn_params *p) {
    if (!q || !kc || !vc || !pos) return NULL;
    if (sinks && (sinks->type != RF_TYPE_F32 || rf__tensor_nelements(sinks) != p->n_head ||
                  !rf__tensor_is_contiguous(sinks)))
        return fail(g, "attention: sinks '%s' must be f32 [n_head]", sinks->name);
    if (!row_f32(q) || q->ne[0] != p->head_dim_k || q->ne[1] != p->n_head ||
        q->ne[2] != pos->ne[0] || p->n_head_kv <= 0 || p->n_head % p->n_head_kv ||
        kc->ne[0] != (int64_t)p->head_dim_k * p->n_head_kv ||
        vc->ne[0] != (int64_t)p->head_dim_v * p->n_head_kv || kc->ne[1] != vc->ne[1] ||
        kc->type != vc->type || pos->type != RF_TYPE_I32 || p->window < 0)
        return fail(g, "attention: bad shapes for '%s' / cache '%s'", q->name, kc->name);
    rf_op_params op = {.attn = *p};
    rf_tensor *d = rf__g_new(g, RF_TYPE_F32, (int64_t)p->head_dim_v * p->n_head, q->ne[2], 1, 1);
    return rf__g_op(g, RF_OP_ATTENTION, d, (rf_tensor *[]){q, kc, vc, pos, sinks}, sinks ? 5 : 4, &op);
}

rf_tensor *rf__g_softmax(rf_graph *g, rf_tensor *x, float scale) {
    if (!x) return NULL;
    if (!row_f32(x)) return fail(g, "softmax: bad input '%s'", x->name);
    rf_op_params p = {.softmax = {scale}};
    return rf__g_op(g, RF_OP_SOFTMAX, new_like(g, x), (rf_tensor *[]){x}, 1, &p);
}

rf_tensor *rf__g_argmax(rf_graph *g, rf_tensor *x) {
    if (!x) return NULL;
    if (!row_f32(x)) return fail(g, "argmax: bad input '%s'", x->name);
    rf_tensor *d = rf__g_new(g, RF_TYPE_I32, rf__tensor_nrows(x), 1, 1, 1);
    return rf__g_op(g, RF_OP_ARGMAX, d, (rf_tensor *[]){x}, 1, NULL);
}

rf_tensor *rf__g_topk(rf_graph *g, rf_tensor *x, int k) {
    if (!x) return NULL;
    if (!row_f32(x) || k <= 0 || k > x->ne[0])
        return fail(g, "topk: bad input '%s' or k %d", x->name, k);
    rf_op_params p = {.topk = {k}};
    rf_tensor *d = rf__g_new(g, RF_TYPE_I32, k, x->ne[1], x->ne[2], x->ne[3]);
    return rf__g_op(g, RF_OP_TOPK, d, (rf_tensor *[]){x}, 1, &p);
}

rf_tensor *rf__g_take(rf_graph *g, rf_tensor *x, rf_tensor *ids) {
    if (!x || !ids) return NULL;
    if (!row_f32(x) || ids->type != RF_TYPE_I32 || ids->ne[1] != rf__tensor_nrows(x) ||
        rf__tensor_nrows(ids) != rf__tensor_nrows(x))
        return fail(g, "take: bad shapes '%s'", x->name);
    rf_tensor *d = rf__g_new(g, RF_TYPE_F32, ids->ne[0], ids->ne[1], 1, 1);
    return rf__g_op(g, RF_OP_TAKE, d, (rf_tensor *[]){x, ids}, 2, NULL);
}

rf_tensor *rf__g_copy(rf_graph *g, rf_tensor *x, rf_type type) {
    if (!x) return NULL;
    if ((x->type != RF_TYPE_F32 && x->type != RF_TYPE_F16) ||
        (type != RF_TYPE_F32 && type != RF_TYPE_F16))
        return fail(g, "copy: unsupported types for '%s'", x->name);
    rf_tensor *d = rf__g_new(g, type, x->ne[0], x->ne[1], x->ne[2], x->ne[3]);
    return rf__g_op(g, RF_OP_COPY, d, (rf_tensor *[]){x}, 1, NULL);
}

rf_tensor *rf__g_softcap(rf_graph *g, rf_tensor *x, float cap) {
    if (!x) return NULL;
    if (!row_f32(x) || !(cap > 0.0f)) return fail(g, "softcap: bad input '%s'", x->name);
    rf_op_params p = {.scale = {cap, 0.0f}};
    return rf__g_op(g, RF_OP_SOFTCAP, new_like(g, x), (rf_tensor *[]){x}, 1, &p);
}

/* ---- planning ---- */

typedef struct { size_t off, size; } span;
typedef struct {
    span *free;
    int n, cap;
    size_t top;     /* high-water mark */
} planner;

static size_t align_up(size_t n) { return (n + RF_BUFFER_ALIGN - 1) & ~(size_t)(RF_BUFFER_ALIGN - 1); }

static bool plan_alloc(planner *pl, size_t size, size_t *off) {
    size = align_up(size);
    int best = -1;
    for (int i = 0; i < pl->n; i++)
        if (pl->free[i].size >= size && (best < 0 || pl->free[i].size < pl->free[best].size))
            best = i;
    if (best >= 0) {
        *off = pl->free[best].off;
        pl->free[best].off += size;
        pl->free[best].size -= size;
        if (pl->free[best].size == 0) {
            memmove(&pl->free[best], &pl->free[best + 1], (size_t)(pl->n - best - 1) * sizeof(span));
            pl->n--;
        }
        return true;
    }
    /* grow: extend a free block touching the top, else allocate at the top */
    if (pl->n && pl->free[pl->n - 1].off + pl->free[pl->n - 1].size == pl->top) {
        *off = pl->free[pl->n - 1].off;
        pl->top = *off + size;
        pl->n--;
        return true;
    }
    *off = pl->top;
    pl->top += size;
    return true;
}

static bool plan_free(planner *pl, size_t off, size_t size) {
    size = align_up(size);
    int i = 0;
    while (i < pl->n && pl->free[i].off < off) i++;
    if (pl->n == pl->cap) {
        int cap = pl->cap ? pl->cap * 2 : 32;
        span *ns = rf__realloc(pl->free, (size_t)cap * sizeof *ns);
        if (!ns) return false;
        pl->free = ns;
        pl->cap = cap;
    }
    memmove(&pl->free[i + 1], &pl->free[i], (size_t)(pl->n - i) * sizeof(span));
    pl->free[i] = (span){off, size};
    pl->n++;
    /* merge with neighbours */
    if (i + 1 < pl->n && pl->free[i].off + pl->free[i].size == pl->free[i + 1].off) {
        pl->free[i].size += pl->free[i + 1].size;
        memmove(&pl->free[i + 1], &pl->free[i + 2], (size_t)(pl->n - i - 2) * sizeof(span));
        pl->n--;
    }
    if (i > 0 && pl->free[i - 1].off + pl->free[i - 1].size == pl->free[i].off) {
        pl->free[i - 1].size += pl->free[i].size;
        memmove(&pl->free[i], &pl->free[i + 1], (size_t)(pl->n - i - 1) * sizeof(span));
        pl->n--;
    }
    return true;
}

static rf_tensor *root_of(rf_tensor *t) { return t->view_src ? t->view_src : t; }

static bool planned(const rf_tensor *t) { return !(t->flags & RF_TF_EXTERNAL) && !t->view_src; }

rf_status rf__graph_alloc(rf_graph *g, rf_err *err) {
    rf_status st = RF_OK;
    int *first = NULL, *last = NULL;
    size_t *offs = NULL;
    planner pl = {0};
    if (g->err.status != RF_OK) return rf__err(err, g->err.status, "%s", g->err.msg);
    if (g->allocated) return rf__err(err, RF_ERR_INTERNAL, "graph allocated twice");
    int nt = g->n_tensors, nn = g->n_nodes;
    first = rf__malloc(((size_t)nt + 1) * sizeof *first);
    last = rf__malloc(((size_t)nt + 1) * sizeof *last);
    offs = rf__calloc((size_t)nt + 1, sizeof *offs);
    if (!first || !last || !offs) {
        st = rf__err(err, RF_ERR_NOMEM, "graph planning: out of memory");
        goto out;
    }
    for (int i = 0; i < nt; i++) {
        first[i] = (g->tensors[i]->flags & RF_TF_INPUT) ? -1 : nn;
        last[i] = (g->tensors[i]->flags & RF_TF_OUTPUT) ? nn : -2;
    }
    for (int i = 0; i < nn; i++) {
        rf_node *n = &g->nodes[i];
        if (!rf__backend_supports(g->be, n)) {
            const rf_type_traits *tr = n->src[0] ? rf_type_get(n->src[0]->type) : NULL;
            st = rf__err(err, RF_ERR_UNSUPPORTED, "backend %s does not support %s on '%s' (%s)",
                         g->be->iface->name, rf__op_name(n->op), n->src[0] ? n->src[0]->name : "",
                         tr ? tr->name : "?");
            goto out;
        }
        rf_tensor *ts[RF_MAX_SRC + 1] = {n->dst};
        for (int s = 0; s < RF_MAX_SRC; s++) ts[s + 1] = n->src[s];
        for (int s = 0; s <= RF_MAX_SRC; s++) {
            if (!ts[s] || ts[s]->id < 0) continue;
            rf_tensor *r = root_of(ts[s]);
            if (r->id < 0 || !planned(r)) continue;
            if (first[r->id] > i) first[r->id] = i;
            if (last[r->id] < i) last[r->id] = i;
        }
    }
    /* inputs first (live for the whole graph), then node by node */
    for (int i = 0; i < nt; i++) {
        rf_tensor *t = g->tensors[i];
        if (planned(t) && first[i] == -1) {
            plan_alloc(&pl, rf__tensor_nbytes(t), &offs[i]);
            last[i] = nn;
        }
    }
    for (int k = 0; k < nn; k++) {
        for (int i = 0; i < nt; i++)
            if (planned(g->tensors[i]) && first[i] == k) plan_alloc(&pl, rf__tensor_nbytes(g->tensors[i]), &offs[i]);
        for (int i = 0; i < nt; i++)
            if (planned(g->tensors[i]) && last[i] == k && first[i] <= k &&
                !plan_free(&pl, offs[i], rf__tensor_nbytes(g->tensors[i]))) {
                st = rf__err(err, RF_ERR_NOMEM, "graph planning: out of memory");
                goto out;
            }
    }
    g->act_size = pl.top ? pl.top : RF_BUFFER_ALIGN;
    st = rf__buffer_alloc(g->be, g->act_size, &g->act, err);
    if (st != RF_OK) goto out;
    for (int i = 0; i < nt; i++) {
        rf_tensor *t = g->tensors[i];
        if (planned(t)) {
            t->buf = g->act;
            t->offs = offs[i];
        }
    }
    for (int i = 0; i < nt; i++) {
        rf_tensor *t = g->tensors[i];
        if (t->view_src && !(t->flags & RF_TF_EXTERNAL)) {
            t->buf = t->view_src->buf;
            t->offs = t->view_src->offs + t->view_offs;
        }
    }
    g->allocated = true;
    if (g->be->iface->graph_prepare) st = g->be->iface->graph_prepare(g->be, g, err);
out:
    rf__free(first);
    rf__free(last);
    rf__free(offs);
    rf__free(pl.free);
    return st;
}

rf_status rf__graph_compute(rf_graph *g, rf_err *err) {
    if (!g->allocated) return rf__err(err, RF_ERR_INTERNAL, "graph computed before allocation");
    return g->be->iface->graph_compute(g->be, g, err);
}
