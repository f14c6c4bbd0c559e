/*
 * cpu.h - internals of the CPU backend: thread pool, execution state passed
 * to every op, op entry points and small vector helpers.
 *
 * Execution model: one persistent pool of threads (the caller is thread 0).
 * For a graph, every thread walks the whole node list; each op splits its
 * work by the thread index and a barrier separates consecutive nodes. Ops
 * that need a preparatory pass (the matrix product quantizes activations
 * first) call rf__cpu_barrier themselves; every thread must reach the same
 * barriers.
 */
#ifndef RF_CPU_H
#define RF_CPU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"

/* ---- thread pool ---- */
typedef struct rf_cpu_pool rf_cpu_pool;

typedef void (*rf_cpu_task)(void *arg, int ith, int nth);

rf_status rf__cpu_pool_create(int n_threads, rf_cpu_pool **out, rf_err *err);
void rf__cpu_pool_free(rf_cpu_pool *p);
int rf__cpu_pool_size(const rf_cpu_pool *p);
/* Runs task(arg, ith, nth) on every thread (the caller is ith 0); returns
 * when all have finished. */
void rf__cpu_pool_run(rf_cpu_pool *p, rf_cpu_task task, void *arg);
/* Barrier among the threads of the running task. */
void rf__cpu_pool_barrier(rf_cpu_pool *p);

/* ---- execution state ---- */
typedef struct rf_cpu_exec {
    int ith, nth;
    rf_cpu_pool *pool;
    uint8_t *shared;          /* scratch shared by all threads of the node */
    uint8_t *local;           /* this thread's scratch */
    atomic_int *counter;      /* this node's work counter (0 at graph start) */
    bool reuse_act;           /* MATMUL: the previous node left this node's input
                                 already converted in `shared` (same input, same
                                 activation format): skip the conversion */
} rf_cpu_exec;

/* Whether MATMUL node b may reuse the activations node a converted (same
 * input rows, same activation format). */
bool rf__cpu_matmul_same_acts(const rf_node *a, const rf_node *b);

static inline void rf__cpu_barrier(rf_cpu_exec *ex) {
    if (ex->nth > 1) rf__cpu_pool_barrier(ex->pool);
}

/* Scratch a node needs: bytes shared by all threads and bytes per thread. */
void rf__cpu_op_work_size(const rf_node *n, size_t *shared, size_t *per_thread);

/* Work splitting: [*r0, *r1) of n items for thread ith of nth. */
static inline void rf__cpu_split(int64_t n, int ith, int nth, int64_t *r0, int64_t *r1) {
    int64_t per = (n + nth - 1) / nth;
    *r0 = per * ith < n ? per * ith : n;
    *r1 = *r0 + per < n ? *r0 + per : n;
}

/* Address of row r (over dims 1..3) of t. */
static inline char *rf__cpu_row(const rf_tensor *t, int64_t r) {
    int64_t i1 = r % t->ne[1], i2 = (r / t->ne[1]) % t->ne[2], i3 = r / (t->ne[1] * t->ne[2]);
    return (char *)rf__tensor_data(t) + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

/* ---- ops (src/cpu/ops*.c) ---- */
void rf__cpu_op_get_rows(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_rms_norm(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_layer_norm(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_matmul(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_matmul_id(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_add(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_mul(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_scale(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_swiglu(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_geglu(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_rope(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_kv_store(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_attention(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_softmax(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_argmax(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_topk(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_take(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_copy(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_softcap(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_swiglu_oai(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_attn_temp(rf_backend *be, const rf_node *n, void *ex);
void rf__cpu_op_sum_norm(rf_backend *be, const rf_node *n, void *ex);

bool rf__cpu_matmul_supported(rf_type t);
void rf__cpu_matmul_work_size(const rf_node *n, size_t *shared, size_t *per_thread);
void rf__cpu_attention_work_size(const rf_node *n, size_t *shared, size_t *per_thread);

/* ---- vector helpers (src/cpu/vec.c; AVX2/F16C variants chosen at run time) ---- */
typedef struct rf_cpu_vec {
    float (*dot_f32)(int64_t n, const float *a, const float *b);
    float (*dot_f16)(int64_t n, const uint16_t *a, const float *b);   /* a in f16 */
    void (*axpy_f32)(int64_t n, float a, const float *x, float *y);    /* y += a*x */
    void (*axpy_f16)(int64_t n, float a, const uint16_t *x, float *y); /* x in f16 */
    void (*f16_to_f32)(int64_t n, const uint16_t *x, float *y);
    void (*f32_to_f16)(int64_t n, const float *x, uint16_t *y);
    /* q . k for attention in llama.cpp's summation orders (ops_attn.c), k in
     * f16 or f32. batch: 16 lanes over the dims in turn, n % 16 == 0.
     * single: 4 x 16 lanes per 64 dims, the rest added in double. Both
     * return identical bits in every implementation. */
    float (*kq_batch)(int64_t n, const void *k, bool k_f16, const float *q);
    float (*kq_single)(int64_t n, const void *k, bool k_f16, const float *q);
    const char *impl;
} rf_cpu_vec;

const rf_cpu_vec *rf__cpu_vec(void);
const rf_cpu_vec *rf__cpu_vec_scalar(void);
const rf_cpu_vec *rf__cpu_vec_avx2(void); /* NULL where not built */

#endif /* RF_CPU_H */
