/*
 * cpu_backend.c - the CPU backend: host buffers (weights used in place from
 * the mapping), the op table and the graph executor.
 *
 * graph_prepare sizes one scratch area for the graph (the largest shared +
 * per-thread need of any node) and one work counter per node. graph_compute
 * runs a pool task in which every thread walks the node list, executing its
 * share of each node, with a barrier between nodes.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu.h"

typedef struct cpu_backend {
    rf_backend base;
    rf_cpu_pool *pool;
    int n_threads;
} cpu_backend;

typedef struct cpu_graph {
    uint8_t *scratch;        /* aligned allocation */
    void *scratch_raw;
    size_t shared_size, per_thread_size;
    int scratch_threads;
    atomic_int *counters;    /* one per node */
    uint8_t *flags;          /* per node: NODE_NO_SYNC, NODE_REUSE_ACT */
} cpu_graph;

enum {
    NODE_NO_SYNC = 1,   /* the next node does not depend on this one: no barrier */
    NODE_REUSE_ACT = 2, /* MATMUL reusing the previous node's converted input */
};

/* ---- buffers ---- */

static rf_status buffer_alloc(rf_backend *be, size_t size, rf_buffer **out, rf_err *err) {
    *out = NULL;
    rf_buffer *b = rf__calloc(1, sizeof *b);
    size_t total;
    if (!b || __builtin_add_overflow(size, (size_t)RF_BUFFER_ALIGN, &total)) {
        rf__free(b);
        return rf__err(err, RF_ERR_NOMEM, "cpu: cannot allocate a buffer of %zu bytes", size);
    }
    void *raw = rf__malloc(total);
    if (!raw) {
        rf__free(b);
        return rf__err(err, RF_ERR_NOMEM, "cpu: cannot allocate a buffer of %zu bytes", size);
    }
    b->backend = be;
    b->impl = raw;
    b->host = (void *)(((uintptr_t)raw + RF_BUFFER_ALIGN - 1) & ~(uintptr_t)(RF_BUFFER_ALIGN - 1));
    b->size = size;
    *out = b;
    return RF_OK;
}

static rf_status buffer_wrap_host(rf_backend *be, void *ptr, size_t size, rf_buffer **out,
                                  rf_err *err) {
    *out = NULL;
    rf_buffer *b = rf__calloc(1, sizeof *b);
    if (!b) return rf__err(err, RF_ERR_NOMEM, "cpu: out of memory");
    b->backend = be;
    b->host = ptr;
    b->size = size;
    b->external = true;
    *out = b;
    return RF_OK;
}

static void buffer_free(rf_buffer *b) {
    if (!b) return;
    if (!b->external) rf__free(b->impl);
    rf__free(b);
}

static rf_status buffer_upload(rf_buffer *b, size_t offs, const void *src, size_t n, rf_err *err) {
    if (offs > b->size || n > b->size - offs)
        return rf__err(err, RF_ERR_RANGE, "cpu: upload past the end of a buffer");
    if (n) memcpy((char *)b->host + offs, src, n);
    return RF_OK;
}

static rf_status buffer_download(const rf_buffer *b, size_t offs, void *dst, size_t n,
                                 rf_err *err) {
    if (offs > b->size || n > b->size - offs)
        return rf__err(err, RF_ERR_RANGE, "cpu: download past the end of a buffer");
    if (n) memcpy(dst, (const char *)b->host + offs, n);
    return RF_OK;
}

static rf_status buffer_memset(rf_buffer *b, size_t offs, int value, size_t n, rf_err *err) {
    if (offs > b->size || n > b->size - offs)
        return rf__err(err, RF_ERR_RANGE, "cpu: memset past the end of a buffer");
    memset((char *)b->host + offs, value, n);
    return RF_OK;
}

/* ---- ops ---- */

static bool supports_op(rf_backend *be, const rf_node *n) {
    switch (n->op) {
    case RF_OP_GET_ROWS: {
        const rf_type_traits *tr = rf_type_get(n->src[0]->type);
        return n->src[0]->type == RF_TYPE_F32 || n->src[0]->type == RF_TYPE_F16 ||
               (tr && tr->to_f32);
    }
    case RF_OP_MATMUL:
    case RF_OP_MATMUL_ID:
        return rf__cpu_matmul_supported(n->src[0]->type);
    case RF_OP_COPY:
        return n->src[0]->nb[0] == rf_type_get(n->src[0]->type)->type_size;
    default:
        return true;
    }
}

void rf__cpu_op_work_size(const rf_node *n, size_t *shared, size_t *per_thread) {
    *shared = *per_thread = 0;
    switch (n->op) {
    case RF_OP_MATMUL:
    case RF_OP_MATMUL_ID:
        rf__cpu_matmul_work_size(n, shared, per_thread);
        break;
    case RF_OP_ATTENTION:
        rf__cpu_attention_work_size(n, shared, per_thread);
        break;
    case RF_OP_ROPE:
        *per_thread = (size_t)n->p.rope.n_dims * sizeof(float);
        break;
    default:
        break;
    }
}

/* ---- graphs ---- */

static void graph_release(rf_backend *be, rf_graph *g) {
    cpu_graph *cg = g->backend_data;
    if (!cg) return;
    rf__free(cg->scratch_raw);
    rf__free(cg->counters);
    rf__free(cg->flags);
    rf__free(cg);
    g->backend_data = NULL;
}

/* ---- barriers between nodes ----
 * A barrier after node a is needed unless the next node b is independent of
 * a: b reads nothing a writes, writes nothing a reads or writes (memory the
 * planner reused counts: ranges are compared), and b does not overwrite the
 * shared scratch a may still read (a MATMUL converting its input there);
 * consecutive matrix products of the same input (Q/K/V, gate/up) share one
 * conversion and run without barriers between them. */

static bool overlap(const rf_tensor *x, const rf_tensor *y) {
    if (!x || !y || x->buf != y->buf) return false;
    size_t xe = x->offs + rf__tensor_nbytes(x), ye = y->offs + rf__tensor_nbytes(y);
    return x->offs < ye && y->offs < xe;
}

static bool uses_shared(const rf_node *n) {
    size_t sh, pt;
    rf__cpu_op_work_size(n, &sh, &pt);
    return sh > 0;
}

static bool independent(const rf_node *a, const rf_node *b, bool b_reuses) {
    for (int i = 0; i < RF_MAX_SRC; i++)
        if (b->src[i] && overlap(b->src[i], a->dst)) return false;
    if (overlap(b->dst, a->dst)) return false;
    for (int i = 0; i < RF_MAX_SRC; i++)
        if (a->src[i] && overlap(b->dst, a->src[i])) return false;
    if (uses_shared(b) && !b_reuses) return false;
    return true;
}

/* Nodes between two barriers form a phase; a node joins the running phase
 * only if it is independent of every node already in it. */
static void plan_syncs(rf_graph *g, cpu_graph *cg) {
    int start = 0; /* first node of the running phase */
    for (int i = 1; i < g->n_nodes; i++) {
        const rf_node *b = &g->nodes[i];
        bool reuse = rf__cpu_matmul_same_acts(&g->nodes[i - 1], b);
        bool ok = true;
        for (int k = start; k < i && ok; k++) {
            const rf_node *a = &g->nodes[k];
            ok = independent(a, b, reuse) && !(reuse && overlap(b->src[1], a->dst));
        }
        if (ok) {
            cg->flags[i - 1] |= NODE_NO_SYNC;
            if (reuse) cg->flags[i] |= NODE_REUSE_ACT;
        } else {
            start = i;
        }
    }
}

static rf_status graph_prepare(rf_backend *be, rf_graph *g, rf_err *err) {
    cpu_backend *cb = (cpu_backend *)be;
    cpu_graph *cg = rf__calloc(1, sizeof *cg);
    if (!cg) return rf__err(err, RF_ERR_NOMEM, "cpu: out of memory");
    g->backend_data = cg;
    size_t sh = 0, pt = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        size_t s, p;
        rf__cpu_op_work_size(&g->nodes[i], &s, &p);
        s = (s + RF_BUFFER_ALIGN - 1) & ~(size_t)(RF_BUFFER_ALIGN - 1);
        p = (p + RF_BUFFER_ALIGN - 1) & ~(size_t)(RF_BUFFER_ALIGN - 1);
        if (s > sh) sh = s;
        if (p > pt) pt = p;
    }
    cg->shared_size = sh;
    cg->per_thread_size = pt;
    cg->scratch_threads = cb->n_threads;
    uint64_t total;
    if (!rf__mul_ok(pt, (uint64_t)cb->n_threads, &total) || !rf__add_ok(total, sh, &total) ||
        !rf__add_ok(total, RF_BUFFER_ALIGN, &total) || total > SIZE_MAX / 2)
        return rf__err(err, RF_ERR_NOMEM, "cpu: graph scratch size overflows");
    cg->scratch_raw = rf__malloc((size_t)total);
    cg->counters = rf__calloc((size_t)g->n_nodes + 1, sizeof *cg->counters);
    if (!cg->scratch_raw || !cg->counters)
        return rf__err(err, RF_ERR_NOMEM, "cpu: cannot allocate %llu bytes of graph scratch",
                       (unsigned long long)total);
    cg->scratch = (uint8_t *)(((uintptr_t)cg->scratch_raw + RF_BUFFER_ALIGN - 1) &
                              ~(uintptr_t)(RF_BUFFER_ALIGN - 1));
    cg->flags = rf__calloc((size_t)g->n_nodes + 1, 1);
    if (!cg->flags) return rf__err(err, RF_ERR_NOMEM, "cpu: out of memory");
    plan_syncs(g, cg);
    return RF_OK;
}

typedef struct run_ctx {
    cpu_backend *cb;
    rf_graph *g;
    cpu_graph *cg;
} run_ctx;

static void run_task(void *arg, int ith, int nth) {
    run_ctx *rc = arg;
    rf_graph *g = rc->g;
    cpu_graph *cg = rc->cg;
    rf_cpu_exec ex = {
        .ith = ith,
        .nth = nth,
        .pool = rc->cb->pool,
        .shared = cg->scratch,
        .local = cg->scratch + cg->shared_size + (size_t)ith * cg->per_thread_size,
    };
    const rf_backend_iface *iface = rc->cb->base.iface;
    for (int i = 0; i < g->n_nodes; i++) {
        const rf_node *n = &g->nodes[i];
        ex.counter = &cg->counters[i];
        ex.reuse_act = cg->flags[i] & NODE_REUSE_ACT;
        iface->op[n->op](&rc->cb->base, n, &ex);
        if (i + 1 < g->n_nodes && !(cg->flags[i] & NODE_NO_SYNC)) rf__cpu_barrier(&ex);
    }
}

static rf_status graph_compute(rf_backend *be, rf_graph *g, rf_err *err) {
    cpu_backend *cb = (cpu_backend *)be;
    cpu_graph *cg = g->backend_data;
    if (!cg || cg->scratch_threads < cb->n_threads)
        return rf__err(err, RF_ERR_INTERNAL, "cpu: graph not prepared for %d threads", cb->n_threads);
    for (int i = 0; i < g->n_nodes; i++) atomic_store(&cg->counters[i], 0);
    run_ctx rc = {cb, g, cg};
    rf__cpu_pool_run(cb->pool, run_task, &rc);
    return RF_OK;
}

static void backend_free(rf_backend *be) {
    cpu_backend *cb = (cpu_backend *)be;
    rf__cpu_pool_free(cb->pool);
    rf__free(cb);
}

static const rf_backend_iface cpu_iface = {
    .name = "cpu",
    .free = backend_free,
    .buffer_alloc = buffer_alloc,
    .buffer_wrap_host = buffer_wrap_host,
    .buffer_free = buffer_free,
    .buffer_upload = buffer_upload,
    .buffer_download = buffer_download,
    .buffer_memset = buffer_memset,
    .op = {
        [RF_OP_GET_ROWS] = rf__cpu_op_get_rows,
        [RF_OP_RMS_NORM] = rf__cpu_op_rms_norm,
        [RF_OP_LAYER_NORM] = rf__cpu_op_layer_norm,
        [RF_OP_MATMUL] = rf__cpu_op_matmul,
        [RF_OP_MATMUL_ID] = rf__cpu_op_matmul_id,
        [RF_OP_ADD] = rf__cpu_op_add,
        [RF_OP_MUL] = rf__cpu_op_mul,
        [RF_OP_SCALE] = rf__cpu_op_scale,
        [RF_OP_SWIGLU] = rf__cpu_op_swiglu,
        [RF_OP_GEGLU] = rf__cpu_op_geglu,
        [RF_OP_ROPE] = rf__cpu_op_rope,
        [RF_OP_KV_STORE] = rf__cpu_op_kv_store,
        [RF_OP_ATTENTION] = rf__cpu_op_attention,
        [RF_OP_SOFTMAX] = rf__cpu_op_softmax,
        [RF_OP_ARGMAX] = rf__cpu_op_argmax,
        [RF_OP_TOPK] = rf__cpu_op_topk,
        [RF_OP_TAKE] = rf__cpu_op_take,
        [RF_OP_COPY] = rf__cpu_op_copy,
        [RF_OP_SOFTCAP] = rf__cpu_op_softcap,
        [RF_OP_SWIGLU_OAI] = rf__cpu_op_swiglu_oai,
        [RF_OP_ATTN_TEMP] = rf__cpu_op_attn_temp,
        [RF_OP_SUM_NORM] = rf__cpu_op_sum_norm,
    },
    .supports_op = supports_op,
    .graph_prepare = graph_prepare,
    .graph_compute = graph_compute,
    .graph_release = graph_release,
    .set_n_threads = NULL,
};

rf_status rf__cpu_backend_create(int n_threads, rf_backend **out, rf_err *err) {
    *out = NULL;
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n > 0 ? (int)RF_MIN(n, 64) : 1;
    }
    cpu_backend *cb = rf__calloc(1, sizeof *cb);
    if (!cb) return rf__err(err, RF_ERR_NOMEM, "cpu backend: out of memory");
    cb->base.iface = &cpu_iface;
    cb->base.impl = cb;
    cb->n_threads = n_threads;
    rf_status st = rf__cpu_pool_create(n_threads, &cb->pool, err);
    if (st != RF_OK) {
        rf__free(cb);
        return st;
    }
    *out = &cb->base;
    return RF_OK;
}
