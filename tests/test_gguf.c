/* test_gguf.c - GGUF writer/reader round trips, getters, splits, malformed
 * files (one case per class), truncation at every offset, allocation-failure
 * injection. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf/gguf.h"
#include "gguf_test_util.h"
#include "rf_test.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static void rnd_fill(void *p, size_t n) {
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(rnd() >> 24);
}

static char tmpdir[256];

static void path_in_tmp(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

static int write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t k = n ? fwrite(p, 1, n, f) : 0;
    fclose(f);
    return k == n ? 0 : -1;
}

/* Opens `n` bytes (copied into an exact-size heap block so over-reads are
 * caught by ASan) and expects failure with `st` and a message containing
 * `substr`; also checks nothing leaked. */
static void expect_fail_buf(const void *p, size_t n, rf_status st, const char *substr, const char *label) {
    size_t base = rf__alloc_live_blocks();
    uint8_t *copy = malloc(n ? n : 1);
    if (n) memcpy(copy, p, n);
    rf_gguf *g = (rf_gguf *)1;
    rf_err e = {0};
    rf_status got = rf_gguf_open_buffer(copy, n, &g, &e);
    bool ok = got == st && g == NULL && strstr(e.msg, substr) != NULL && e.status == st;
    if (!ok)
        fprintf(stderr, "case '%s': expected status %d with '%s', got %d: %s\n", label, st, substr, got, e.msg);
    RF_CHECK(ok);
    RF_CHECK(rf__alloc_live_blocks() == base);
    if (got == RF_OK) rf_gguf_free(g);
    free(copy);
}

static void expect_fail(bb *b, rf_status st, const char *substr, const char *label) {
    expect_fail_buf(b->p, b->n, st, substr, label);
    /* the same through the mmap path */
    char path[512];
    path_in_tmp(path, sizeof path, "bad.gguf");
    RF_CHECK(write_bytes(path, b->p, b->n) == 0);
    rf_gguf *g = NULL;
    rf_err e = {0};
    size_t base = rf__alloc_live_blocks();
    rf_status got = rf_gguf_open(path, &g, &e);
    bool ok = got == st && g == NULL && strstr(e.msg, substr) != NULL;
    if (!ok) fprintf(stderr, "case '%s' (file): expected %d with '%s', got %d: %s\n", label, st, substr, got, e.msg);
    RF_CHECK(ok);
    RF_CHECK(rf__alloc_live_blocks() == base);
    if (got == RF_OK) rf_gguf_free(g);
    unlink(path);
}

/* ---- round trip of every value type ---------------------------------------------------- */

#define NARR 37
static uint8_t a_u8[NARR];
static int8_t a_i8[NARR];
static uint16_t a_u16[NARR];
static int16_t a_i16[NARR];
static uint32_t a_u32[NARR];
static int32_t a_i32[NARR];
static float a_f32[NARR];
static uint8_t a_bool[NARR];
static uint64_t a_u64[NARR];
static int64_t a_i64[NARR];
static double a_f64[NARR];
static const char *a_str[] = {"", "hello", "\xe4\xb8\xad\xe6\x96\x87", "<0x0A>", "a b c", "\xff\xfe not utf-8"};

/* Encoding of a nested array: [[i32 x k] for k in 0..3] and [[[str]]]. */
static void nested_encoding(bb *b) {
    for (uint32_t k = 0; k < 4; k++) {
        bb_u32(b, RF_GGUF_I32);
        bb_u64(b, k);
        for (uint32_t j = 0; j < k; j++) bb_u32(b, (uint32_t)(int32_t)(100 * k + j - 7));
    }
}
static void nested3_encoding(bb *b) {
    /* 2 elements, each an array of 2 arrays of strings */
    for (int i = 0; i < 2; i++) {
        bb_u32(b, RF_GGUF_ARRAY);
        bb_u64(b, 2);
        for (int j = 0; j < 2; j++) {
            bb_u32(b, RF_GGUF_STRING);
            bb_u64(b, (uint64_t)(i + j + 1));
            for (int k = 0; k < i + j + 1; k++) {
                char s[48];
                snprintf(s, sizeof s, "s%d.%d.%d", i, j, k);
                bb_str(b, s);
            }
        }
    }
}

typedef struct test_tensor {
    const char *name;
    rf_type type;
    uint32_t n_dims;
    int64_t ne[4];
    uint8_t *data;
    size_t nbytes;
} test_tensor;

static test_tensor tensors[] = {
    {"token_embd.weight", RF_TYPE_F32, 2, {7, 3, 1, 1}, NULL, 0},
    {"blk.0.attn_q.weight", RF_TYPE_Q4_0, 2, {64, 3, 1, 1}, NULL, 0},
    {"blk.0.ffn_up.weight", RF_TYPE_Q4_K, 2, {256, 2, 1, 1}, NULL, 0},
    {"blk.0.attn_norm.weight", RF_TYPE_F16, 1, {5, 1, 1, 1}, NULL, 0},
    {"blk.0.q8", RF_TYPE_Q8_0, 3, {32, 2, 2, 1}, NULL, 0},
    {"blk.0.i8", RF_TYPE_I8, 4, {3, 2, 2, 2}, NULL, 0},
    {"output.weight", RF_TYPE_BF16, 2, {16, 4, 1, 1}, NULL, 0},
};
#define NT (sizeof tensors / sizeof tensors[0])

static void make_data(void) {
    for (size_t i = 0; i < NARR; i++) {
        a_u8[i] = (uint8_t)rnd();
        a_i8[i] = (int8_t)rnd();
        a_u16[i] = (uint16_t)rnd();
        a_i16[i] = (int16_t)rnd();
        a_u32[i] = (uint32_t)rnd();
        a_i32[i] = (int32_t)rnd();
        a_f32[i] = (float)((double)(int32_t)rnd() / 1e5);
        a_bool[i] = (uint8_t)(rnd() & 1);
        a_u64[i] = rnd();
        a_i64[i] = (int64_t)rnd();
        a_f64[i] = (double)(int64_t)rnd() / 1e9;
    }
    for (size_t i = 0; i < NT; i++) {
        test_tensor *t = &tensors[i];
        t->nbytes = rf_type_row_size(t->type, t->ne[0]) * (size_t)(t->ne[1] * t->ne[2] * t->ne[3]);
        t->data = malloc(t->nbytes);
        rnd_fill(t->data, t->nbytes);
    }
}

static rf_status producer(void *user, uint64_t idx, void *dst, uint64_t nbytes, rf_err *err) {
    int *calls = user;
    (*calls)++;
    if (idx >= NT || nbytes != tensors[idx].nbytes) return rf__err(err, RF_ERR_INTERNAL, "bad producer call");
    memcpy(dst, tensors[idx].data, nbytes);
    return RF_OK;
}

static rf_status failing_producer(void *user, uint64_t idx, void *dst, uint64_t nbytes, rf_err *err) {
    (void)user;
    memset(dst, 0x5a, nbytes);
    if (idx == 3) return rf__err(err, RF_ERR_CANCELLED, "stopped at tensor %llu", (unsigned long long)idx);
    return RF_OK;
}

static rf_gguf_writer *build_writer(bool use_producer, uint32_t alignment) {
    rf_gguf_writer *w = NULL;
    RF_CHECK(rf_gguf_writer_create(&w) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_str(w, "general.architecture", "llama") == RF_OK);
    RF_CHECK(rf_gguf_writer_set_u32(w, "t.u32", 123456789u) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_i32(w, "t.i32", -123456789) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_u64(w, "t.u64", 0xfedcba9876543210ull) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_f32(w, "t.f32", 1.5e-5f) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_bool(w, "t.bool", true) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_str(w, "t.str", "first") == RF_OK);
    RF_CHECK(rf_gguf_writer_set_str(w, "t.str", "value \xe2\x9c\x93") == RF_OK); /* replaces */
    rf_gguf_value v;
    v.type = RF_GGUF_U8; v.v.u = 200; RF_CHECK(rf_gguf_writer_set_value(w, "t.u8", &v) == RF_OK);
    v.type = RF_GGUF_I8; v.v.i = -100; RF_CHECK(rf_gguf_writer_set_value(w, "t.i8", &v) == RF_OK);
    v.type = RF_GGUF_U16; v.v.u = 65000; RF_CHECK(rf_gguf_writer_set_value(w, "t.u16", &v) == RF_OK);
    v.type = RF_GGUF_I16; v.v.i = -32000; RF_CHECK(rf_gguf_writer_set_value(w, "t.i16", &v) == RF_OK);
    v.type = RF_GGUF_I64; v.v.i = INT64_MIN + 5; RF_CHECK(rf_gguf_writer_set_value(w, "t.i64", &v) == RF_OK);
    v.type = RF_GGUF_F64; v.v.f = -2.718281828459045; RF_CHECK(rf_gguf_writer_set_value(w, "t.f64", &v) == RF_OK);
    v.type = RF_GGUF_U8; v.v.u = 256; RF_CHECK(rf_gguf_writer_set_value(w, "t.bad", &v) == RF_ERR_RANGE);
    v.type = RF_GGUF_I8; v.v.i = -129; RF_CHECK(rf_gguf_writer_set_value(w, "t.bad", &v) == RF_ERR_RANGE);
    v.type = RF_GGUF_VTYPE_COUNT; RF_CHECK(rf_gguf_writer_set_value(w, "t.bad", &v) == RF_ERR_INVALID_ARG);
    RF_CHECK(rf_gguf_writer_set_arr(w, "t.bad", RF_GGUF_ARRAY, a_u8, 1) == RF_ERR_INVALID_ARG);
    RF_CHECK(rf_gguf_writer_set_u64(w, "general.alignment", 64) == RF_ERR_INVALID_ARG);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.u8", RF_GGUF_U8, a_u8, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.i8", RF_GGUF_I8, a_i8, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.u16", RF_GGUF_U16, a_u16, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.i16", RF_GGUF_I16, a_i16, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.u32", RF_GGUF_U32, a_u32, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.i32", RF_GGUF_I32, a_i32, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.f32", RF_GGUF_F32, a_f32, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.bool", RF_GGUF_BOOL, a_bool, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.u64", RF_GGUF_U64, a_u64, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.i64", RF_GGUF_I64, a_i64, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.f64", RF_GGUF_F64, a_f64, NARR) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.empty", RF_GGUF_U32, NULL, 0) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "a.bad", RF_GGUF_STRING, a_u8, 3) == RF_ERR_INVALID_ARG);
    RF_CHECK(rf_gguf_writer_set_arr_str(w, "a.str", a_str, RF_ARRAY_LEN(a_str)) == RF_OK);
    bb nb = {0};
    nested_encoding(&nb);
    v.type = RF_GGUF_ARRAY;
    v.v.arr.elem_type = RF_GGUF_ARRAY;
    v.v.arr.n = 4;
    v.v.arr.data = nb.p;
    v.v.arr.nbytes = nb.n;
    RF_CHECK(rf_gguf_writer_set_value(w, "a.nested", &v) == RF_OK);
    v.v.arr.n = 5; /* claims one element more than encoded */
    RF_CHECK(rf_gguf_writer_set_value(w, "a.bad", &v) == RF_ERR_INVALID_ARG);
    bb_free(&nb);
    nested3_encoding(&nb);
    v.v.arr.n = 2;
    v.v.arr.data = nb.p;
    v.v.arr.nbytes = nb.n;
    RF_CHECK(rf_gguf_writer_set_value(w, "a.nested3", &v) == RF_OK);
    bb_free(&nb);
    /* per-layer keys */
    uint32_t heads[3] = {4, 8, 0};
    float eps[3] = {1e-5f, 2e-5f, 3e-5f};
    RF_CHECK(rf_gguf_writer_set_u32(w, "llama.block_count", 3) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "llama.attention.head_count_kv", RF_GGUF_U32, heads, 3) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_u32(w, "llama.attention.head_count", 8) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "llama.eps_layers", RF_GGUF_F32, eps, 3) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_arr(w, "llama.short", RF_GGUF_U32, heads, 2) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_f32(w, "llama.rope.freq_base", 10000.0f) == RF_OK);
    if (alignment) RF_CHECK(rf_gguf_writer_set_alignment(w, alignment) == RF_OK);
    RF_CHECK(rf_gguf_writer_set_alignment(w, 3) == RF_ERR_INVALID_ARG);
    RF_CHECK(rf_gguf_writer_set_alignment(w, 0) == RF_ERR_INVALID_ARG);
    /* invalid names and tensors are refused */
    RF_CHECK(rf_gguf_writer_set_u32(w, "", 1) == RF_ERR_INVALID_ARG);
    RF_CHECK(rf_gguf_writer_set_u32(w, "bad\xff", 1) == RF_ERR_INVALID_ARG);
    int64_t bad_ne[2] = {33, 1};
    RF_CHECK(rf_gguf_writer_add_tensor(w, "x", RF_TYPE_Q4_0, 2, bad_ne, NULL) == RF_ERR_INVALID_ARG);
    RF_CHECK(rf_gguf_writer_add_tensor(w, "x", (rf_type)4, 2, bad_ne, NULL) == RF_ERR_INVALID_ARG);
    RF_CHECK(rf_gguf_writer_add_tensor(w, "x", RF_TYPE_F32, 0, bad_ne, NULL) == RF_ERR_INVALID_ARG);
    for (size_t i = 0; i < NT; i++) {
        const void *d = (use_producer && i % 2 == 1) ? NULL : tensors[i].data;
        RF_CHECK(rf_gguf_writer_add_tensor(w, tensors[i].name, tensors[i].type, tensors[i].n_dims, tensors[i].ne, d) ==
                 RF_OK);
    }
    RF_CHECK(rf_gguf_writer_add_tensor(w, tensors[0].name, RF_TYPE_F32, 1, bad_ne, NULL) == RF_ERR_INVALID_ARG);
    return w;
}

static void check_nested(const rf_gguf_value *v) {
    RF_CHECK(v && v->type == RF_GGUF_ARRAY && v->v.arr.elem_type == RF_GGUF_ARRAY && v->v.arr.n == 4);
    if (!v || v->type != RF_GGUF_ARRAY) return;
    rf_gguf_arr_iter it, it2;
    rf_gguf_value e, e2;
    uint32_t k = 0;
    rf_gguf_arr_iter_init(&it, v);
    while (rf_gguf_arr_iter_next(&it, &e)) {
        RF_CHECK(e.type == RF_GGUF_ARRAY && e.v.arr.elem_type == RF_GGUF_I32 && e.v.arr.n == k);
        rf_gguf_arr_iter_init(&it2, &e);
        uint32_t j = 0;
        while (rf_gguf_arr_iter_next(&it2, &e2)) {
            RF_CHECK(e2.type == RF_GGUF_I32 && e2.v.i == (int64_t)(100 * k + j - 7));
            j++;
        }
        RF_CHECK(j == k);
        k++;
    }
    RF_CHECK(k == 4);
}

static void check_nested3(const rf_gguf_value *v) {
    RF_CHECK(v && v->type == RF_GGUF_ARRAY && v->v.arr.n == 2);
    if (!v || v->type != RF_GGUF_ARRAY) return;
    rf_gguf_arr_iter a, b, c;
    rf_gguf_value x, y, z;
    int i = 0, count = 0;
    rf_gguf_arr_iter_init(&a, v);
    while (rf_gguf_arr_iter_next(&a, &x)) {
        RF_CHECK(x.type == RF_GGUF_ARRAY && x.v.arr.elem_type == RF_GGUF_ARRAY && x.v.arr.n == 2);
        rf_gguf_arr_iter_init(&b, &x);
        int j = 0;
        while (rf_gguf_arr_iter_next(&b, &y)) {
            RF_CHECK(y.type == RF_GGUF_ARRAY && y.v.arr.elem_type == RF_GGUF_STRING &&
                     y.v.arr.n == (uint64_t)(i + j + 1));
            rf_gguf_arr_iter_init(&c, &y);
            int k = 0;
            while (rf_gguf_arr_iter_next(&c, &z)) {
                char s[48];
                snprintf(s, sizeof s, "s%d.%d.%d", i, j, k);
                RF_CHECK(z.type == RF_GGUF_STRING && rf_str_eq(z.v.s, s));
                k++;
                count++;
            }
            j++;
        }
        i++;
    }
    RF_CHECK(i == 2 && count == 1 + 2 + 2 + 3);
}

#define CHECK_ARR(key, T, src, field, cast)                                                 \
    do {                                                                                    \
        const rf_gguf_value *av = rf_gguf_get(g, key);                                      \
        RF_CHECK(av && av->type == RF_GGUF_ARRAY && av->v.arr.elem_type == T &&              \
                 av->v.arr.n == NARR);                                                      \
        if (av && av->type == RF_GGUF_ARRAY) {                                              \
            rf_gguf_arr_iter it;                                                            \
            rf_gguf_value e;                                                                \
            size_t i = 0, bad = 0;                                                          \
            rf_gguf_arr_iter_init(&it, av);                                                 \
            while (rf_gguf_arr_iter_next(&it, &e)) {                                        \
                if (e.type != T || e.v.field != (cast)src[i]) bad++;                        \
                i++;                                                                        \
            }                                                                               \
            RF_CHECK(i == NARR && bad == 0);                                                \
        }                                                                                   \
    } while (0)

static void check_model(const rf_gguf *g, uint32_t alignment) {
    RF_CHECK(rf_gguf_version(g) == 3);
    RF_CHECK(rf_gguf_alignment(g) == (alignment ? alignment : 32));
    RF_CHECK(rf_gguf_n_splits(g) == 1);
    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    float f;
    bool bo;
    rf_str s;
    RF_CHECK(rf_gguf_get_u32(g, "t.u32", &u32) == RF_OK && u32 == 123456789u);
    RF_CHECK(rf_gguf_get_i32(g, "t.i32", &i32) == RF_OK && i32 == -123456789);
    RF_CHECK(rf_gguf_get_u64(g, "t.u64", &u64) == RF_OK && u64 == 0xfedcba9876543210ull);
    RF_CHECK(rf_gguf_get_f32(g, "t.f32", &f) == RF_OK && f == 1.5e-5f);
    RF_CHECK(rf_gguf_get_bool(g, "t.bool", &bo) == RF_OK && bo);
    RF_CHECK(rf_gguf_get_str(g, "t.str", &s) == RF_OK && rf_str_eq(s, "value \xe2\x9c\x93"));
    const rf_gguf_value *v;
    v = rf_gguf_get(g, "t.u8"); RF_CHECK(v && v->type == RF_GGUF_U8 && v->v.u == 200);
    v = rf_gguf_get(g, "t.i8"); RF_CHECK(v && v->type == RF_GGUF_I8 && v->v.i == -100);
    v = rf_gguf_get(g, "t.u16"); RF_CHECK(v && v->type == RF_GGUF_U16 && v->v.u == 65000);
    v = rf_gguf_get(g, "t.i16"); RF_CHECK(v && v->type == RF_GGUF_I16 && v->v.i == -32000);
    v = rf_gguf_get(g, "t.i64"); RF_CHECK(v && v->type == RF_GGUF_I64 && v->v.i == INT64_MIN + 5);
    v = rf_gguf_get(g, "t.f64"); RF_CHECK(v && v->type == RF_GGUF_F64 && v->v.f == -2.718281828459045);
    RF_CHECK(rf_gguf_get(g, "t.bad") == NULL && rf_gguf_get(g, "a.bad") == NULL);
    CHECK_ARR("a.u8", RF_GGUF_U8, a_u8, u, uint64_t);
    CHECK_ARR("a.i8", RF_GGUF_I8, a_i8, i, int64_t);
    CHECK_ARR("a.u16", RF_GGUF_U16, a_u16, u, uint64_t);
    CHECK_ARR("a.i16", RF_GGUF_I16, a_i16, i, int64_t);
    CHECK_ARR("a.u32", RF_GGUF_U32, a_u32, u, uint64_t);
    CHECK_ARR("a.i32", RF_GGUF_I32, a_i32, i, int64_t);
    CHECK_ARR("a.f32", RF_GGUF_F32, a_f32, f, double);
    CHECK_ARR("a.bool", RF_GGUF_BOOL, a_bool, u, uint64_t);
    CHECK_ARR("a.u64", RF_GGUF_U64, a_u64, u, uint64_t);
    CHECK_ARR("a.i64", RF_GGUF_I64, a_i64, i, int64_t);
    CHECK_ARR("a.f64", RF_GGUF_F64, a_f64, f, double);
    rf_gguf_vtype et;
    uint64_t n;
    RF_CHECK(rf_gguf_get_arr(g, "a.empty", &et, &n) == RF_OK && et == RF_GGUF_U32 && n == 0);
    RF_CHECK(rf_gguf_get_arr(g, "a.str", &et, &n) == RF_OK && et == RF_GGUF_STRING && n == RF_ARRAY_LEN(a_str));
    {
        rf_gguf_arr_iter it;
        rf_gguf_value e;
        size_t i = 0;
        rf_gguf_arr_iter_init(&it, rf_gguf_get(g, "a.str"));
        while (rf_gguf_arr_iter_next(&it, &e)) {
            RF_CHECK(e.type == RF_GGUF_STRING && rf_str_eq(e.v.s, a_str[i]));
            i++;
        }
        RF_CHECK(i == RF_ARRAY_LEN(a_str));
    }
    check_nested(rf_gguf_get(g, "a.nested"));
    check_nested3(rf_gguf_get(g, "a.nested3"));
    /* converting getters */
    float fa[NARR];
    int32_t ia[NARR];
    RF_CHECK(rf_gguf_get_arr_f32(g, "a.f32", fa, NARR) == RF_OK && memcmp(fa, a_f32, sizeof fa) == 0);
    RF_CHECK(rf_gguf_get_arr_f32(g, "a.i16", fa, NARR) == RF_OK && fa[3] == (float)a_i16[3]);
    RF_CHECK(rf_gguf_get_arr_i32(g, "a.i32", ia, NARR) == RF_OK && memcmp(ia, a_i32, sizeof ia) == 0);
    RF_CHECK(rf_gguf_get_arr_i32(g, "a.u8", ia, NARR) == RF_OK && ia[5] == a_u8[5]);
    RF_CHECK(rf_gguf_get_arr_i32(g, "a.f32", ia, NARR) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_arr_i32(g, "a.i32", ia, NARR - 1) == RF_ERR_RANGE);
    RF_CHECK(rf_gguf_get_arr_f32(g, "a.str", fa, 6) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_arr_f32(g, "t.u32", fa, 1) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_u32(g, "t.i32", &u32) == RF_ERR_RANGE);
    RF_CHECK(rf_gguf_get_u32(g, "t.u64", &u32) == RF_ERR_RANGE);
    RF_CHECK(rf_gguf_get_i32(g, "t.u32", &i32) == RF_OK && i32 == 123456789);
    RF_CHECK(rf_gguf_get_u32(g, "t.u8", &u32) == RF_OK && u32 == 200);
    RF_CHECK(rf_gguf_get_i32(g, "t.i64", &i32) == RF_ERR_RANGE);
    RF_CHECK(rf_gguf_get_u64(g, "t.i8", &u64) == RF_ERR_RANGE);
    RF_CHECK(rf_gguf_get_u32(g, "t.str", &u32) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_u32(g, "t.f32", &u32) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_f32(g, "t.f64", &f) == RF_OK && f == (float)-2.718281828459045);
    RF_CHECK(rf_gguf_get_f32(g, "t.u32", &f) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_bool(g, "t.u8", &bo) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_str(g, "t.u8", &s) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_arr(g, "t.u8", &et, &n) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_u32(g, "missing", &u32) == RF_ERR_NOT_FOUND);
    RF_CHECK(rf_gguf_get_str(g, "missing", &s) == RF_ERR_NOT_FOUND);
    RF_CHECK(rf_gguf_get_arr_f32(g, "missing", fa, 1) == RF_ERR_NOT_FOUND);
    /* per-layer getters */
    uint32_t L[3];
    float F[3];
    RF_CHECK(rf_gguf_get_u32_layers(g, "llama.attention.head_count", L, 3) == RF_OK && L[0] == 8 && L[2] == 8);
    RF_CHECK(rf_gguf_get_u32_layers(g, "llama.attention.head_count_kv", L, 3) == RF_OK && L[0] == 4 && L[1] == 8 &&
             L[2] == 0);
    RF_CHECK(rf_gguf_get_u32_layers(g, "llama.short", L, 3) == RF_ERR_FORMAT);
    RF_CHECK(rf_gguf_get_u32_layers(g, "llama.eps_layers", L, 3) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_u32_layers(g, "t.i32", L, 3) == RF_ERR_RANGE);
    RF_CHECK(rf_gguf_get_u32_layers(g, "t.str", L, 3) == RF_ERR_TYPE);
    RF_CHECK(rf_gguf_get_u32_layers(g, "missing", L, 3) == RF_ERR_NOT_FOUND);
    RF_CHECK(rf_gguf_get_f32_layers(g, "llama.eps_layers", F, 3) == RF_OK && F[1] == 2e-5f && F[2] == 3e-5f);
    RF_CHECK(rf_gguf_get_f32_layers(g, "llama.rope.freq_base", F, 3) == RF_OK && F[2] == 10000.0f);
    RF_CHECK(rf_gguf_get_f32_layers(g, "llama.short", F, 3) == RF_ERR_FORMAT);
    RF_CHECK(rf_gguf_get_f32_layers(g, "a.str", F, 3) == RF_ERR_TYPE);
    /* key index agrees with positional access */
    for (uint64_t i = 0; i < rf_gguf_n_kv(g); i++) {
        rf_str k = rf_gguf_kv_key(g, i);
        char buf[128];
        snprintf(buf, sizeof buf, "%.*s", (int)k.len, k.ptr);
        RF_CHECK(rf_gguf_find_key(g, buf) == (int64_t)i);
        RF_CHECK(rf_gguf_get(g, buf) == rf_gguf_kv_value(g, i));
    }
    RF_CHECK(rf_gguf_find_key(g, "t.u3") == -1 && rf_gguf_find_key(g, "") == -1);
    RF_CHECK(rf_gguf_kv_value(g, rf_gguf_n_kv(g)) == NULL && rf_gguf_kv_key(g, 99999).len == 0);
    /* tensors */
    RF_CHECK(rf_gguf_n_tensors(g) == NT);
    for (size_t i = 0; i < NT; i++) {
        const rf_gguf_tensor *t = rf_gguf_find_tensor(g, tensors[i].name);
        RF_CHECK(t && t == rf_gguf_tensor_at(g, i));
        if (!t) continue;
        RF_CHECK(rf_str_eq(t->name, tensors[i].name) && t->type == tensors[i].type && t->n_dims == tensors[i].n_dims);
        RF_CHECK(memcmp(t->ne, tensors[i].ne, sizeof t->ne) == 0);
        RF_CHECK(t->nbytes == tensors[i].nbytes && memcmp(t->data, tensors[i].data, t->nbytes) == 0);
        RF_CHECK(t->offset % rf_gguf_alignment(g) == 0 && t->split == 0);
        RF_CHECK(((uintptr_t)t->data - (uintptr_t)rf_gguf_tensor_at(g, 0)->data) % rf_gguf_alignment(g) == 0);
        RF_CHECK(rf_gguf_tensor_nelements(t) == tensors[i].ne[0] * tensors[i].ne[1] * tensors[i].ne[2] * tensors[i].ne[3]);
    }
    RF_CHECK(rf_gguf_find_tensor(g, "nope") == NULL && rf_gguf_tensor_at(g, NT) == NULL);
}

static void test_round_trip(void) {
    size_t base = rf__alloc_live_blocks();
    static const uint32_t aligns[] = {0, 1, 64, 4096};
    for (size_t a = 0; a < RF_ARRAY_LEN(aligns); a++) {
        rf_gguf_writer *w = build_writer(false, aligns[a]);
        void *buf = NULL;
        size_t size = 0;
        rf_err e = {0};
        RF_CHECK(rf_gguf_writer_write_buffer(w, &buf, &size, &e) == RF_OK);
        rf_gguf *g = NULL;
        RF_CHECK(rf_gguf_open_buffer(buf, size, &g, &e) == RF_OK);
        if (g) {
            check_model(g, aligns[a]);
            RF_CHECK(rf_gguf_file_size(g) == size);
            /* copy every key into a second writer: the files agree byte for byte */
            rf_gguf_writer *w2 = NULL;
            RF_CHECK(rf_gguf_writer_create(&w2) == RF_OK);
            for (uint64_t i = 0; i < rf_gguf_n_kv(g); i++) RF_CHECK(rf_gguf_writer_copy_kv(w2, g, i) == RF_OK);
            RF_CHECK(rf_gguf_writer_copy_kv(w2, g, rf_gguf_n_kv(g)) == RF_ERR_INVALID_ARG);
            for (uint64_t i = 0; i < rf_gguf_n_tensors(g); i++) {
                const rf_gguf_tensor *t = rf_gguf_tensor_at(g, i);
                char name[128];
                snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
                RF_CHECK(rf_gguf_writer_add_tensor(w2, name, t->type, t->n_dims, t->ne, t->data) == RF_OK);
            }
            void *buf2 = NULL;
            size_t size2 = 0;
            RF_CHECK(rf_gguf_writer_write_buffer(w2, &buf2, &size2, &e) == RF_OK);
            RF_CHECK(size2 == size && buf2 && memcmp(buf, buf2, size) == 0);
            rf__free(buf2);
            rf_gguf_writer_free(w2);
        }
        rf_gguf_free(g);
        rf__free(buf);
        rf_gguf_writer_free(w);
    }
    /* to a file with a producer for every other tensor */
    {
        char path[512];
        path_in_tmp(path, sizeof path, "rt.gguf");
        rf_gguf_writer *w = build_writer(true, 64);
        rf_err e = {0};
        int calls = 0;
        void *buf;
        size_t size;
        RF_CHECK(rf_gguf_writer_write_buffer(w, &buf, &size, &e) == RF_ERR_INVALID_ARG);
        RF_CHECK(rf_gguf_writer_write(w, path, NULL, NULL, &e) == RF_ERR_INVALID_ARG);
        RF_CHECK(rf_gguf_writer_write(w, path, producer, &calls, &e) == RF_OK);
        RF_CHECK(calls == (int)(NT / 2));
        /* a failing producer: error with the tensor's name, no file left behind */
        char path2[512];
        path_in_tmp(path2, sizeof path2, "rt2.gguf");
        RF_CHECK(rf_gguf_writer_write(w, path2, failing_producer, NULL, &e) == RF_ERR_CANCELLED);
        RF_CHECK(strstr(e.msg, tensors[3].name) && strstr(e.msg, "stopped at tensor 3"));
        RF_CHECK(access(path2, F_OK) != 0);
        RF_CHECK(rf_gguf_writer_write(w, "/nonexistent-dir/x.gguf", producer, &calls, &e) == RF_ERR_IO &&
                 strstr(e.msg, "cannot create"));
        rf_gguf *g = NULL;
        RF_CHECK(rf_gguf_open(path, &g, &e) == RF_OK);
        if (g) check_model(g, 64);
        rf_gguf_free(g);
        rf_gguf_writer_free(w);
        unlink(path);
    }
    RF_CHECK(rf__alloc_live_blocks() == base);
}

/* ---- malformed files, one case per class ------------------------------------------------ */

/* A minimal valid file: kv general.architecture + two F32 tensors of 8 values. */
static void valid_small(bb *b) {
    uint64_t ne[1] = {8};
    bb_header(b, 3, 2, 1);
    bb_kv_str(b, "general.architecture", "llama");
    bb_tensor(b, "a", 1, ne, 0, 0);
    bb_tensor(b, "b", 1, ne, 0, 32);
    bb_pad(b, 32);
    bb_fill(b, 64, 1);
}

static void one_tensor(bb *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t off,
                       size_t data) {
    bb_header(b, 3, 1, 0);
    bb_tensor(b, name, n_dims, ne, type, off);
    bb_pad(b, 32);
    bb_fill(b, data, 3);
}

static void test_malformed(void) {
    bb b = {0};
    uint64_t ne1[1] = {8};
    static const uint64_t huge[] = {1ull << 31, 1ull << 63, UINT64_MAX};

    /* sanity: the base file is valid */
    valid_small(&b);
    {
        rf_gguf *g = NULL;
        rf_err e;
        RF_CHECK(rf_gguf_open_buffer(b.p, b.n, &g, &e) == RF_OK);
        rf_gguf_free(g);
    }
    bb_free(&b);

    /* empty and tiny */
    expect_fail_buf("", 0, RF_ERR_FORMAT, "too short", "empty");
    expect_fail_buf("GGU", 3, RF_ERR_FORMAT, "too short", "3 bytes");
    /* wrong magic */
    bb_raw(&b, "GGML", 4); bb_u32(&b, 3); bb_u64(&b, 0); bb_u64(&b, 0);
    expect_fail(&b, RF_ERR_FORMAT, "magic", "wrong magic");
    bb_free(&b);
    /* versions */
    bb_header(&b, 0, 0, 0); expect_fail(&b, RF_ERR_FORMAT, "version 0", "version 0"); bb_free(&b);
    bb_header(&b, 1, 0, 0); expect_fail(&b, RF_ERR_UNSUPPORTED, "version 1", "version 1"); bb_free(&b);
    bb_header(&b, 4, 0, 0); expect_fail(&b, RF_ERR_UNSUPPORTED, "version 4", "version 4"); bb_free(&b);
    bb_header(&b, 0x7fffffff, 0, 0); expect_fail(&b, RF_ERR_UNSUPPORTED, "newer", "version huge"); bb_free(&b);
    bb_header(&b, 0x03000000, 0, 0); expect_fail(&b, RF_ERR_UNSUPPORTED, "big-endian", "big-endian"); bb_free(&b);
    /* version 2 is accepted */
    bb_header(&b, 2, 0, 1); bb_kv_u32(&b, "x", 1);
    {
        rf_gguf *g = NULL;
        rf_err e;
        RF_CHECK(rf_gguf_open_buffer(b.p, b.n, &g, &e) == RF_OK && rf_gguf_version(g) == 2);
        rf_gguf_free(g);
    }
    bb_free(&b);

    for (size_t h = 0; h < RF_ARRAY_LEN(huge); h++) {
        char label[64];
        /* tensor count */
        bb_header(&b, 3, huge[h], 0); bb_fill(&b, 100, 0);
        snprintf(label, sizeof label, "n_tensors %llu", (unsigned long long)huge[h]);
        expect_fail(&b, RF_ERR_FORMAT, "more than", label);
        bb_free(&b);
        /* key count */
        bb_header(&b, 3, 0, huge[h]); bb_fill(&b, 100, 0);
        snprintf(label, sizeof label, "n_kv %llu", (unsigned long long)huge[h]);
        expect_fail(&b, RF_ERR_FORMAT, "more than", label);
        bb_free(&b);
        /* key string length */
        bb_header(&b, 3, 0, 1); bb_u64(&b, huge[h]); bb_fill(&b, 40, 'a');
        expect_fail(&b, RF_ERR_FORMAT, "exceeds", "key length");
        bb_free(&b);
        /* string value length */
        bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, RF_GGUF_STRING); bb_u64(&b, huge[h]); bb_fill(&b, 40, 'a');
        expect_fail(&b, RF_ERR_FORMAT, "exceeds", "string value length");
        bb_free(&b);
        /* array length (numeric, string, nested elements) */
        static const uint32_t ets[] = {RF_GGUF_U8, RF_GGUF_U64, RF_GGUF_STRING, RF_GGUF_ARRAY};
        for (size_t k = 0; k < RF_ARRAY_LEN(ets); k++) {
            bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, RF_GGUF_ARRAY); bb_u32(&b, ets[k]); bb_u64(&b, huge[h]);
            bb_fill(&b, 40, 0);
            expect_fail(&b, RF_ERR_FORMAT, "do not fit", "array length");
            bb_free(&b);
        }
        /* string length inside a string array */
        bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, RF_GGUF_ARRAY); bb_u32(&b, RF_GGUF_STRING); bb_u64(&b, 2);
        bb_str(&b, "ok"); bb_u64(&b, huge[h]); bb_fill(&b, 20, 'x');
        expect_fail(&b, RF_ERR_FORMAT, "exceeds", "string in array");
        bb_free(&b);
        /* tensor name length */
        bb_header(&b, 3, 1, 0); bb_u64(&b, huge[h]); bb_fill(&b, 60, 'n');
        expect_fail(&b, RF_ERR_FORMAT, "exceeds", "tensor name length");
        bb_free(&b);
    }
    /* n_dims */
    {
        static const uint32_t bad_dims[] = {0, 5, 0xffffffffu};
        for (size_t k = 0; k < RF_ARRAY_LEN(bad_dims); k++) {
            bb_header(&b, 3, 1, 0); bb_str(&b, "t"); bb_u32(&b, bad_dims[k]);
            bb_fill(&b, 80, 1);
            expect_fail(&b, RF_ERR_FORMAT, "dimensions", "n_dims");
            bb_free(&b);
        }
    }
    /* zero dimension */
    { uint64_t ne[2] = {8, 0}; one_tensor(&b, "t", 2, ne, 0, 0, 64); }
    expect_fail(&b, RF_ERR_FORMAT, "zero dimension", "zero dim"); bb_free(&b);
    /* element count overflow */
    { uint64_t ne[3] = {1ull << 32, 1ull << 32, 4}; one_tensor(&b, "t", 3, ne, 0, 0, 64); }
    expect_fail(&b, RF_ERR_FORMAT, "element count overflows", "nelements overflow"); bb_free(&b);
    { uint64_t ne[1] = {UINT64_MAX}; one_tensor(&b, "t", 1, ne, 24, 0, 64); }
    expect_fail(&b, RF_ERR_FORMAT, "element count overflows", "ne > INT64_MAX"); bb_free(&b);
    /* byte size overflow (fits in int64 elements, not in bytes) */
    { uint64_t ne[1] = {1ull << 62}; one_tensor(&b, "t", 1, ne, 0, 0, 64); }
    expect_fail(&b, RF_ERR_FORMAT, "byte size overflows", "nbytes overflow"); bb_free(&b);
    /* unknown / retired types */
    {
        static const uint32_t bad_types[] = {4, 5, 31, 36, 38, RF_TYPE_COUNT, 1000, 0xffffffffu};
        for (size_t k = 0; k < RF_ARRAY_LEN(bad_types); k++) {
            one_tensor(&b, "t", 1, ne1, bad_types[k], 0, 64);
            expect_fail(&b, RF_ERR_FORMAT, "unknown or retired type", "tensor type");
            bb_free(&b);
        }
    }
    /* ne[0] not a multiple of the block size */
    { uint64_t ne[2] = {33, 2}; one_tensor(&b, "t", 2, ne, RF_TYPE_Q4_0, 0, 64); }
    expect_fail(&b, RF_ERR_FORMAT, "not a multiple of the block size", "block size"); bb_free(&b);
    { uint64_t ne[1] = {255}; one_tensor(&b, "t", 1, ne, RF_TYPE_Q4_K, 0, 256); }
    expect_fail(&b, RF_ERR_FORMAT, "not a multiple of the block size", "block size k"); bb_free(&b);
    /* offset + size past the end */
    one_tensor(&b, "t", 1, ne1, 0, 0, 31);
    expect_fail(&b, RF_ERR_FORMAT, "past the end", "data short by one"); bb_free(&b);
    one_tensor(&b, "t", 1, ne1, 0, 64, 64);
    expect_fail(&b, RF_ERR_FORMAT, "past the end", "offset past end"); bb_free(&b);
    one_tensor(&b, "t", 1, ne1, 0, UINT64_MAX - 31, 64);
    expect_fail(&b, RF_ERR_FORMAT, "past the end", "offset wraps"); bb_free(&b);
    /* tensor table ends inside the header: data section absent */
    bb_header(&b, 3, 1, 0); bb_tensor(&b, "t", 1, ne1, 0, 0);
    expect_fail(&b, RF_ERR_FORMAT, "past the end", "no data section"); bb_free(&b);
    /* overlapping tensors */
    {
        uint64_t ne[1] = {16};
        bb_header(&b, 3, 2, 0);
        bb_tensor(&b, "a", 1, ne, 0, 32);
        bb_tensor(&b, "b", 1, ne, 0, 64);
        bb_tensor(&b, "c", 1, ne, 0, 0); /* not reached: count is 2 */
        b.n -= 8 + 1 + 4 + 8 + 4 + 8;
        bb_pad(&b, 32);
        bb_fill(&b, 160, 0);
        /* a: [32, 96), b: [64, 128) */
        expect_fail(&b, RF_ERR_FORMAT, "overlap", "overlap");
        bb_free(&b);
        bb_header(&b, 3, 2, 0);
        bb_tensor(&b, "a", 1, ne, 0, 0);
        bb_tensor(&b, "b", 1, ne, 0, 0);
        bb_pad(&b, 32);
        bb_fill(&b, 64, 0);
        expect_fail(&b, RF_ERR_FORMAT, "overlap", "same offset");
        bb_free(&b);
    }
    /* misaligned offset */
    one_tensor(&b, "t", 1, ne1, 0, 4, 64);
    expect_fail(&b, RF_ERR_FORMAT, "not a multiple of the alignment", "misaligned"); bb_free(&b);
    /* alignment: 0, not a power of two, huge, wrong type */
    {
        static const uint32_t bad_al[] = {0, 3, 48, 0x80000000u, 1u << 21};
        static const char *msgs[] = {"power of two", "power of two", "power of two", "exceeds the limit",
                                     "exceeds the limit"};
        for (size_t k = 0; k < RF_ARRAY_LEN(bad_al); k++) {
            bb_header(&b, 3, 0, 1); bb_kv_u32(&b, "general.alignment", bad_al[k]);
            expect_fail(&b, RF_ERR_FORMAT, msgs[k], "alignment value");
            bb_free(&b);
        }
        bb_header(&b, 3, 0, 1); bb_str(&b, "general.alignment"); bb_u32(&b, RF_GGUF_U64); bb_u64(&b, 32);
        expect_fail(&b, RF_ERR_FORMAT, "must be of type u32", "alignment u64"); bb_free(&b);
        bb_header(&b, 3, 0, 1); bb_str(&b, "general.alignment"); bb_u32(&b, RF_GGUF_I32); bb_u32(&b, 32);
        expect_fail(&b, RF_ERR_FORMAT, "must be of type u32", "alignment i32"); bb_free(&b);
        bb_header(&b, 3, 0, 1); bb_kv_str(&b, "general.alignment", "32");
        expect_fail(&b, RF_ERR_FORMAT, "must be of type u32", "alignment string"); bb_free(&b);
        /* a valid non-default alignment moves the data section */
        bb_header(&b, 3, 1, 1); bb_kv_u32(&b, "general.alignment", 256); bb_tensor(&b, "t", 1, ne1, 0, 0);
        bb_pad(&b, 256); bb_fill(&b, 32, 0);
        rf_gguf *g = NULL;
        rf_err e;
        RF_CHECK(rf_gguf_open_buffer(b.p, b.n, &g, &e) == RF_OK && rf_gguf_alignment(g) == 256 &&
                 rf_gguf_data_offset(g, 0) == 256);
        rf_gguf_free(g);
        bb_free(&b);
    }
    /* duplicate keys, duplicate tensor names */
    bb_header(&b, 3, 0, 3); bb_kv_u32(&b, "a", 1); bb_kv_u32(&b, "b", 1); bb_kv_str(&b, "a", "x");
    expect_fail(&b, RF_ERR_FORMAT, "duplicate metadata key 'a'", "duplicate key"); bb_free(&b);
    bb_header(&b, 3, 2, 0); bb_tensor(&b, "w", 1, ne1, 0, 0); bb_tensor(&b, "w", 1, ne1, 0, 32);
    bb_pad(&b, 32); bb_fill(&b, 64, 0);
    expect_fail(&b, RF_ERR_FORMAT, "duplicate tensor 'w'", "duplicate tensor"); bb_free(&b);
    /* empty names */
    bb_header(&b, 3, 0, 1); bb_kv_u32(&b, "", 1);
    expect_fail(&b, RF_ERR_FORMAT, "empty name", "empty key"); bb_free(&b);
    one_tensor(&b, "", 1, ne1, 0, 0, 32);
    expect_fail(&b, RF_ERR_FORMAT, "empty name", "empty tensor name"); bb_free(&b);
    /* non-UTF-8 names */
    {
        static const char *bad[] = {"k\xff", "k\xc0\x80", "k\xed\xa0\x80", "k\xe4\xb8", "\x80k", "k\xf4\x90\x80\x80"};
        for (size_t k = 0; k < RF_ARRAY_LEN(bad); k++) {
            bb_header(&b, 3, 0, 1); bb_kv_u32(&b, bad[k], 1);
            expect_fail(&b, RF_ERR_FORMAT, "not valid UTF-8", "non-UTF-8 key");
            bb_free(&b);
            one_tensor(&b, bad[k], 1, ne1, 0, 0, 32);
            expect_fail(&b, RF_ERR_FORMAT, "not valid UTF-8", "non-UTF-8 tensor name");
            bb_free(&b);
        }
        bb_header(&b, 3, 0, 1); bb_strn(&b, "a\0b", 3); bb_u32(&b, RF_GGUF_U8); bb_u8(&b, 1);
        expect_fail(&b, RF_ERR_FORMAT, "NUL", "NUL in key"); bb_free(&b);
    }
    /* non-UTF-8 string values are allowed (byte tokens) */
    bb_header(&b, 3, 0, 2); bb_kv_str(&b, "v", "\xff\xfe"); bb_str(&b, "a"); bb_u32(&b, RF_GGUF_ARRAY);
    bb_u32(&b, RF_GGUF_STRING); bb_u64(&b, 2); bb_str(&b, "\x80"); bb_str(&b, "ok");
    {
        rf_gguf *g = NULL;
        rf_err e;
        rf_str s;
        RF_CHECK(rf_gguf_open_buffer(b.p, b.n, &g, &e) == RF_OK && rf_gguf_get_str(g, "v", &s) == RF_OK && s.len == 2);
        rf_gguf_free(g);
    }
    bb_free(&b);
    /* unknown value types, element types, nesting depth */
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, 13); bb_u32(&b, 0);
    expect_fail(&b, RF_ERR_FORMAT, "unknown value type 13", "value type 13"); bb_free(&b);
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, 0xffffffffu); bb_u32(&b, 0);
    expect_fail(&b, RF_ERR_FORMAT, "unknown value type", "value type max"); bb_free(&b);
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, RF_GGUF_ARRAY); bb_u32(&b, 77); bb_u64(&b, 1); bb_u32(&b, 0);
    expect_fail(&b, RF_ERR_FORMAT, "unknown element type", "array elem type"); bb_free(&b);
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, RF_GGUF_ARRAY);
    for (int d = 0; d < RF_GGUF_MAX_NESTING + 1; d++) { bb_u32(&b, RF_GGUF_ARRAY); bb_u64(&b, 1); }
    bb_u32(&b, RF_GGUF_U8); bb_u64(&b, 0);
    expect_fail(&b, RF_ERR_FORMAT, "nested deeper", "nesting depth"); bb_free(&b);
    /* nested arrays within the limit are fine */
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, RF_GGUF_ARRAY);
    for (int d = 0; d < RF_GGUF_MAX_NESTING - 1; d++) { bb_u32(&b, RF_GGUF_ARRAY); bb_u64(&b, 1); }
    bb_u32(&b, RF_GGUF_U8); bb_u64(&b, 2); bb_u8(&b, 7); bb_u8(&b, 9);
    {
        rf_gguf *g = NULL;
        rf_err e;
        RF_CHECK(rf_gguf_open_buffer(b.p, b.n, &g, &e) == RF_OK);
        const rf_gguf_value *v = rf_gguf_get(g, "k");
        rf_gguf_value cur = v ? *v : (rf_gguf_value){0};
        int depth = 0;
        while (cur.type == RF_GGUF_ARRAY && cur.v.arr.elem_type == RF_GGUF_ARRAY) {
            rf_gguf_arr_iter it;
            rf_gguf_value nx;
            rf_gguf_arr_iter_init(&it, &cur);
            if (!rf_gguf_arr_iter_next(&it, &nx)) break;
            cur = nx;
            depth++;
        }
        RF_CHECK(depth == RF_GGUF_MAX_NESTING - 1 && cur.v.arr.n == 2 && cur.v.arr.data[1] == 9);
        rf_gguf_free(g);
    }
    bb_free(&b);
    /* truncated inside a scalar value and after the key */
    bb_header(&b, 3, 0, 1); bb_str(&b, "k"); bb_u32(&b, RF_GGUF_U64); bb_u32(&b, 1);
    expect_fail(&b, RF_ERR_FORMAT, "truncated", "truncated u64"); bb_free(&b);
    /* split keys in a buffer */
    bb_header(&b, 3, 0, 2); bb_str(&b, "split.count"); bb_u32(&b, RF_GGUF_U16); bb_u16(&b, 3);
    bb_str(&b, "split.no"); bb_u32(&b, RF_GGUF_U16); bb_u16(&b, 0);
    expect_fail_buf(b.p, b.n, RF_ERR_UNSUPPORTED, "split", "split in buffer"); bb_free(&b);
    bb_header(&b, 3, 0, 1); bb_kv_str(&b, "split.count", "3");
    expect_fail(&b, RF_ERR_FORMAT, "split.count must be an integer", "split.count type"); bb_free(&b);
    /* invalid arguments */
    {
        rf_gguf *g;
        rf_err e;
        RF_CHECK(rf_gguf_open_buffer(NULL, 10, &g, &e) == RF_ERR_INVALID_ARG);
        RF_CHECK(rf_gguf_open_buffer(NULL, 0, &g, &e) == RF_ERR_FORMAT && g == NULL && strstr(e.msg, "too short"));
        RF_CHECK(rf_gguf_open_buffer("GGUF", 4, NULL, &e) == RF_ERR_INVALID_ARG);
        RF_CHECK(rf_gguf_open(NULL, &g, &e) == RF_ERR_INVALID_ARG);
        RF_CHECK(rf_gguf_open("/nonexistent/x.gguf", &g, &e) == RF_ERR_NOT_FOUND && strstr(e.msg, "cannot open"));
        RF_CHECK(rf_gguf_open(tmpdir, &g, &e) == RF_ERR_IO && strstr(e.msg, "not a regular file"));
        rf_gguf_free(NULL);
    }
}

/* ---- truncation at every byte offset ---------------------------------------------------- */

static void test_truncation(void) {
    /* A file with no trailing padding, so every proper prefix is invalid. */
    bb b = {0};
    uint64_t ne[2] = {8, 2};
    bb_header(&b, 3, 2, 4);
    bb_kv_str(&b, "general.architecture", "llama");
    bb_str(&b, "arr"); bb_u32(&b, RF_GGUF_ARRAY); bb_u32(&b, RF_GGUF_STRING); bb_u64(&b, 2); bb_str(&b, "x"); bb_str(&b, "yz");
    bb_str(&b, "nest"); bb_u32(&b, RF_GGUF_ARRAY); bb_u32(&b, RF_GGUF_ARRAY); bb_u64(&b, 1);
    bb_u32(&b, RF_GGUF_U16); bb_u64(&b, 2); bb_u16(&b, 1); bb_u16(&b, 2);
    bb_kv_u32(&b, "general.alignment", 16);
    bb_tensor(&b, "a", 2, ne, RF_TYPE_F16, 0);
    bb_tensor(&b, "b", 1, ne, RF_TYPE_F32, 32);
    bb_pad(&b, 16);
    bb_fill(&b, 64, 5);
    rf_gguf *g = NULL;
    rf_err e;
    RF_CHECK(rf_gguf_open_buffer(b.p, b.n, &g, &e) == RF_OK);
    rf_gguf_free(g);
    size_t base = rf__alloc_live_blocks();
    int bad = 0;
    char path[512];
    path_in_tmp(path, sizeof path, "trunc.gguf");
    for (size_t n = 0; n < b.n; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, b.p, n);
        g = (rf_gguf *)1;
        rf_status st = rf_gguf_open_buffer(copy, n, &g, &e);
        if (st != RF_ERR_FORMAT || g != NULL || e.msg[0] == 0) {
            fprintf(stderr, "truncated at %zu: status %d (%s)\n", n, st, e.msg);
            bad++;
        }
        free(copy);
        if (write_bytes(path, b.p, n) != 0) bad++;
        st = rf_gguf_open(path, &g, &e);
        if (st != RF_ERR_FORMAT || g != NULL) {
            fprintf(stderr, "file truncated at %zu: status %d (%s)\n", n, st, e.msg);
            bad++;
        }
    }
    unlink(path);
    RF_CHECK(bad == 0);
    RF_CHECK(rf__alloc_live_blocks() == base);
    bb_free(&b);
}

/* ---- splits --------------------------------------------------------------------------- */

static void write_split(const char *name, uint32_t no, uint32_t count, int32_t tcount, size_t first, size_t last) {
    rf_gguf_writer *w = NULL;
    RF_CHECK(rf_gguf_writer_create(&w) == RF_OK);
    rf_gguf_value v;
    if (no == 0) {
        RF_CHECK(rf_gguf_writer_set_str(w, "general.architecture", "llama") == RF_OK);
        RF_CHECK(rf_gguf_writer_set_u32(w, "llama.block_count", 3) == RF_OK);
    }
    v.type = RF_GGUF_U16; v.v.u = no; RF_CHECK(rf_gguf_writer_set_value(w, "split.no", &v) == RF_OK);
    v.type = RF_GGUF_U16; v.v.u = count; RF_CHECK(rf_gguf_writer_set_value(w, "split.count", &v) == RF_OK);
    if (tcount >= 0) RF_CHECK(rf_gguf_writer_set_i32(w, "split.tensors.count", tcount) == RF_OK);
    for (size_t i = first; i < last; i++)
        RF_CHECK(rf_gguf_writer_add_tensor(w, tensors[i].name, tensors[i].type, tensors[i].n_dims, tensors[i].ne,
                                           tensors[i].data) == RF_OK);
    char path[512];
    path_in_tmp(path, sizeof path, name);
    rf_err e;
    RF_CHECK(rf_gguf_writer_write(w, path, NULL, NULL, &e) == RF_OK);
    rf_gguf_writer_free(w);
}

static void check_split_model(const rf_gguf *g) {
    RF_CHECK(rf_gguf_n_splits(g) == 3 && rf_gguf_n_tensors(g) == NT);
    uint32_t u;
    RF_CHECK(rf_gguf_get_u32(g, "llama.block_count", &u) == RF_OK && u == 3);
    for (size_t i = 0; i < NT; i++) {
        const rf_gguf_tensor *t = rf_gguf_find_tensor(g, tensors[i].name);
        RF_CHECK(t != NULL);
        if (!t) continue;
        uint32_t want = i < 2 ? 0 : i < 5 ? 1 : 2;
        RF_CHECK(t->split == want && t->nbytes == tensors[i].nbytes && memcmp(t->data, tensors[i].data, t->nbytes) == 0);
    }
}

static void test_splits(void) {
    size_t base = rf__alloc_live_blocks();
    write_split("m-00001-of-00003.gguf", 0, 3, (int32_t)NT, 0, 2);
    write_split("m-00002-of-00003.gguf", 1, 3, -1, 2, 5);
    write_split("m-00003-of-00003.gguf", 2, 3, -1, 5, NT);
    char p1[512], p2[512], p3[512];
    path_in_tmp(p1, sizeof p1, "m-00001-of-00003.gguf");
    path_in_tmp(p2, sizeof p2, "m-00002-of-00003.gguf");
    path_in_tmp(p3, sizeof p3, "m-00003-of-00003.gguf");
    rf_gguf *g = NULL;
    rf_err e = {0};
    RF_CHECK(rf_gguf_open(p1, &g, &e) == RF_OK);
    if (g) check_split_model(g);
    uint64_t total = 0;
    {
        struct stat sb;
        if (stat(p1, &sb) == 0) total += (uint64_t)sb.st_size;
        if (stat(p2, &sb) == 0) total += (uint64_t)sb.st_size;
        if (stat(p3, &sb) == 0) total += (uint64_t)sb.st_size;
    }
    RF_CHECK(rf_gguf_file_size(g) == total);
    rf_gguf_free(g);
    /* allocation failures while opening splits */
    for (long n = 0; n < 1000; n++) {
        size_t b0 = rf__alloc_live_blocks();
        rf__alloc_fail_after(n);
        g = NULL;
        rf_status st = rf_gguf_open(p1, &g, &e);
        rf__alloc_fail_after(-1);
        if (st == RF_OK) { check_split_model(g); rf_gguf_free(g); break; }
        RF_CHECK(st == RF_ERR_NOMEM && g == NULL && rf__alloc_live_blocks() == b0);
    }
    /* opening a later split */
    RF_CHECK(rf_gguf_open(p2, &g, &e) == RF_ERR_FORMAT && strstr(e.msg, "open the first split"));
    /* split file renamed: name does not say 00001-of-00003 */
    char other[512];
    path_in_tmp(other, sizeof other, "renamed.gguf");
    RF_CHECK(rename(p1, other) == 0);
    RF_CHECK(rf_gguf_open(other, &g, &e) == RF_ERR_FORMAT && strstr(e.msg, "does not follow"));
    RF_CHECK(rename(other, p1) == 0);
    /* missing split */
    RF_CHECK(rename(p3, other) == 0);
    RF_CHECK(rf_gguf_open(p1, &g, &e) == RF_ERR_NOT_FOUND && strstr(e.msg, "m-00003-of-00003.gguf"));
    RF_CHECK(rename(other, p3) == 0);
    /* wrong split.no in the second file */
    write_split("m-00002-of-00003.gguf", 2, 3, -1, 2, 5);
    RF_CHECK(rf_gguf_open(p1, &g, &e) == RF_ERR_FORMAT && strstr(e.msg, "expected 1 / 3"));
    write_split("m-00002-of-00003.gguf", 1, 3, -1, 2, 5);
    /* split.tensors.count mismatch */
    write_split("m-00001-of-00003.gguf", 0, 3, (int32_t)NT + 1, 0, 2);
    RF_CHECK(rf_gguf_open(p1, &g, &e) == RF_ERR_FORMAT && strstr(e.msg, "split.tensors.count"));
    /* a tensor name repeated across splits */
    write_split("m-00001-of-00003.gguf", 0, 3, (int32_t)NT + 1, 0, 3);
    RF_CHECK(rf_gguf_open(p1, &g, &e) == RF_ERR_FORMAT && strstr(e.msg, "duplicate tensor"));
    /* the name says split but the keys do not */
    {
        bb b = {0};
        bb_header(&b, 3, 0, 1); bb_kv_u32(&b, "x", 1);
        char p[512];
        path_in_tmp(p, sizeof p, "n-00001-of-00002.gguf");
        RF_CHECK(write_bytes(p, b.p, b.n) == 0);
        RF_CHECK(rf_gguf_open(p, &g, &e) == RF_ERR_FORMAT && strstr(e.msg, "no split.count"));
        unlink(p);
        bb_free(&b);
    }
    unlink(p1);
    unlink(p2);
    unlink(p3);
    RF_CHECK(rf__alloc_live_blocks() == base);
}

/* ---- allocation failure injection ------------------------------------------------------- */

static void test_alloc_failures(void) {
    rf_gguf_writer *w = build_writer(false, 64);
    void *buf = NULL;
    size_t size = 0;
    rf_err e;
    RF_CHECK(rf_gguf_writer_write_buffer(w, &buf, &size, &e) == RF_OK);
    char path[512];
    path_in_tmp(path, sizeof path, "af.gguf");
    RF_CHECK(write_bytes(path, buf, size) == 0);
    size_t base = rf__alloc_live_blocks();
    for (int mode = 0; mode < 2; mode++) {
        long n;
        int failures = 0;
        for (n = 0; n < 1000; n++) {
            rf_gguf *g = NULL;
            rf__alloc_fail_after(n);
            rf_status st = mode ? rf_gguf_open(path, &g, &e) : rf_gguf_open_buffer(buf, size, &g, &e);
            bool injected = rf__alloc_failed_injected();
            rf__alloc_fail_after(-1);
            if (st == RF_OK) {
                RF_CHECK(!injected);
                check_model(g, 64);
                rf_gguf_free(g);
                break;
            }
            failures++;
            RF_CHECK(st == RF_ERR_NOMEM && g == NULL && injected);
            RF_CHECK(rf__alloc_live_blocks() == base);
        }
        RF_CHECK(n < 1000 && failures >= 3);
    }
    /* writer under allocation failure */
    for (long n = 0; n < 100000; n++) {
        rf__alloc_fail_after(n);
        rf_gguf_writer *w2 = NULL;
        rf_status st = rf_gguf_writer_create(&w2);
        const char *strs[2] = {"a", "b"};
        if (!st) st = rf_gguf_writer_set_str(w2, "k", "v");
        if (!st) st = rf_gguf_writer_set_arr_str(w2, "s", strs, 2);
        if (!st) st = rf_gguf_writer_copy_kv(w2, NULL, 0) == RF_ERR_INVALID_ARG ? RF_OK : RF_ERR_INTERNAL;
        if (!st) st = rf_gguf_writer_add_tensor(w2, tensors[0].name, tensors[0].type, 2, tensors[0].ne, tensors[0].data);
        void *b2 = NULL;
        size_t s2;
        if (!st) st = rf_gguf_writer_write_buffer(w2, &b2, &s2, &e);
        rf__alloc_fail_after(-1);
        rf__free(b2);
        rf_gguf_writer_free(w2);
        RF_CHECK(st == RF_OK || st == RF_ERR_NOMEM);
        RF_CHECK(rf__alloc_live_blocks() == base);
        if (st == RF_OK) break;
    }
    unlink(path);
    rf__free(buf);
    rf_gguf_writer_free(w);
}

/* ---- many keys and tensors: lookups stay fast ------------------------------------------- */

static void test_many(void) {
    rf_gguf_writer *w = NULL;
    RF_CHECK(rf_gguf_writer_create(&w) == RF_OK);
    enum { NK = 300, NTEN = 5000 };
    char name[64];
    for (int i = 0; i < NK; i++) {
        snprintf(name, sizeof name, "key.%d", i);
        RF_CHECK(rf_gguf_writer_set_u32(w, name, (uint32_t)i * 7) == RF_OK);
    }
    float data[32];
    rnd_fill(data, sizeof data);
    int64_t ne[1] = {32};
    for (int i = 0; i < NTEN; i++) {
        snprintf(name, sizeof name, "blk.%d.w", i);
        RF_CHECK(rf_gguf_writer_add_tensor(w, name, RF_TYPE_F16, 1, ne, data) == RF_OK);
    }
    void *buf;
    size_t size;
    rf_err e;
    RF_CHECK(rf_gguf_writer_write_buffer(w, &buf, &size, &e) == RF_OK);
    rf_gguf *g = NULL;
    RF_CHECK(rf_gguf_open_buffer(buf, size, &g, &e) == RF_OK);
    int bad = 0;
    double t0 = rf__now();
    for (int rep = 0; rep < 20; rep++) {
        for (int i = 0; i < NTEN; i++) {
            snprintf(name, sizeof name, "blk.%d.w", i);
            const rf_gguf_tensor *t = rf_gguf_find_tensor(g, name);
            if (!t || t != rf_gguf_tensor_at(g, (uint64_t)i)) bad++;
        }
        for (int i = 0; i < NK; i++) {
            uint32_t u;
            snprintf(name, sizeof name, "key.%d", i);
            if (rf_gguf_get_u32(g, name, &u) != RF_OK || u != (uint32_t)i * 7) bad++;
        }
    }
    double dt = rf__now() - t0;
    RF_CHECK(bad == 0);
    /* 106000 lookups; a linear scan would take seconds */
    RF_CHECK(dt < 1.0);
    rf_gguf_free(g);
    rf__free(buf);
    rf_gguf_writer_free(w);
}

int main(void) {
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/rf_test_gguf_XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    make_data();
    test_round_trip();
    test_malformed();
    test_truncation();
    test_splits();
    test_alloc_failures();
    test_many();
    for (size_t i = 0; i < NT; i++) free(tensors[i].data);
    rmdir(tmpdir);
    return rf_test_finish("test_gguf");
}
