/*
 * fuzz_gguf.c - libFuzzer target for the GGUF reader (and, on what it
 * accepts, the writer): opens the input with rf_gguf_open_buffer, calls every
 * accessor, iterates every array down to its innermost elements, reads every
 * tensor's bytes, then copies the file through the writer and checks that the
 * copy parses to the same keys and tensors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"

static volatile uint64_t sink;

static void walk_value(const rf_gguf_value *v, int depth) {
    switch (v->type) {
    case RF_GGUF_STRING:
        if (v->v.s.len) sink += (uint8_t)v->v.s.ptr[0] + (uint8_t)v->v.s.ptr[v->v.s.len - 1];
        break;
    case RF_GGUF_ARRAY: {
        rf_gguf_arr_iter it;
        rf_gguf_value e;
        uint64_t n = 0;
        rf_gguf_arr_iter_init(&it, v);
        while (rf_gguf_arr_iter_next(&it, &e)) {
            if (e.type != v->v.arr.elem_type) __builtin_trap();
            walk_value(&e, depth + 1);
            n++;
        }
        if (n != v->v.arr.n || it.pos != v->v.arr.data + v->v.arr.nbytes) __builtin_trap();
        break;
    }
    case RF_GGUF_F32:
    case RF_GGUF_F64:
        sink += (uint64_t)(v->v.f == v->v.f);
        break;
    default:
        sink += v->v.u;
        break;
    }
}

static void getters(const rf_gguf *g, const char *key, const rf_gguf_value *v) {
    uint32_t u32;
    uint64_t u64;
    int32_t i32;
    float f;
    bool b;
    rf_str s;
    rf_gguf_vtype et;
    uint64_t n;
    sink += rf_gguf_get_u32(g, key, &u32) + rf_gguf_get_u64(g, key, &u64) + rf_gguf_get_i32(g, key, &i32) +
            rf_gguf_get_f32(g, key, &f) + rf_gguf_get_bool(g, key, &b) + rf_gguf_get_str(g, key, &s);
    if (rf_gguf_get_arr(g, key, &et, &n) == RF_OK) {
        if (v->type != RF_GGUF_ARRAY || n != v->v.arr.n) __builtin_trap();
        if (n <= 4096) {
            float *fa = malloc((n ? n : 1) * sizeof *fa);
            int32_t *ia = malloc((n ? n : 1) * sizeof *ia);
            uint32_t *ua = malloc((n ? n : 1) * sizeof *ua);
            if (fa && ia && ua) {
                sink += rf_gguf_get_arr_f32(g, key, fa, n) + rf_gguf_get_arr_i32(g, key, ia, n);
                sink += rf_gguf_get_u32_layers(g, key, ua, (uint32_t)n) + rf_gguf_get_f32_layers(g, key, fa, (uint32_t)n);
            }
            free(fa);
            free(ia);
            free(ua);
        }
    } else {
        uint32_t ua[4];
        float fa[4];
        sink += rf_gguf_get_u32_layers(g, key, ua, 4) + rf_gguf_get_f32_layers(g, key, fa, 4);
    }
}

/* Copies g through the writer and checks the copy. */
static void rewrite(const rf_gguf *g) {
    uint64_t al = rf_gguf_alignment(g), total = 4096;
    for (uint64_t i = 0; i < rf_gguf_n_tensors(g); i++) {
        total += rf_gguf_tensor_at(g, i)->nbytes + al + 128;
        if (total > (64u << 20)) return; /* keep memory bounded */
    }
    rf_gguf_writer *w = NULL;
    void *buf = NULL;
    size_t size = 0;
    rf_err err;
    rf_gguf *g2 = NULL;
    if (rf_gguf_writer_create(&w) != RF_OK) __builtin_trap();
    for (uint64_t i = 0; i < rf_gguf_n_kv(g); i++)
        if (rf_gguf_writer_copy_kv(w, g, i) != RF_OK) __builtin_trap();
    for (uint64_t i = 0; i < rf_gguf_n_tensors(g); i++) {
        const rf_gguf_tensor *t = rf_gguf_tensor_at(g, i);
        char *name = malloc(t->name.len + 1);
        memcpy(name, t->name.ptr, t->name.len);
        name[t->name.len] = 0;
        if (rf_gguf_writer_add_tensor(w, name, t->type, t->n_dims, t->ne, t->data) != RF_OK) __builtin_trap();
        free(name);
    }
    if (rf_gguf_writer_write_buffer(w, &buf, &size, &err) != RF_OK) __builtin_trap();
    if (rf_gguf_open_buffer(buf, size, &g2, &err) != RF_OK) __builtin_trap();
    if (rf_gguf_n_kv(g2) != rf_gguf_n_kv(g) || rf_gguf_n_tensors(g2) != rf_gguf_n_tensors(g) ||
        rf_gguf_alignment(g2) != rf_gguf_alignment(g))
        __builtin_trap();
    for (uint64_t i = 0; i < rf_gguf_n_tensors(g); i++) {
        const rf_gguf_tensor *a = rf_gguf_tensor_at(g, i), *b = rf_gguf_tensor_at(g2, i);
        if (a->nbytes != b->nbytes || memcmp(a->data, b->data, a->nbytes) != 0) __builtin_trap();
    }
    rf_gguf_free(g2);
    rf__free(buf);
    rf_gguf_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rf_gguf *g = NULL;
    rf_err err;
    rf_status st = rf_gguf_open_buffer(data, size, &g, &err);
    if (st != RF_OK) {
        if (g != NULL || err.msg[0] == 0 || err.status != st) __builtin_trap();
        return 0;
    }
    sink += rf_gguf_version(g) + rf_gguf_alignment(g) + rf_gguf_n_splits(g) + rf_gguf_file_size(g) +
            rf_gguf_data_offset(g, 0) + rf_gguf_data_offset(g, 1);
    char key[256];
    for (uint64_t i = 0; i < rf_gguf_n_kv(g); i++) {
        rf_str k = rf_gguf_kv_key(g, i);
        const rf_gguf_value *v = rf_gguf_kv_value(g, i);
        if (!v || k.len == 0) __builtin_trap();
        walk_value(v, 0);
        if (k.len < sizeof key) {
            memcpy(key, k.ptr, k.len);
            key[k.len] = 0;
            if (rf_gguf_find_key(g, key) != (int64_t)i || rf_gguf_get(g, key) != v) __builtin_trap();
            getters(g, key, v);
        }
    }
    rf_gguf_kv_value(g, rf_gguf_n_kv(g));
    rf_gguf_kv_key(g, rf_gguf_n_kv(g));
    for (uint64_t i = 0; i < rf_gguf_n_tensors(g); i++) {
        const rf_gguf_tensor *t = rf_gguf_tensor_at(g, i);
        const uint8_t *p = t->data;
        uint64_t sum = 0;
        for (uint64_t j = 0; j < t->nbytes; j += 61) sum += p[j];
        sum += p[t->nbytes - 1];
        sink += sum + (uint64_t)rf_gguf_tensor_nelements(t);
        if ((const uint8_t *)t->data < data || (const uint8_t *)t->data + t->nbytes > data + size) __builtin_trap();
        if (t->name.len < sizeof key) {
            memcpy(key, t->name.ptr, t->name.len);
            key[t->name.len] = 0;
            if (rf_gguf_find_tensor(g, key) != t) __builtin_trap();
        }
    }
    rf_gguf_tensor_at(g, rf_gguf_n_tensors(g));
    rf_gguf_find_tensor(g, "token_embd.weight");
    rewrite(g);
    rf_gguf_free(g);
    return 0;
}
