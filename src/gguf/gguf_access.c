/* gguf_access.c - lookups, typed getters and array iteration over a parsed GGUF file. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "gguf/gguf_internal.h"

const char *rf_gguf_vtype_name(rf_gguf_vtype t) {
    static const char *const names[RF_GGUF_VTYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
    };
    if ((unsigned)t >= RF_GGUF_VTYPE_COUNT) return "invalid";
    return names[t];
}

bool rf_str_eq(rf_str s, const char *cstr) {
    if (!cstr) return false;
    size_t n = strlen(cstr);
    return s.len == n && (n == 0 || memcmp(s.ptr, cstr, n) == 0);
}

/* ---- name index ------------------------------------------------------------------ */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

static const rf_str *item_name(const void *items, size_t stride, uint64_t i) {
    return (const rf_str *)((const char *)items + stride * i);
}

int64_t rf__gguf_index_find(const rf__gguf_index *ix, const void *items, size_t stride, const char *s,
                            size_t len) {
    if (!ix->slots) return -1;
    for (uint64_t h = hash_bytes(s, len) & ix->mask;; h = (h + 1) & ix->mask) {
        uint32_t v = ix->slots[h];
        if (!v) return -1;
        const rf_str *nm = item_name(items, stride, v - 1);
        if (nm->len == len && memcmp(nm->ptr, s, len) == 0) return (int64_t)(v - 1);
    }
}

rf_status rf__gguf_index_build(rf__gguf_index *ix, const void *items, size_t stride, uint64_t n,
                               const char *what, rf_err *err) {
    uint64_t cap = 16;
    while (cap < 2 * n) cap *= 2; /* n < 2^31: no overflow */
    ix->slots = rf__calloc(cap, sizeof *ix->slots);
    if (!ix->slots) return rf__err(err, RF_ERR_NOMEM, "out of memory for the %s index", what);
    ix->mask = cap - 1;
    for (uint64_t i = 0; i < n; i++) {
        const rf_str *nm = item_name(items, stride, i);
        uint64_t h = hash_bytes(nm->ptr, nm->len) & ix->mask;
        for (;; h = (h + 1) & ix->mask) {
            uint32_t v = ix->slots[h];
            if (!v) {
                ix->slots[h] = (uint32_t)(i + 1);
                break;
            }
            const rf_str *o = item_name(items, stride, v - 1);
            if (o->len == nm->len && memcmp(o->ptr, nm->ptr, nm->len) == 0)
                return rf__err(err, RF_ERR_FORMAT, "duplicate %s '%.*s' (entries %u and %llu)", what,
                               (int)RF_MIN(nm->len, 200), nm->ptr, v - 1, (unsigned long long)i);
        }
    }
    return RF_OK;
}

void rf__gguf_index_free(rf__gguf_index *ix) {
    rf__free(ix->slots);
    ix->slots = NULL;
    ix->mask = 0;
}

const rf_gguf_value *rf__gguf_file_get(const rf__gguf_file *f, const char *key) {
    if (!key) return NULL;
    int64_t i = rf__gguf_index_find(&f->kv_index, f->kv, sizeof *f->kv, key, strlen(key));
    return i < 0 ? NULL : &f->kv[i].val;
}

/* ---- file-level accessors ---------------------------------------------------------- */

uint32_t rf_gguf_version(const rf_gguf *g) { return g ? g->files[0].version : 0; }
uint64_t rf_gguf_alignment(const rf_gguf *g) { return g ? g->files[0].alignment : 0; }
uint32_t rf_gguf_n_splits(const rf_gguf *g) { return g ? g->n_files : 0; }

uint64_t rf_gguf_file_size(const rf_gguf *g) {
    uint64_t s = 0;
    for (uint32_t i = 0; g && i < g->n_files; i++) s += g->files[i].size;
    return s;
}

uint64_t rf_gguf_data_offset(const rf_gguf *g, uint32_t split) {
    if (!g || split >= g->n_files) return 0;
    return g->files[split].data_offset;
}

uint64_t rf_gguf_n_kv(const rf_gguf *g) { return g ? g->files[0].n_kv : 0; }

rf_str rf_gguf_kv_key(const rf_gguf *g, uint64_t i) {
    rf_str none = {"", 0};
    if (!g || i >= g->files[0].n_kv) return none;
    return g->files[0].kv[i].key;
}

const rf_gguf_value *rf_gguf_kv_value(const rf_gguf *g, uint64_t i) {
    if (!g || i >= g->files[0].n_kv) return NULL;
    return &g->files[0].kv[i].val;
}

int64_t rf_gguf_find_key(const rf_gguf *g, const char *key) {
    if (!g || !key) return -1;
    const rf__gguf_file *f = &g->files[0];
    return rf__gguf_index_find(&f->kv_index, f->kv, sizeof *f->kv, key, strlen(key));
}

const rf_gguf_value *rf_gguf_get(const rf_gguf *g, const char *key) {
    if (!g) return NULL;
    return rf__gguf_file_get(&g->files[0], key);
}

/* ---- tensors ------------------------------------------------------------------------ */

uint64_t rf_gguf_n_tensors(const rf_gguf *g) { return g ? g->n_tensors : 0; }

const rf_gguf_tensor *rf_gguf_tensor_at(const rf_gguf *g, uint64_t i) {
    if (!g || i >= g->n_tensors) return NULL;
    return &g->tensors[i];
}

const rf_gguf_tensor *rf_gguf_find_tensor(const rf_gguf *g, const char *name) {
    if (!g || !name) return NULL;
    int64_t i = rf__gguf_index_find(&g->tensor_index, g->tensors, sizeof *g->tensors, name, strlen(name));
    return i < 0 ? NULL : &g->tensors[i];
}

int64_t rf_gguf_tensor_nelements(const rf_gguf_tensor *t) {
    if (!t) return 0;
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

/* ---- array iteration ------------------------------------------------------------------ */

void rf_gguf_arr_iter_init(rf_gguf_arr_iter *it, const rf_gguf_value *arr) {
    memset(it, 0, sizeof *it);
    if (!arr || arr->type != RF_GGUF_ARRAY) return;
    it->arr = arr;
    it->pos = arr->v.arr.data;
    it->end = arr->v.arr.data + arr->v.arr.nbytes;
}

bool rf_gguf_arr_iter_next(rf_gguf_arr_iter *it, rf_gguf_value *out) {
    if (!it->arr || it->index >= it->arr->v.arr.n) return false;
    const uint8_t *next;
    /* The array was validated at open; decoding again is bounded by `end`. */
    if (rf__gguf_decode_value(it->arr->v.arr.elem_type, it->pos, it->end, it->pos, 1, out, &next, NULL) != RF_OK)
        return false;
    it->pos = next;
    it->index++;
    return true;
}

/* ---- typed getters ---------------------------------------------------------------------- */

static bool is_unsigned(rf_gguf_vtype t) {
    return t == RF_GGUF_U8 || t == RF_GGUF_U16 || t == RF_GGUF_U32 || t == RF_GGUF_U64;
}
static bool is_signed(rf_gguf_vtype t) {
    return t == RF_GGUF_I8 || t == RF_GGUF_I16 || t == RF_GGUF_I32 || t == RF_GGUF_I64;
}
static bool is_float(rf_gguf_vtype t) { return t == RF_GGUF_F32 || t == RF_GGUF_F64; }

/* Integer value as (negative?, magnitude-or-value) within [min, max]. */
static rf_status int_in(const rf_gguf_value *v, int64_t min, uint64_t max, int64_t *si, uint64_t *ui) {
    if (is_unsigned(v->type)) {
        if (v->v.u > max) return RF_ERR_RANGE;
        if (ui) *ui = v->v.u;
        if (si) *si = (int64_t)v->v.u;
        return RF_OK;
    }
    if (is_signed(v->type)) {
        if (v->v.i < min) return RF_ERR_RANGE;
        if (v->v.i > 0 && (uint64_t)v->v.i > max) return RF_ERR_RANGE;
        if (ui) *ui = (uint64_t)v->v.i;
        if (si) *si = v->v.i;
        return RF_OK;
    }
    return RF_ERR_TYPE;
}

static rf_status to_f32(const rf_gguf_value *v, bool allow_int, float *out) {
    if (is_float(v->type)) {
        double d = v->v.f;
        if (isfinite(d) && fabs(d) > FLT_MAX) return RF_ERR_RANGE;
        *out = (float)d;
        return RF_OK;
    }
    if (allow_int && is_unsigned(v->type)) { *out = (float)v->v.u; return RF_OK; }
    if (allow_int && is_signed(v->type)) { *out = (float)v->v.i; return RF_OK; }
    return RF_ERR_TYPE;
}

rf_status rf_gguf_get_u32(const rf_gguf *g, const char *key, uint32_t *out) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    uint64_t u;
    rf_status st = int_in(v, 0, UINT32_MAX, NULL, &u);
    if (!st) *out = (uint32_t)u;
    return st;
}

rf_status rf_gguf_get_u64(const rf_gguf *g, const char *key, uint64_t *out) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    return int_in(v, 0, UINT64_MAX, NULL, out);
}

rf_status rf_gguf_get_i32(const rf_gguf *g, const char *key, int32_t *out) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    int64_t i;
    rf_status st = int_in(v, INT32_MIN, INT32_MAX, &i, NULL);
    if (!st) *out = (int32_t)i;
    return st;
}

rf_status rf_gguf_get_f32(const rf_gguf *g, const char *key, float *out) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    return to_f32(v, false, out);
}

rf_status rf_gguf_get_bool(const rf_gguf *g, const char *key, bool *out) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    if (v->type != RF_GGUF_BOOL) return RF_ERR_TYPE;
    *out = v->v.u != 0;
    return RF_OK;
}

rf_status rf_gguf_get_str(const rf_gguf *g, const char *key, rf_str *out) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    if (v->type != RF_GGUF_STRING) return RF_ERR_TYPE;
    *out = v->v.s;
    return RF_OK;
}

rf_status rf_gguf_get_arr(const rf_gguf *g, const char *key, rf_gguf_vtype *elem_type, uint64_t *n) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    if (v->type != RF_GGUF_ARRAY) return RF_ERR_TYPE;
    if (elem_type) *elem_type = v->v.arr.elem_type;
    if (n) *n = v->v.arr.n;
    return RF_OK;
}

static bool is_numeric(rf_gguf_vtype t) { return is_unsigned(t) || is_signed(t) || is_float(t); }

rf_status rf_gguf_get_arr_f32(const rf_gguf *g, const char *key, float *out, uint64_t n) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    if (v->type != RF_GGUF_ARRAY || !is_numeric(v->v.arr.elem_type)) return RF_ERR_TYPE;
    if (v->v.arr.n != n) return RF_ERR_RANGE;
    rf_gguf_arr_iter it;
    rf_gguf_value e;
    rf_gguf_arr_iter_init(&it, v);
    for (uint64_t i = 0; i < n; i++) {
        if (!rf_gguf_arr_iter_next(&it, &e)) return RF_ERR_INTERNAL;
        rf_status st = to_f32(&e, true, &out[i]);
        if (st) return st;
    }
    return RF_OK;
}

rf_status rf_gguf_get_arr_i32(const rf_gguf *g, const char *key, int32_t *out, uint64_t n) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    if (v->type != RF_GGUF_ARRAY) return RF_ERR_TYPE;
    rf_gguf_vtype et = v->v.arr.elem_type;
    if (!(is_signed(et) || is_unsigned(et))) return RF_ERR_TYPE;
    if (v->v.arr.n != n) return RF_ERR_RANGE;
    rf_gguf_arr_iter it;
    rf_gguf_value e;
    rf_gguf_arr_iter_init(&it, v);
    for (uint64_t i = 0; i < n; i++) {
        int64_t x;
        if (!rf_gguf_arr_iter_next(&it, &e)) return RF_ERR_INTERNAL;
        rf_status st = int_in(&e, INT32_MIN, INT32_MAX, &x, NULL);
        if (st) return st;
        out[i] = (int32_t)x;
    }
    return RF_OK;
}

rf_status rf_gguf_get_u32_layers(const rf_gguf *g, const char *key, uint32_t *out, uint32_t n_layer) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    if (v->type != RF_GGUF_ARRAY) {
        uint64_t u;
        rf_status st = int_in(v, 0, UINT32_MAX, NULL, &u);
        if (st) return st;
        for (uint32_t i = 0; i < n_layer; i++) out[i] = (uint32_t)u;
        return RF_OK;
    }
    rf_gguf_vtype et = v->v.arr.elem_type;
    if (!(is_signed(et) || is_unsigned(et))) return RF_ERR_TYPE;
    if (v->v.arr.n != n_layer) return RF_ERR_FORMAT;
    rf_gguf_arr_iter it;
    rf_gguf_value e;
    rf_gguf_arr_iter_init(&it, v);
    for (uint32_t i = 0; i < n_layer; i++) {
        uint64_t u;
        if (!rf_gguf_arr_iter_next(&it, &e)) return RF_ERR_INTERNAL;
        rf_status st = int_in(&e, 0, UINT32_MAX, NULL, &u);
        if (st) return st;
        out[i] = (uint32_t)u;
    }
    return RF_OK;
}

rf_status rf_gguf_get_f32_layers(const rf_gguf *g, const char *key, float *out, uint32_t n_layer) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return RF_ERR_NOT_FOUND;
    if (v->type != RF_GGUF_ARRAY) {
        float f;
        rf_status st = to_f32(v, true, &f);
        if (st) return st;
        for (uint32_t i = 0; i < n_layer; i++) out[i] = f;
        return RF_OK;
    }
    if (!is_numeric(v->v.arr.elem_type)) return RF_ERR_TYPE;
    if (v->v.arr.n != n_layer) return RF_ERR_FORMAT;
    return rf_gguf_get_arr_f32(g, key, out, n_layer);
}
