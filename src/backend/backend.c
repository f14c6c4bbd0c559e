/* backend.c - tensor helpers and the thin wrappers over the backend table. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"

static const char *const op_names[RF_OP_COUNT] = {
    [RF_OP_NONE] = "NONE",         [RF_OP_GET_ROWS] = "GET_ROWS",
    [RF_OP_RMS_NORM] = "RMS_NORM", [RF_OP_LAYER_NORM] = "LAYER_NORM",
    [RF_OP_MATMUL] = "MATMUL",     [RF_OP_MATMUL_ID] = "MATMUL_ID",
    [RF_OP_ADD] = "ADD",           [RF_OP_MUL] = "MUL",
    [RF_OP_SCALE] = "SCALE",       [RF_OP_SWIGLU] = "SWIGLU",
    [RF_OP_GEGLU] = "GEGLU",       [RF_OP_ROPE] = "ROPE",
    [RF_OP_KV_STORE] = "KV_STORE", [RF_OP_ATTENTION] = "ATTENTION",
    [RF_OP_SOFTMAX] = "SOFTMAX",   [RF_OP_ARGMAX] = "ARGMAX",
    [RF_OP_TOPK] = "TOPK",         [RF_OP_TAKE] = "TAKE",
    [RF_OP_COPY] = "COPY",         [RF_OP_SOFTCAP] = "SOFTCAP",
    [RF_OP_SWIGLU_OAI] = "SWIGLU_OAI", [RF_OP_ATTN_TEMP] = "ATTN_TEMP",
    [RF_OP_SUM_NORM] = "SUM_NORM",
};

const char *rf__op_name(rf_op op) {
    return (op >= 0 && op < RF_OP_COUNT && op_names[op]) ? op_names[op] : "?";
}

/* ---- tensors ---- */

int64_t rf__tensor_nelements(const rf_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

int64_t rf__tensor_nrows(const rf_tensor *t) { return t->ne[1] * t->ne[2] * t->ne[3]; }

size_t rf__tensor_nbytes(const rf_tensor *t) {
    const rf_type_traits *tr = rf_type_get(t->type);
    if (!tr) return 0;
    for (int i = 0; i < RF_MAX_DIMS; i++)
        if (t->ne[i] <= 0) return 0;
    size_t n = (size_t)(t->ne[0] / tr->block_size) * tr->type_size;
    for (int i = 1; i < RF_MAX_DIMS; i++) n += (size_t)(t->ne[i] - 1) * t->nb[i];
    return n;
}

bool rf__tensor_set_contiguous(rf_tensor *t) {
    const rf_type_traits *tr = rf_type_get(t->type);
    if (!tr || t->ne[0] <= 0 || t->ne[0] % tr->block_size) return false;
    uint64_t row = (uint64_t)(t->ne[0] / tr->block_size) * tr->type_size, acc = row;
    t->nb[0] = tr->type_size;
    t->nb[1] = row;
    for (int i = 2; i < RF_MAX_DIMS; i++) {
        if (t->ne[i - 1] <= 0 || !rf__mul_ok(acc, (uint64_t)t->ne[i - 1], &acc)) return false;
        t->nb[i] = acc;
    }
    uint64_t total;
    if (t->ne[3] <= 0 || !rf__mul_ok(acc, (uint64_t)t->ne[3], &total) || total > SIZE_MAX / 2)
        return false;
    return true;
}

bool rf__tensor_is_contiguous(const rf_tensor *t) {
    rf_tensor c = *t;
    if (!rf__tensor_set_contiguous(&c)) return false;
    for (int i = 0; i < RF_MAX_DIMS; i++)
        if (t->ne[i] > 1 && c.nb[i] != t->nb[i]) return false;
    return t->nb[0] == c.nb[0];
}

void rf__tensor_init_external(rf_tensor *t, rf_buffer *buf, size_t offs, rf_type type,
                              int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3,
                              const char *name) {
    memset(t, 0, sizeof *t);
    t->buf = buf;
    t->offs = offs;
    t->type = type;
    t->ne[0] = ne0; t->ne[1] = ne1; t->ne[2] = ne2; t->ne[3] = ne3;
    t->flags = RF_TF_EXTERNAL;
    t->id = -1;
    (void)rf__tensor_set_contiguous(t);
    if (name) snprintf(t->name, sizeof t->name, "%s", name);
}

/* ---- backend wrappers ---- */

rf_status rf__buffer_alloc(rf_backend *be, size_t size, rf_buffer **out, rf_err *err) {
    *out = NULL;
    if (!be || !be->iface->buffer_alloc) return rf__err(err, RF_ERR_INVALID_ARG, "no backend");
    return be->iface->buffer_alloc(be, size, out, err);
}

void rf__buffer_free(rf_buffer *buf) {
    if (buf && buf->backend) buf->backend->iface->buffer_free(buf);
}

rf_status rf__tensor_upload(rf_tensor *t, const void *src, size_t n, rf_err *err) {
    if (!t || !t->buf) return rf__err(err, RF_ERR_INTERNAL, "upload to an unallocated tensor");
    if (n > rf__tensor_nbytes(t))
        return rf__err(err, RF_ERR_INTERNAL, "upload of %zu bytes into tensor '%s' of %zu", n,
                       t->name, rf__tensor_nbytes(t));
    return t->buf->backend->iface->buffer_upload(t->buf, t->offs, src, n, err);
}

rf_status rf__tensor_download(const rf_tensor *t, void *dst, size_t n, rf_err *err) {
    if (!t || !t->buf) return rf__err(err, RF_ERR_INTERNAL, "download from an unallocated tensor");
    if (n > rf__tensor_nbytes(t))
        return rf__err(err, RF_ERR_INTERNAL, "download of %zu bytes from tensor '%s' of %zu", n,
                       t->name, rf__tensor_nbytes(t));
    return t->buf->backend->iface->buffer_download(t->buf, t->offs, dst, n, err);
}

bool rf__backend_supports(rf_backend *be, const rf_node *node) {
    if (node->op <= RF_OP_NONE || node->op >= RF_OP_COUNT || !be->iface->op[node->op])
        return false;
    return be->iface->supports_op ? be->iface->supports_op(be, node) : true;
}

void rf__backend_free(rf_backend *be) {
    if (be) be->iface->free(be);
}

/* ---- rope: ggml's YaRN correction dimensions ---- */

static float corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
    return n_dims * logf(n_ctx_orig / (n_rot * 2 * (float)M_PI)) / (2 * logf(base));
}

void rf__rope_corr_dims(int n_dims, int n_ctx_orig, float freq_base, float beta_fast,
                        float beta_slow, float dims[2]) {
    float start = floorf(corr_dim(n_dims, n_ctx_orig, beta_fast, freq_base));
    float end = ceilf(corr_dim(n_dims, n_ctx_orig, beta_slow, freq_base));
    dims[0] = start > 0 ? start : 0;
    dims[1] = end < n_dims - 1 ? end : (float)(n_dims - 1);
}
