/*
 * backend.h - the compute backend interface and the op graph models are
 * written in.
 *
 * A backend owns memory (buffers) and runs ops. Models never touch memory
 * directly: they describe one forward step as a FIXED list of ops (a graph)
 * over tensors that live in backend buffers, built once per batch size and
 * replayed for every step of that size. Everything that changes from step to
 * step (token ids, positions) lives in input tensors whose contents are
 * uploaded before a replay, never in the op list, so a GPU backend may capture
 * a decode step once (HIP/CUDA graph) and replay it per token.
 *
 *   model code                 graph.c                    backend
 *   ----------                 -------                    -------
 *   rf__g_matmul(g, W, x) ---> node {MATMUL, dst, src} --> iface.op[MATMUL]
 *   rf__graph_alloc(g)    ---> plans every intermediate    buffer_alloc (one
 *                              tensor into one activation  buffer per graph)
 *                              buffer (liveness reuse)
 *   rf__graph_compute(g)  -------------------------------> graph_compute
 *
 * Tensor layout follows ggml: ne[0] is the innermost (contiguous) dimension,
 * nb[] are byte strides. An activation "[n_tokens x n]" has ne = {n, n_tokens}.
 * A weight matrix with n_out rows of n_in values has ne = {n_in, n_out}.
 */
#ifndef RF_BACKEND_H
#define RF_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "quant/quant.h"

#define RF_MAX_DIMS 4
#define RF_MAX_SRC 5
#define RF_TENSOR_NAME_MAX 48
#define RF_BUFFER_ALIGN 64

typedef struct rf_backend rf_backend;
typedef struct rf_graph rf_graph;

/* ---- buffers ----------------------------------------------------------------
 * A region of backend memory. `host` is non-NULL when the CPU can address it
 * directly (always on the CPU backend). `external` buffers wrap memory the
 * backend does not own (a memory-mapped model file) and are not freed by it. */
typedef struct rf_buffer {
    rf_backend *backend;
    void *host;          /* CPU-addressable base, or NULL */
    size_t size;
    bool external;
    void *impl;          /* backend-specific handle (device pointer, ...) */
} rf_buffer;

/* ---- tensors ---------------------------------------------------------------- */
enum {
    RF_TF_INPUT = 1 << 0,    /* written from the host before each compute */
    RF_TF_OUTPUT = 1 << 1,   /* read by the host after compute: kept alive to the end */
    RF_TF_EXTERNAL = 1 << 2, /* memory not planned by the graph (weights, KV cache) */
};

typedef struct rf_tensor {
    rf_buffer *buf;          /* NULL until the graph is allocated (planned tensors) */
    size_t offs;             /* byte offset in buf */
    rf_type type;
    int64_t ne[RF_MAX_DIMS]; /* unused dims are 1 */
    size_t nb[RF_MAX_DIMS];  /* byte strides; nb[0] = type size for non-block types */
    struct rf_tensor *view_src; /* for views: the tensor whose memory this one shares */
    size_t view_offs;        /* byte offset inside view_src */
    uint32_t flags;          /* RF_TF_* */
    int32_t id;              /* index in its graph, -1 for external tensors */
    char name[RF_TENSOR_NAME_MAX];
} rf_tensor;

int64_t rf__tensor_nelements(const rf_tensor *t);
int64_t rf__tensor_nrows(const rf_tensor *t);     /* ne[1]*ne[2]*ne[3] */
size_t rf__tensor_nbytes(const rf_tensor *t);     /* span covered, from strides */
bool rf__tensor_is_contiguous(const rf_tensor *t);
/* Host address of the first element, or NULL if not host-visible. */
static inline void *rf__tensor_data(const rf_tensor *t) {
    return (t && t->buf && t->buf->host) ? (char *)t->buf->host + t->offs : NULL;
}
/* Fills in contiguous strides for t->type and t->ne. False if a row is not a
 * whole number of blocks or the size overflows. */
bool rf__tensor_set_contiguous(rf_tensor *t);
/* An external tensor over (buf, offs): weights, KV cache, test inputs. */
void rf__tensor_init_external(rf_tensor *t, rf_buffer *buf, size_t offs, rf_type type,
                              int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3,
                              const char *name);

/* ---- ops ---------------------------------------------------------------------
 * src[] and params per op; "row" = ne[0] values, f32 unless said otherwise.
 * Every op writes only dst. All src/dst of f32 type are contiguous in rows
 * (nb[0] = 4) unless noted. */
typedef enum rf_op {
    RF_OP_NONE = 0,
    RF_OP_GET_ROWS,   /* dst[n, t] = to_f32(src0[:, src1[t]]): src0 any type [n, rows], src1 I32 [t] */
    RF_OP_RMS_NORM,   /* dst = x / sqrt(mean(x^2) + eps) (* src1 row weight if given) */
    RF_OP_LAYER_NORM, /* dst = (x - mean) / sqrt(var + eps) (* src1) (+ src2) */
    RF_OP_MATMUL,     /* dst[o, t] = dot(src0 row o, src1 row t) (+ src2[o, t] if given);
                         src0 any type with a CPU dot / kernel, [n_in, n_out];
                         src1 [n_in, n_tok]; dst [n_out, n_tok] */
    RF_OP_MATMUL_ID,  /* MoE: dst[o, e, t] = dot(src0[:, o, src2[e, t]], src1[:, e or 0, t]);
                         src0 [n_in, n_out, n_expert], src1 [n_in, 1 or n_used, n_tok],
                         src2 I32 [n_used, n_tok]; dst [n_out, n_used, n_tok] */
    RF_OP_ADD,        /* dst = src0 + src1; src1 is broadcast when it has one row, or one
                         value per row (ne[0] == 1, same rows) */
    RF_OP_MUL,        /* dst = src0 * src1 (same broadcasts) */
    RF_OP_SCALE,      /* dst = src0 * p.scale.s + p.scale.b */
    RF_OP_SWIGLU,     /* dst = silu(src0) * src1 */
    RF_OP_GEGLU,      /* dst = gelu_tanh(src0) * src1 */
    RF_OP_ROPE,       /* rotary embedding of src0 [head_dim, n_head, n_tok] at positions
                         src1 I32 [n_tok]; src2 optional freq factors f32 [n_dims/2] */
    RF_OP_KV_STORE,   /* dst (cache [row, n_ctx], f16 or f32) row src1[t] = src0 row t */
    RF_OP_ATTENTION,  /* dst [hd_v*n_head, n_tok] = softmax(scale * capped(q.K)) V over the
                         cache rows each token may see: src0 q [hd_k, n_head, n_tok],
                         src1 K cache [hd_k*n_head_kv, n_ctx], src2 V cache
                         [hd_v*n_head_kv, n_ctx], src3 positions I32 [n_tok];
                         token t sees cache rows j <= pos[t] (and pos[t]-j < window);
                         optional src4 sinks f32 [n_head]: one more logit per head that
                         takes part in the softmax normalisation only (gpt-oss) */
    RF_OP_SOFTMAX,    /* dst = softmax(src0 * p.softmax.scale) per row */
    RF_OP_ARGMAX,     /* dst I32 [n_rows] = index of the row maximum (first on ties) */
    RF_OP_TOPK,       /* dst I32 [k, n_rows] = indices of the k largest per row, descending */
    RF_OP_TAKE,       /* dst[k, t] = src0[src1[k, t], t]: gathers routing weights */
    RF_OP_COPY,       /* dst = src0 converted to dst->type (F32/F16), rows contiguous */
    RF_OP_SOFTCAP,    /* dst = p.scale.s * tanh(src0 / p.scale.s) (logit soft-capping) */
    RF_OP_SWIGLU_OAI, /* gpt-oss gate: x = min(src0, limit), y = clamp(src1, -limit, limit),
                         dst = x * sigmoid(p.glu.alpha * x) * (y + 1) */
    RF_OP_ATTN_TEMP,  /* position-dependent query scale (Llama 4 / Ministral 3): dst f32
                         [1, n_tok] = 1 + p.temp.scale * log(floor(src0[t] / p.temp.floor) + 1),
                         src0 positions I32 [n_tok] */
    RF_OP_SUM_NORM,   /* dst = src0 / max(sum of the src0 row, p.norm.eps) (routing weights) */
    RF_OP_COUNT
} rf_op;

const char *rf__op_name(rf_op op);

enum { RF_ROPE_NORMAL = 0, RF_ROPE_NEOX = 2 }; /* ggml's mode numbers */

/* Rotary embedding, computed exactly as ggml does (ggml_rope_ext):
 *   theta_i = pos * base^(-2i/n_dims) / freq_factor[i]
 *   then YaRN mixing of interpolated (freq_scale) and extrapolated angles
 *   with ramp over [corr_low, corr_high] when ext_factor != 0. */
typedef struct rf_rope_params {
    int32_t n_dims;        /* rotated dims (<= head_dim); the rest pass through */
    int32_t mode;          /* RF_ROPE_NORMAL (adjacent pairs) or RF_ROPE_NEOX (halves) */
    int32_t n_ctx_orig;    /* training context for YaRN correction dims */
    float freq_base;
    float freq_scale;      /* 1/scaling factor for linear and YaRN, else 1 */
    float ext_factor;      /* YaRN extrapolation mix (0 = off) */
    float attn_factor;     /* magnitude scale */
    float beta_fast, beta_slow;
} rf_rope_params;

typedef struct rf_attn_params {
    int32_t n_head, n_head_kv;  /* GQA: head h reads kv head h / (n_head / n_head_kv) */
    int32_t head_dim_k, head_dim_v;
    int32_t window;        /* sliding window (0 = full causal) */
    float scale;           /* applied to q.k after the softcap (ggml order) */
    float softcap;         /* 0 = none; else s = softcap * tanh(s / softcap) */
} rf_attn_params;

typedef union rf_op_params {
    struct { float eps; } norm;
    struct { float s, b; } scale;
    struct { float scale; } softmax;
    struct { int32_t k; } topk;
    struct { float alpha, limit; } glu;
    struct { float scale, floor; } temp;
    rf_rope_params rope;
    rf_attn_params attn;
} rf_op_params;

typedef struct rf_node {
    rf_op op;
    rf_tensor *dst;
    rf_tensor *src[RF_MAX_SRC];
    rf_op_params p;
} rf_node;

/* ---- backend interface ---------------------------------------------------- */
/* Executes one node. `exec` is backend-specific execution state (the CPU
 * backend passes its thread index/count and scratch; a GPU backend its
 * stream). */
typedef void (*rf_op_fn)(rf_backend *be, const rf_node *node, void *exec);

typedef struct rf_backend_iface {
    const char *name;                        /* "cpu", "hip", "cuda" */
    void (*free)(rf_backend *be);

    /* buffers */
    rf_status (*buffer_alloc)(rf_backend *be, size_t size, rf_buffer **out, rf_err *err);
    /* OPTIONAL: use host memory in place (CPU: weights straight from the
     * mapping). When NULL, callers allocate and upload instead. */
    rf_status (*buffer_wrap_host)(rf_backend *be, void *ptr, size_t size, rf_buffer **out,
                                  rf_err *err);
    void (*buffer_free)(rf_buffer *buf);     /* NULL is a no-op */
    rf_status (*buffer_upload)(rf_buffer *buf, size_t offs, const void *src, size_t n,
                               rf_err *err);
    rf_status (*buffer_download)(const rf_buffer *buf, size_t offs, void *dst, size_t n,
                                 rf_err *err);
    /* OPTIONAL: fill with a byte value (defaults to upload of a host block) */
    rf_status (*buffer_memset)(rf_buffer *buf, size_t offs, int value, size_t n, rf_err *err);

    /* ops: NULL = not implemented by this backend (reported, never faked).
     * supports_op narrows further (type combinations); OPTIONAL, NULL means
     * "every op with a non-NULL entry, any types". */
    rf_op_fn op[RF_OP_COUNT];
    bool (*supports_op)(rf_backend *be, const rf_node *node);

    /* graphs */
    /* OPTIONAL: called once after a graph is allocated (scratch sizing, capture). */
    rf_status (*graph_prepare)(rf_backend *be, rf_graph *g, rf_err *err);
    /* Runs every node in order; inputs were uploaded before. Synchronous. */
    rf_status (*graph_compute)(rf_backend *be, rf_graph *g, rf_err *err);
    /* OPTIONAL: releases what graph_prepare made. */
    void (*graph_release)(rf_backend *be, rf_graph *g);

    /* OPTIONAL: thread count for host-side work. */
    void (*set_n_threads)(rf_backend *be, int n_threads);
} rf_backend_iface;

struct rf_backend {
    const rf_backend_iface *iface;
    void *impl;
};

/* Convenience wrappers (check for NULL members). */
rf_status rf__buffer_alloc(rf_backend *be, size_t size, rf_buffer **out, rf_err *err);
void rf__buffer_free(rf_buffer *buf);
rf_status rf__tensor_upload(rf_tensor *t, const void *src, size_t n, rf_err *err);
rf_status rf__tensor_download(const rf_tensor *t, void *dst, size_t n, rf_err *err);
bool rf__backend_supports(rf_backend *be, const rf_node *node);
void rf__backend_free(rf_backend *be); /* NULL is a no-op */

/* The CPU backend: n_threads <= 0 picks the number of online CPUs. */
rf_status rf__cpu_backend_create(int n_threads, rf_backend **out, rf_err *err);

/* ---- graphs ----------------------------------------------------------------
 * Build: create, call rf__g_* builders (they never fail individually; the
 * first error is latched and reported by rf__graph_alloc), mark outputs,
 * then rf__graph_alloc plans every intermediate tensor into one activation
 * buffer, reusing memory once a tensor is dead, and lets the backend prepare.
 * Replay: upload inputs, rf__graph_compute, read outputs. Free with
 * rf__graph_free (also frees the activation buffer and every tensor the graph
 * created; external tensors stay with their owners). */
struct rf_graph {
    rf_backend *be;
    rf_node *nodes;
    int n_nodes, cap_nodes;
    rf_tensor **tensors;     /* created by this graph, owned */
    int n_tensors, cap_tensors;
    rf_buffer *act;          /* activation buffer (after alloc) */
    size_t act_size;
    void *backend_data;      /* owned by the backend (graph_prepare/graph_release) */
    bool allocated;
    rf_err err;              /* first build error */
};

rf_status rf__graph_create(rf_backend *be, rf_graph **out, rf_err *err);
void rf__graph_free(rf_graph *g);
rf_status rf__graph_alloc(rf_graph *g, rf_err *err);
rf_status rf__graph_compute(rf_graph *g, rf_err *err);

/* Tensors of the graph. */
rf_tensor *rf__g_new(rf_graph *g, rf_type type, int64_t ne0, int64_t ne1, int64_t ne2,
                     int64_t ne3);
rf_tensor *rf__g_input(rf_graph *g, rf_type type, int64_t ne0, int64_t ne1, const char *name);
void rf__g_set_output(rf_graph *g, rf_tensor *t);
void rf__g_set_name(rf_tensor *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A view sharing t's memory: shape ne0..ne3 with strides nb1..nb3 (nb0 the
 * element size), starting `offs` bytes into t. */
rf_tensor *rf__g_view(rf_graph *g, rf_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2,
                      int64_t ne3, size_t nb1, size_t nb2, size_t nb3, size_t offs);
/* Contiguous reshape (same element count). */
rf_tensor *rf__g_reshape(rf_graph *g, rf_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2,
                         int64_t ne3);
/* Rows [row0, row0+n) of a 2-D tensor. */
rf_tensor *rf__g_rows(rf_graph *g, rf_tensor *t, int64_t row0, int64_t n);

/* Op builders: each appends one node and returns its destination. */
rf_tensor *rf__g_get_rows(rf_graph *g, rf_tensor *table, rf_tensor *ids);
rf_tensor *rf__g_rms_norm(rf_graph *g, rf_tensor *x, rf_tensor *w, float eps);
rf_tensor *rf__g_layer_norm(rf_graph *g, rf_tensor *x, rf_tensor *w, rf_tensor *b, float eps);
rf_tensor *rf__g_matmul(rf_graph *g, rf_tensor *w, rf_tensor *x);
/* w.x + res (fused residual add); res may be the tensor written (in place). */
rf_tensor *rf__g_matmul_add(rf_graph *g, rf_tensor *w, rf_tensor *x, rf_tensor *res);
rf_tensor *rf__g_matmul_id(rf_graph *g, rf_tensor *w, rf_tensor *x, rf_tensor *ids);
rf_tensor *rf__g_add(rf_graph *g, rf_tensor *a, rf_tensor *b);
rf_tensor *rf__g_mul(rf_graph *g, rf_tensor *a, rf_tensor *b);
rf_tensor *rf__g_scale(rf_graph *g, rf_tensor *a, float s);
rf_tensor *rf__g_swiglu(rf_graph *g, rf_tensor *gate, rf_tensor *up);
rf_tensor *rf__g_geglu(rf_graph *g, rf_tensor *gate, rf_tensor *up);
/* Returns a new contiguous tensor of x's shape. */
rf_tensor *rf__g_rope(rf_graph *g, rf_tensor *x, rf_tensor *pos, rf_tensor *freq_factors,
                      const rf_rope_params *p);
/* Appends a KV_STORE node (no new tensor): cache rows pos[t] = x rows. */
void rf__g_kv_store(rf_graph *g, rf_tensor *cache, rf_tensor *x, rf_tensor *pos);
rf_tensor *rf__g_attention(rf_graph *g, rf_tensor *q, rf_tensor *k_cache, rf_tensor *v_cache,
                           rf_tensor *pos, const rf_attn_params *p);
rf_tensor *rf__g_softmax(rf_graph *g, rf_tensor *x, float scale);
rf_tensor *rf__g_argmax(rf_graph *g, rf_tensor *x);
rf_tensor *rf__g_topk(rf_graph *g, rf_tensor *x, int k);
rf_tensor *rf__g_take(rf_graph *g, rf_tensor *x, rf_tensor *ids);
rf_tensor *rf__g_copy(rf_graph *g, rf_tensor *x, rf_type type);
rf_tensor *rf__g_softcap(rf_graph *g, rf_tensor *x, float cap);
rf_tensor *rf__g_swiglu_oai(rf_graph *g, rf_tensor *gate, rf_tensor *up, float alpha, float limit);
rf_tensor *rf__g_attn_temp(rf_graph *g, rf_tensor *pos, float scale, float floor_scale);
rf_tensor *rf__g_sum_norm(rf_graph *g, rf_tensor *x, float min_sum);
/* rf__g_attention with attention sinks (f32 [n_head]; NULL = none). */
rf_tensor *rf__g_attention_sinks(rf_graph *g, rf_tensor *q, rf_tensor *k_cache, rf_tensor *v_cache,
                                 rf_tensor *pos, rf_tensor *sinks, const rf_attn_params *p);

/* Appends a node with an explicit destination (for backends tests and
 * in-place variants); returns dst. */
rf_tensor *rf__g_op(rf_graph *g, rf_op op, rf_tensor *dst, rf_tensor *const *src, int n_src,
                    const rf_op_params *p);

/* ---- rope helpers shared by every backend (ggml's YaRN formulas) ---------- */
void rf__rope_corr_dims(int n_dims, int n_ctx_orig, float freq_base, float beta_fast,
                        float beta_slow, float dims[2]);

#endif /* RF_BACKEND_H */
