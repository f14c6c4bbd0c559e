/*
 * gguf_write.c - GGUF v3 writer (layout as documented in gguf_read.c).
 *
 * Metadata values are kept encoded (u32 type + payload) from the moment they
 * are set, so writing is a sequence of copies. Tensor offsets are assigned at
 * write time: each tensor starts at a multiple of the alignment and is padded
 * with zeros up to the next one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gguf/gguf_internal.h"

typedef struct wkv {
    char *key;
    size_t key_len;
    uint8_t *enc;   /* u32 type followed by the value's encoding */
    size_t enc_len;
} wkv;

typedef struct wtensor {
    char *name;
    size_t name_len;
    rf_type type;
    uint32_t n_dims;
    int64_t ne[RF_GGUF_MAX_DIMS];
    uint64_t nbytes;
    const void *data;
} wtensor;

struct rf_gguf_writer {
    uint32_t alignment;
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
};

/* ---- growable byte buffer for encodings -------------------------------------------- */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
} wbuf;

static void wb_put(wbuf *b, const void *src, size_t n) {
    if (b->failed) return;
    if (n > SIZE_MAX - b->len) { b->failed = true; return; }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) {
            if (cap > SIZE_MAX / 2) { cap = b->len + n; break; }
            cap *= 2;
        }
        uint8_t *q = rf__realloc(b->p, cap);
        if (!q) { b->failed = true; return; }
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void wb_u32(wbuf *b, uint32_t v) { wb_put(b, &v, 4); }
static void wb_u64(wbuf *b, uint64_t v) { wb_put(b, &v, 8); }

/* ---- lifetime ---------------------------------------------------------------------- */

rf_status rf_gguf_writer_create(rf_gguf_writer **out) {
    if (!out) return RF_ERR_INVALID_ARG;
    *out = rf__calloc(1, sizeof **out);
    if (!*out) return RF_ERR_NOMEM;
    (*out)->alignment = RF_GGUF_DEFAULT_ALIGNMENT;
    return RF_OK;
}

void rf_gguf_writer_free(rf_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        rf__free(w->kv[i].key);
        rf__free(w->kv[i].enc);
    }
    for (size_t i = 0; i < w->n_t; i++) rf__free(w->t[i].name);
    rf__free(w->kv);
    rf__free(w->t);
    rf__free(w);
}

/* ---- metadata ---------------------------------------------------------------------- */

static bool valid_name(const char *s, size_t len) {
    rf_str r = {s, len};
    return rf__gguf_check_name(r, "name", 0, NULL) == RF_OK;
}

/* Takes ownership of the encoding in `b` (freed on failure too). */
static rf_status put_kv(rf_gguf_writer *w, const char *key, wbuf *b) {
    rf_status st = RF_OK;
    if (b->failed) { st = RF_ERR_NOMEM; goto fail; }
    size_t klen = strlen(key);
    /* general.alignment also sets the writer's alignment */
    if (klen == 17 && memcmp(key, "general.alignment", 17) == 0) {
        uint32_t t = rf__rd32(b->p);
        uint32_t a = t == RF_GGUF_U32 ? rf__rd32(b->p + 4) : 0;
        if (t != RF_GGUF_U32 || a == 0 || (a & (a - 1)) || a > RF_GGUF_MAX_ALIGNMENT) {
            st = RF_ERR_INVALID_ARG;
            goto fail;
        }
        w->alignment = a;
    }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (w->kv[i].key_len == klen && memcmp(w->kv[i].key, key, klen) == 0) {
            rf__free(w->kv[i].enc);
            w->kv[i].enc = b->p;
            w->kv[i].enc_len = b->len;
            return RF_OK;
        }
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
        wkv *kv = rf__realloc(w->kv, cap * sizeof *kv);
        if (!kv) { st = RF_ERR_NOMEM; goto fail; }
        w->kv = kv;
        w->cap_kv = cap;
    }
    char *k = rf__strndup(key, klen);
    if (!k) { st = RF_ERR_NOMEM; goto fail; }
    w->kv[w->n_kv++] = (wkv){k, klen, b->p, b->len};
    return RF_OK;
fail:
    rf__free(b->p);
    return st;
}

static rf_status set_scalar(rf_gguf_writer *w, const char *key, rf_gguf_vtype t, const void *v, size_t n) {
    if (!w || !key || !valid_name(key, strlen(key))) return RF_ERR_INVALID_ARG;
    wbuf b = {0};
    wb_u32(&b, (uint32_t)t);
    wb_put(&b, v, n);
    return put_kv(w, key, &b);
}

rf_status rf_gguf_writer_set_u32(rf_gguf_writer *w, const char *key, uint32_t v) {
    return set_scalar(w, key, RF_GGUF_U32, &v, 4);
}
rf_status rf_gguf_writer_set_i32(rf_gguf_writer *w, const char *key, int32_t v) {
    return set_scalar(w, key, RF_GGUF_I32, &v, 4);
}
rf_status rf_gguf_writer_set_u64(rf_gguf_writer *w, const char *key, uint64_t v) {
    return set_scalar(w, key, RF_GGUF_U64, &v, 8);
}
rf_status rf_gguf_writer_set_f32(rf_gguf_writer *w, const char *key, float v) {
    return set_scalar(w, key, RF_GGUF_F32, &v, 4);
}
rf_status rf_gguf_writer_set_bool(rf_gguf_writer *w, const char *key, bool v) {
    uint8_t b = v ? 1 : 0;
    return set_scalar(w, key, RF_GGUF_BOOL, &b, 1);
}

rf_status rf_gguf_writer_set_str(rf_gguf_writer *w, const char *key, const char *v) {
    if (!w || !key || !v || !valid_name(key, strlen(key))) return RF_ERR_INVALID_ARG;
    wbuf b = {0};
    size_t n = strlen(v);
    wb_u32(&b, RF_GGUF_STRING);
    wb_u64(&b, n);
    wb_put(&b, v, n);
    return put_kv(w, key, &b);
}

static size_t elem_size(rf_gguf_vtype t) {
    switch (t) {
    case RF_GGUF_U8: case RF_GGUF_I8: case RF_GGUF_BOOL: return 1;
    case RF_GGUF_U16: case RF_GGUF_I16: return 2;
    case RF_GGUF_U32: case RF_GGUF_I32: case RF_GGUF_F32: return 4;
    case RF_GGUF_U64: case RF_GGUF_I64: case RF_GGUF_F64: return 8;
    default: return 0;
    }
}

rf_status rf_gguf_writer_set_arr(rf_gguf_writer *w, const char *key, rf_gguf_vtype elem_type,
                                 const void *data, uint64_t n) {
    size_t es = elem_size(elem_type);
    uint64_t nb;
    if (!w || !key || !valid_name(key, strlen(key)) || !es || (n && !data)) return RF_ERR_INVALID_ARG;
    if (!rf__mul_ok(n, es, &nb) || nb > SIZE_MAX - 16) return RF_ERR_NOMEM;
    wbuf b = {0};
    wb_u32(&b, RF_GGUF_ARRAY);
    wb_u32(&b, (uint32_t)elem_type);
    wb_u64(&b, n);
    wb_put(&b, data, nb);
    return put_kv(w, key, &b);
}

rf_status rf_gguf_writer_set_arr_str(rf_gguf_writer *w, const char *key, const char *const *strs, uint64_t n) {
    if (!w || !key || !valid_name(key, strlen(key)) || (n && !strs)) return RF_ERR_INVALID_ARG;
    for (uint64_t i = 0; i < n; i++)
        if (!strs[i]) return RF_ERR_INVALID_ARG;
    wbuf b = {0};
    wb_u32(&b, RF_GGUF_ARRAY);
    wb_u32(&b, RF_GGUF_STRING);
    wb_u64(&b, n);
    for (uint64_t i = 0; i < n && !b.failed; i++) {
        size_t len = strlen(strs[i]);
        wb_u64(&b, len);
        wb_put(&b, strs[i], len);
    }
    return put_kv(w, key, &b);
}

rf_status rf_gguf_writer_set_value(rf_gguf_writer *w, const char *key, const rf_gguf_value *v) {
    if (!w || !key || !v || !valid_name(key, strlen(key))) return RF_ERR_INVALID_ARG;
    wbuf b = {0};
    wb_u32(&b, (uint32_t)v->type);
    switch (v->type) {
    case RF_GGUF_U8: case RF_GGUF_U16: case RF_GGUF_U32: case RF_GGUF_U64: case RF_GGUF_BOOL: {
        uint64_t u = v->v.u;
        if (v->type == RF_GGUF_BOOL) u = u != 0;
        if (elem_size(v->type) < 8 && (u >> (8 * elem_size(v->type))) != 0) { rf__free(b.p); return RF_ERR_RANGE; }
        wb_put(&b, &u, elem_size(v->type)); /* little-endian: low bytes first */
        break;
    }
    case RF_GGUF_I8: case RF_GGUF_I16: case RF_GGUF_I32: case RF_GGUF_I64: {
        int64_t i = v->v.i;
        size_t bits = 8 * elem_size(v->type);
        if (bits < 64 && (i < -((int64_t)1 << (bits - 1)) || i >= ((int64_t)1 << (bits - 1)))) {
            rf__free(b.p);
            return RF_ERR_RANGE;
        }
        wb_put(&b, &i, elem_size(v->type));
        break;
    }
    case RF_GGUF_F32: { float f = (float)v->v.f; wb_put(&b, &f, 4); break; }
    case RF_GGUF_F64: { double d = v->v.f; wb_put(&b, &d, 8); break; }
    case RF_GGUF_STRING:
        if (v->v.s.len && !v->v.s.ptr) { rf__free(b.p); return RF_ERR_INVALID_ARG; }
        wb_u64(&b, v->v.s.len);
        wb_put(&b, v->v.s.ptr, v->v.s.len);
        break;
    case RF_GGUF_ARRAY: {
        /* check that data/nbytes hold exactly n well-formed elements */
        uint8_t hdr[12];
        uint32_t et = (uint32_t)v->v.arr.elem_type;
        uint64_t n = v->v.arr.n;
        memcpy(hdr, &et, 4);
        memcpy(hdr + 4, &n, 8);
        wb_put(&b, hdr, 12);
        wb_put(&b, v->v.arr.data, v->v.arr.nbytes);
        if (b.failed) { rf__free(b.p); return RF_ERR_NOMEM; }
        if (v->v.arr.nbytes && !v->v.arr.data) { rf__free(b.p); return RF_ERR_INVALID_ARG; }
        const uint8_t *next;
        if (rf__gguf_decode_value(RF_GGUF_ARRAY, b.p + 4, b.p + b.len, b.p, 0, NULL, &next, NULL) != RF_OK ||
            next != b.p + b.len) {
            rf__free(b.p);
            return RF_ERR_INVALID_ARG;
        }
        break;
    }
    default:
        rf__free(b.p);
        return RF_ERR_INVALID_ARG;
    }
    return put_kv(w, key, &b);
}

rf_status rf_gguf_writer_copy_kv(rf_gguf_writer *w, const rf_gguf *src, uint64_t i) {
    if (!w || !src || i >= rf_gguf_n_kv(src)) return RF_ERR_INVALID_ARG;
    rf_str k = rf_gguf_kv_key(src, i);
    char *key = rf__strndup(k.ptr, k.len);
    if (!key) return RF_ERR_NOMEM;
    rf_status st = rf_gguf_writer_set_value(w, key, rf_gguf_kv_value(src, i));
    rf__free(key);
    return st;
}

rf_status rf_gguf_writer_set_alignment(rf_gguf_writer *w, uint32_t alignment) {
    if (!w || alignment == 0 || (alignment & (alignment - 1)) || alignment > RF_GGUF_MAX_ALIGNMENT)
        return RF_ERR_INVALID_ARG;
    return rf_gguf_writer_set_u32(w, "general.alignment", alignment);
}

/* ---- tensors ------------------------------------------------------------------------- */

rf_status rf_gguf_writer_add_tensor(rf_gguf_writer *w, const char *name, rf_type type, uint32_t n_dims,
                                    const int64_t *ne, const void *data) {
    if (!w || !name || !ne || n_dims == 0 || n_dims > RF_GGUF_MAX_DIMS) return RF_ERR_INVALID_ARG;
    size_t nlen = strlen(name);
    if (!valid_name(name, nlen)) return RF_ERR_INVALID_ARG;
    const rf_type_traits *tr = rf_type_get(type);
    if (!tr) return RF_ERR_INVALID_ARG;
    wtensor t = {.type = type, .n_dims = n_dims, .data = data, .name_len = nlen};
    uint64_t rows = 1;
    for (uint32_t d = 0; d < RF_GGUF_MAX_DIMS; d++) {
        t.ne[d] = d < n_dims ? ne[d] : 1;
        if (t.ne[d] <= 0) return RF_ERR_INVALID_ARG;
        if (d > 0 && !rf__mul_ok(rows, (uint64_t)t.ne[d], &rows)) return RF_ERR_RANGE;
    }
    uint64_t row = rf_type_row_size(type, t.ne[0]);
    if (row == 0 || !rf__mul_ok(row, rows, &t.nbytes)) return RF_ERR_INVALID_ARG;
    for (size_t i = 0; i < w->n_t; i++)
        if (w->t[i].name_len == nlen && memcmp(w->t[i].name, name, nlen) == 0) return RF_ERR_INVALID_ARG;
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 16;
        wtensor *a = rf__realloc(w->t, cap * sizeof *a);
        if (!a) return RF_ERR_NOMEM;
        w->t = a;
        w->cap_t = cap;
    }
    t.name = rf__strndup(name, nlen);
    if (!t.name) return RF_ERR_NOMEM;
    w->t[w->n_t++] = t;
    return RF_OK;
}

/* ---- output -------------------------------------------------------------------------- */

static uint64_t pad_to(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* Sizes of the whole file and of the part before the data section. */
static rf_status layout(const rf_gguf_writer *w, uint64_t *head, uint64_t *total, rf_err *err) {
    uint64_t h = 24, d = 0;
    for (size_t i = 0; i < w->n_kv; i++) h += 8 + w->kv[i].key_len + w->kv[i].enc_len;
    for (size_t i = 0; i < w->n_t; i++) h += 8 + w->t[i].name_len + 4 + 8ull * w->t[i].n_dims + 4 + 8;
    h = pad_to(h, w->alignment);
    for (size_t i = 0; i < w->n_t; i++) {
        uint64_t p = pad_to(w->t[i].nbytes, w->alignment);
        if (p < w->t[i].nbytes || !rf__add_ok(d, p, &d))
            return rf__err(err, RF_ERR_RANGE, "tensor data size overflows");
    }
    if (!rf__add_ok(h, d, total)) return rf__err(err, RF_ERR_RANGE, "file size overflows");
    *head = h;
    return RF_OK;
}

static void encode_head(const rf_gguf_writer *w, wbuf *b, uint64_t head) {
    wb_put(b, "GGUF", 4);
    wb_u32(b, 3);
    wb_u64(b, w->n_t);
    wb_u64(b, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        wb_u64(b, w->kv[i].key_len);
        wb_put(b, w->kv[i].key, w->kv[i].key_len);
        wb_put(b, w->kv[i].enc, w->kv[i].enc_len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        wb_u64(b, t->name_len);
        wb_put(b, t->name, t->name_len);
        wb_u32(b, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) wb_u64(b, (uint64_t)t->ne[d]);
        wb_u32(b, (uint32_t)t->type);
        wb_u64(b, off);
        off += pad_to(t->nbytes, w->alignment);
    }
    static const uint8_t zeros[64];
    while (!b->failed && b->len < head) wb_put(b, zeros, RF_MIN(sizeof zeros, head - b->len));
}

static rf_status check_sources(const rf_gguf_writer *w, bool have_producer, rf_err *err) {
    for (size_t i = 0; i < w->n_t; i++)
        if (!w->t[i].data && !have_producer)
            return rf__err(err, RF_ERR_INVALID_ARG, "tensor '%s' has no data and no producer was given", w->t[i].name);
    return RF_OK;
}

rf_status rf_gguf_writer_write_buffer(rf_gguf_writer *w, void **buf, size_t *size, rf_err *err) {
    rf_status st;
    uint64_t head, total;
    if (!w || !buf || !size) return rf__err(err, RF_ERR_INVALID_ARG, "rf_gguf_writer_write_buffer: NULL argument");
    *buf = NULL;
    *size = 0;
    if ((st = check_sources(w, false, err))) return st;
    if ((st = layout(w, &head, &total, err))) return st;
    if (total > SIZE_MAX) return rf__err(err, RF_ERR_NOMEM, "file of %llu bytes does not fit in memory",
                                         (unsigned long long)total);
    wbuf b = {0};
    b.p = rf__malloc((size_t)total ? (size_t)total : 1);
    if (!b.p) return rf__err(err, RF_ERR_NOMEM, "out of memory for a %llu-byte file", (unsigned long long)total);
    b.cap = (size_t)total;
    encode_head(w, &b, head);
    for (size_t i = 0; i < w->n_t && !b.failed; i++) {
        uint64_t p = pad_to(w->t[i].nbytes, w->alignment);
        wb_put(&b, w->t[i].data, w->t[i].nbytes);
        if (!b.failed) {
            memset(b.p + b.len, 0, p - w->t[i].nbytes);
            b.len += p - w->t[i].nbytes;
        }
    }
    if (b.failed || b.len != total) {
        rf__free(b.p);
        return rf__err(err, RF_ERR_INTERNAL, "GGUF writer produced %zu bytes, expected %llu", b.len,
                       (unsigned long long)total);
    }
    *buf = b.p;
    *size = b.len;
    return RF_OK;
}

static rf_status fwrite_all(FILE *f, const void *p, size_t n, const char *path, rf_err *err) {
    if (n && fwrite(p, 1, n, f) != n) return rf__err(err, RF_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    return RF_OK;
}

rf_status rf_gguf_writer_write(rf_gguf_writer *w, const char *path, rf_gguf_tensor_producer producer, void *user,
                               rf_err *err) {
    rf_status st;
    uint64_t head, total, scratch_size = 0;
    wbuf b = {0};
    uint8_t *scratch = NULL;
    FILE *f = NULL;
    bool created = false;
    if (!w || !path) return rf__err(err, RF_ERR_INVALID_ARG, "rf_gguf_writer_write: NULL argument");
    if ((st = check_sources(w, producer != NULL, err))) return st;
    if ((st = layout(w, &head, &total, err))) return st;
    for (size_t i = 0; i < w->n_t; i++)
        if (!w->t[i].data) scratch_size = RF_MAX(scratch_size, w->t[i].nbytes);
    if (scratch_size) {
        if (scratch_size > SIZE_MAX) return rf__err(err, RF_ERR_NOMEM, "tensor too large for memory");
        scratch = rf__malloc((size_t)scratch_size);
        if (!scratch) return rf__err(err, RF_ERR_NOMEM, "out of memory for a %llu-byte tensor",
                                     (unsigned long long)scratch_size);
    }
    encode_head(w, &b, head);
    if (b.failed) { st = rf__err(err, RF_ERR_NOMEM, "out of memory encoding the GGUF header"); goto fail; }
    f = fopen(path, "wb");
    if (!f) { st = rf__err(err, RF_ERR_IO, "cannot create '%s': %s", path, strerror(errno)); goto fail; }
    created = true;
    if ((st = fwrite_all(f, b.p, b.len, path, err))) goto fail;
    static const uint8_t zeros[256];
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        const void *src = t->data;
        if (!src) {
            rf_err perr = {0};
            st = producer(user, i, scratch, t->nbytes, &perr);
            if (st) {
                rf__err(err, st, "tensor '%s': %s", t->name, perr.msg[0] ? perr.msg : rf_status_str(st));
                goto fail;
            }
            src = scratch;
        }
        if ((st = fwrite_all(f, src, (size_t)t->nbytes, path, err))) goto fail;
        uint64_t padn = pad_to(t->nbytes, w->alignment) - t->nbytes;
        while (padn > 0) {
            size_t k = (size_t)RF_MIN(padn, sizeof zeros);
            if ((st = fwrite_all(f, zeros, k, path, err))) goto fail;
            padn -= k;
        }
    }
    if (fclose(f) != 0) {
        f = NULL;
        st = rf__err(err, RF_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        goto fail;
    }
    f = NULL;
    rf__free(b.p);
    rf__free(scratch);
    return RF_OK;
fail:
    if (f) fclose(f);
    if (created) unlink(path);
    rf__free(b.p);
    rf__free(scratch);
    return st;
}
