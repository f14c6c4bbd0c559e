/* inspect_json.c - the --json view of `rocmforge inspect`.
 *
 * Value encoding: integers as JSON integers (u64 values beyond the int64
 * range as decimal strings), floats as JSON numbers (NaN and infinities as the
 * strings "nan", "inf", "-inf"), booleans as true/false, strings as JSON
 * strings unless they are not valid UTF-8, in which case as
 * {"hex": "<bytes in hex>"}. An array value is {"elem_type", "n", "values"}
 * where "values" (nested arrays encoded the same way) is present when n is at
 * most RF_INSPECT_JSON_ARRAY_LIMIT, or always with --full. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

static json_t *str_json(rf_str s) {
    json_t *j = json_stringn(s.ptr, s.len); /* NULL for invalid UTF-8 */
    if (j) return j;
    static const char hexd[] = "0123456789abcdef";
    char *hex = malloc(s.len * 2 + 1);
    if (!hex) return NULL;
    for (uint64_t i = 0; i < s.len; i++) {
        hex[2 * i] = hexd[(uint8_t)s.ptr[i] >> 4];
        hex[2 * i + 1] = hexd[(uint8_t)s.ptr[i] & 15];
    }
    hex[s.len * 2] = 0;
    j = json_pack("{s:s}", "hex", hex);
    free(hex);
    return j;
}

static json_t *value_json(const rf_gguf_value *v, bool full);

static json_t *array_json(const rf_gguf_value *v, bool full) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "elem_type", json_string(rf_gguf_vtype_name(v->v.arr.elem_type)));
    json_object_set_new(o, "n", json_integer((json_int_t)v->v.arr.n));
    if (full || v->v.arr.n <= RF_INSPECT_JSON_ARRAY_LIMIT) {
        json_t *a = json_array();
        rf_gguf_arr_iter it;
        rf_gguf_value e;
        rf_gguf_arr_iter_init(&it, v);
        while (a && rf_gguf_arr_iter_next(&it, &e)) json_array_append_new(a, value_json(&e, full));
        json_object_set_new(o, "values", a);
    }
    return o;
}

static json_t *value_json(const rf_gguf_value *v, bool full) {
    switch (v->type) {
    case RF_GGUF_U8: case RF_GGUF_U16: case RF_GGUF_U32: case RF_GGUF_U64:
        if (v->v.u > (uint64_t)INT64_MAX) {
            char buf[32];
            snprintf(buf, sizeof buf, "%" PRIu64, v->v.u);
            return json_string(buf);
        }
        return json_integer((json_int_t)v->v.u);
    case RF_GGUF_I8: case RF_GGUF_I16: case RF_GGUF_I32: case RF_GGUF_I64:
        return json_integer((json_int_t)v->v.i);
    case RF_GGUF_F32: case RF_GGUF_F64:
        if (isnan(v->v.f)) return json_string("nan");
        if (isinf(v->v.f)) return json_string(v->v.f > 0 ? "inf" : "-inf");
        return json_real(v->v.f);
    case RF_GGUF_BOOL:
        return json_boolean(v->v.u != 0);
    case RF_GGUF_STRING:
        return str_json(v->v.s);
    case RF_GGUF_ARRAY:
        return array_json(v, full);
    default:
        return json_null();
    }
}

static json_t *rfstr(rf_str s) { return str_json(s); }

static void set_key_value(json_t *obj, const char *name, const rf_gguf *g, const char *key) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (v) json_object_set_new(obj, name, value_json(v, false));
}

static json_t *tokenizer_json(const rf_gguf *g) {
    json_t *t = json_object();
    if (!t) return NULL;
    set_key_value(t, "model", g, "tokenizer.ggml.model");
    set_key_value(t, "pre", g, "tokenizer.ggml.pre");
    rf_gguf_vtype et;
    uint64_t n_vocab = 0, n;
    bool have_vocab = rf_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n_vocab) == RF_OK && et == RF_GGUF_STRING;
    if (have_vocab) json_object_set_new(t, "vocab_size", json_integer((json_int_t)n_vocab));
    if (rf_gguf_get_arr(g, "tokenizer.ggml.merges", &et, &n) == RF_OK)
        json_object_set_new(t, "merges", json_integer((json_int_t)n));
    json_t *sp = json_object();
    for (int i = 0; rf__inspect_special[i]; i++) {
        char key[96];
        snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", rf__inspect_special[i]);
        const rf_gguf_value *v = rf_gguf_get(g, key);
        if (!v || !sp) continue;
        json_t *e = json_object();
        int64_t id;
        rf_str text;
        if (rf__inspect_int(v, &id)) {
            json_object_set_new(e, "id", json_integer(id));
            bool valid = id >= 0 && have_vocab && (uint64_t)id < n_vocab && rf__inspect_token_text(g, (uint64_t)id, &text);
            json_object_set_new(e, "valid", json_boolean(valid));
            if (valid) json_object_set_new(e, "text", rfstr(text));
        } else {
            json_object_set_new(e, "id", value_json(v, false));
            json_object_set_new(e, "valid", json_false());
        }
        json_object_set_new(sp, rf__inspect_special[i], e);
    }
    json_object_set_new(t, "special", sp);
    static const char *const flags[] = {"add_bos_token", "add_eos_token", "add_sep_token", "add_space_prefix", NULL};
    for (int i = 0; flags[i]; i++) {
        char key[96];
        snprintf(key, sizeof key, "tokenizer.ggml.%s", flags[i]);
        set_key_value(t, flags[i], g, key);
    }
    rf_str tmpl;
    json_object_set_new(t, "chat_template", json_boolean(rf_gguf_get_str(g, "tokenizer.chat_template", &tmpl) == RF_OK));
    return t;
}

json_t *rf__inspect_json(const char *path, const rf_gguf *g, bool full) {
    json_t *root = json_object();
    if (!root) return NULL;
    json_object_set_new(root, "file", json_string(path));
    json_object_set_new(root, "version", json_integer(rf_gguf_version(g)));
    json_object_set_new(root, "alignment", json_integer((json_int_t)rf_gguf_alignment(g)));
    json_object_set_new(root, "splits", json_integer(rf_gguf_n_splits(g)));
    json_object_set_new(root, "file_size", json_integer((json_int_t)rf_gguf_file_size(g)));
    json_object_set_new(root, "data_offset", json_integer((json_int_t)rf_gguf_data_offset(g, 0)));
    rf_str arch = {"", 0};
    bool have_arch = rf_gguf_get_str(g, "general.architecture", &arch) == RF_OK;
    if (have_arch) json_object_set_new(root, "architecture", rfstr(arch));
    set_key_value(root, "name", g, "general.name");
    const rf_gguf_value *ft = rf_gguf_get(g, "general.file_type");
    int64_t ftv;
    if (ft && rf__inspect_int(ft, &ftv)) {
        const char *nm = ftv >= 0 ? rf__inspect_ftype_name((uint64_t)ftv) : NULL;
        json_object_set_new(root, "file_type", json_pack("{s:I,s:s?}", "id", (json_int_t)ftv, "name", nm));
    }

    /* hyperparameters: every <arch>.* key, suffix -> value */
    json_t *hp = json_object();
    if (have_arch && hp) {
        for (uint64_t i = 0; i < rf_gguf_n_kv(g); i++) {
            rf_str k = rf_gguf_kv_key(g, i);
            if (k.len <= arch.len + 1 || memcmp(k.ptr, arch.ptr, arch.len) != 0 || k.ptr[arch.len] != '.') continue;
            char suffix[256];
            snprintf(suffix, sizeof suffix, "%.*s", (int)(k.len - arch.len - 1), k.ptr + arch.len + 1);
            json_object_set_new(hp, suffix, value_json(rf_gguf_kv_value(g, i), full));
        }
    }
    json_object_set_new(root, "hyperparameters", hp);
    json_object_set_new(root, "tokenizer", tokenizer_json(g));

    json_t *meta = json_array();
    for (uint64_t i = 0; meta && i < rf_gguf_n_kv(g); i++) {
        const rf_gguf_value *v = rf_gguf_kv_value(g, i);
        json_t *e = json_object();
        json_object_set_new(e, "key", rfstr(rf_gguf_kv_key(g, i)));
        json_object_set_new(e, "type", json_string(rf_gguf_vtype_name(v->type)));
        json_object_set_new(e, "value", value_json(v, full));
        json_array_append_new(meta, e);
    }
    json_object_set_new(root, "metadata", meta);

    json_t *tens = json_array();
    json_t *by_type = json_object();
    uint64_t params = 0, bytes = 0;
    for (uint64_t i = 0; tens && i < rf_gguf_n_tensors(g); i++) {
        const rf_gguf_tensor *t = rf_gguf_tensor_at(g, i);
        const rf_type_traits *tr = rf_type_get(t->type);
        json_t *shape = json_array();
        for (uint32_t d = 0; d < t->n_dims; d++) json_array_append_new(shape, json_integer(t->ne[d]));
        json_t *e = json_object();
        json_object_set_new(e, "name", rfstr(t->name));
        json_object_set_new(e, "shape", shape);
        json_object_set_new(e, "type", json_string(tr->name));
        json_object_set_new(e, "type_id", json_integer(t->type));
        json_object_set_new(e, "offset", json_integer((json_int_t)t->offset));
        json_object_set_new(e, "file_offset",
                            json_integer((json_int_t)(rf_gguf_data_offset(g, t->split) + t->offset)));
        json_object_set_new(e, "bytes", json_integer((json_int_t)t->nbytes));
        json_object_set_new(e, "split", json_integer(t->split));
        json_array_append_new(tens, e);
        int64_t ne = rf_gguf_tensor_nelements(t);
        params += (uint64_t)ne;
        bytes += t->nbytes;
        if (by_type) {
            json_t *bt = json_object_get(by_type, tr->name);
            if (!bt) {
                bt = json_pack("{s:I,s:I,s:I}", "tensors", (json_int_t)0, "parameters", (json_int_t)0, "bytes",
                               (json_int_t)0);
                json_object_set_new(by_type, tr->name, bt);
            }
            json_t *c = json_object_get(bt, "tensors"), *p = json_object_get(bt, "parameters"),
                   *b = json_object_get(bt, "bytes");
            if (c && p && b) {
                json_integer_set(c, json_integer_value(c) + 1);
                json_integer_set(p, json_integer_value(p) + ne);
                json_integer_set(b, json_integer_value(b) + (json_int_t)t->nbytes);
            }
        }
    }
    json_object_set_new(root, "tensors", tens);
    json_object_set_new(root, "parameters", json_integer((json_int_t)params));
    json_object_set_new(root, "tensor_bytes", json_integer((json_int_t)bytes));
    json_object_set_new(root, "by_type", by_type);
    return root;
}
