/*
 * engine.h - internal engine objects behind the public API: the loaded model
 * (models/models.h) and an evaluation context (KV cache + replayable graphs).
 */
#ifndef RF_ENGINE_H
#define RF_ENGINE_H

#include "backend/backend.h"
#include "models/models.h"

/* ---- model (model.c) ---- */
typedef struct rf_load_opts {
    int (*progress)(float fraction, void *user); /* nonzero cancels */
    void *user;
    bool prefault;                               /* touch every weight page */
} rf_load_opts;

/* Opens path, finds the architecture, reads hyperparameters and weights.
 * opts may be NULL. *out is freed with rf__model_impl_free. */
rf_status rf__model_impl_load(const char *path, const rf_load_opts *opts, rf_model_impl **out,
                              rf_err *err);
void rf__model_impl_free(rf_model_impl *m);

/* ---- context (context.c) ---- */
#define RF_CTX_GRAPHS 4

typedef struct rf_ctx_graph {
    rf_graph *g;
    int64_t n_tokens;
    bool all_logits;
    rf_tensor *tokens, *pos, *logits;
    uint64_t last_used;
} rf_ctx_graph;

typedef struct rf_ctx_impl {
    rf_model_impl *m;
    rf_backend *be;              /* compute backend of this context */
    uint32_t n_ctx, n_batch;
    int n_threads;
    rf_type kv_type;             /* F16 (default) or F32 */
    rf_buffer *kv_buf;
    rf_tensor *kv;               /* 2 * n_layer: K of layer l at [l], V at [n_layer + l] */
    rf_tensor **k_ptrs, **v_ptrs;
    size_t kv_bytes;
    rf_ctx_graph graphs[RF_CTX_GRAPHS];
    uint64_t tick;
    uint32_t n_past;             /* tokens in the KV cache */
    int32_t *pos_scratch;        /* n_batch positions */
} rf_ctx_impl;

/* n_ctx 0 = min(training context, 4096); n_batch 0 = 512; n_threads <= 0 =
 * all CPUs. kv_type RF_TYPE_F16 or RF_TYPE_F32. */
rf_status rf__ctx_impl_create(rf_model_impl *m, uint32_t n_ctx, uint32_t n_batch, int n_threads,
                              rf_type kv_type, rf_ctx_impl **out, rf_err *err);
void rf__ctx_impl_free(rf_ctx_impl *c);

/* Evaluates n tokens at positions n_past, n_past+1, ... in chunks of n_batch
 * and appends them to the KV cache. logits may be NULL; else it receives the
 * last token's logits (n_vocab floats) or, with all_logits, every token's
 * (n * n_vocab). RF_ERR_CONTEXT_FULL if they do not fit, RF_ERR_RANGE for an
 * id outside the vocabulary (nothing is evaluated then). */
rf_status rf__ctx_eval(rf_ctx_impl *c, const int32_t *tokens, uint32_t n, bool all_logits,
                       float *logits, rf_err *err);
/* Forgets cache positions >= n_past (n_past <= current). */
void rf__ctx_truncate(rf_ctx_impl *c, uint32_t n_past);

#endif /* RF_ENGINE_H */
