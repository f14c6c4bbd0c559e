/* test_quantize_model.c - the quantization module on a small generated model:
 * preset names, thread-count independence, output metadata and alignment,
 * precision of the result, non-finite inputs, and allocation failures at
 * every step (clean error, no leaks, no output left behind). The tensor-type
 * mixes against llama.cpp are tests/py/test_quantize_model.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "gguf/gguf.h"
#include "quant/quantize_model.h"
#include "rf_test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}
static float nrand(void) { return (float)(sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand())); }

static char tmpdir[256];
static void path_in_tmp(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }
static bool exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

enum { N_EMBD = 256, N_FF = 512, N_LAYER = 2, N_VOCAB = 64 };

typedef struct model_tensor {
    char name[64];
    rf_type type;
    uint32_t n_dims;
    int64_t ne[4];
    float *f32;   /* source values */
    void *data;   /* as stored */
} model_tensor;

static model_tensor tensors[32];
static int n_tensors;

static void add(const char *name, rf_type type, int64_t ne0, int64_t ne1) {
    model_tensor *t = &tensors[n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->type = type;
    t->n_dims = ne1 > 1 ? 2 : 1;
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    t->ne[2] = t->ne[3] = 1;
    size_t n = (size_t)(ne0 * ne1);
    t->f32 = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) t->f32[i] = t->n_dims == 1 ? 1.0f + 0.1f * nrand() : 0.05f * nrand();
    if (type == RF_TYPE_F16) {
        uint16_t *h = malloc(n * 2);
        for (size_t i = 0; i < n; i++) {
            h[i] = rf__fp32_to_fp16(t->f32[i]);
            t->f32[i] = rf__fp16_to_fp32(h[i]);
        }
        t->data = h;
    } else {
        t->data = t->f32;
    }
}

static void build_model(void) {
    char name[64];
    add("token_embd.weight", RF_TYPE_F16, N_EMBD, N_VOCAB);
    add("output_norm.weight", RF_TYPE_F32, N_EMBD, 1);
    for (int l = 0; l < N_LAYER; l++) {
        snprintf(name, sizeof name, "blk.%d.attn_norm.weight", l); add(name, RF_TYPE_F32, N_EMBD, 1);
        snprintf(name, sizeof name, "blk.%d.attn_q.weight", l); add(name, RF_TYPE_F16, N_EMBD, N_EMBD);
        snprintf(name, sizeof name, "blk.%d.attn_k.weight", l); add(name, RF_TYPE_F32, N_EMBD, 64);
        snprintf(name, sizeof name, "blk.%d.attn_v.weight", l); add(name, RF_TYPE_F16, N_EMBD, 64);
        snprintf(name, sizeof name, "blk.%d.ffn_up.weight", l); add(name, RF_TYPE_F16, N_EMBD, N_FF);
        snprintf(name, sizeof name, "blk.%d.ffn_down.weight", l); add(name, RF_TYPE_F16, N_FF, N_EMBD);
    }
}

static int write_model(const char *path, uint32_t alignment) {
    rf_gguf_writer *w = NULL;
    rf_err e = {0};
    int rc = -1;
    if (rf_gguf_writer_create(&w)) return -1;
    if (rf_gguf_writer_set_str(w, "general.architecture", "llama") ||
        rf_gguf_writer_set_u32(w, "llama.block_count", N_LAYER) ||
        rf_gguf_writer_set_u32(w, "llama.attention.head_count", 8) ||
        rf_gguf_writer_set_u32(w, "llama.attention.head_count_kv", 2) ||
        rf_gguf_writer_set_u32(w, "general.file_type", 1) ||
        rf_gguf_writer_set_str(w, "general.name", "quantize test") ||
        rf_gguf_writer_set_alignment(w, alignment))
        goto out;
    for (int i = 0; i < n_tensors; i++)
        if (rf_gguf_writer_add_tensor(w, tensors[i].name, tensors[i].type, tensors[i].n_dims, tensors[i].ne,
                                      tensors[i].data))
            goto out;
    if (rf_gguf_writer_write(w, path, NULL, NULL, &e)) {
        fprintf(stderr, "write_model: %s\n", e.msg);
        goto out;
    }
    rc = 0;
out:
    rf_gguf_writer_free(w);
    return rc;
}

static void *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(p, 1, (size_t)len, f);
    fclose(f);
    return p;
}

static int progress_calls;
static void count_progress(void *user, const rf_quantize_progress *p) {
    (void)user;
    RF_CHECK(p->index < p->count && p->name && p->done_src_bytes > 0);
    progress_calls++;
}

static void test_presets(void) {
    rf_ftype f;
    RF_CHECK(rf_ftype_from_name("Q4_K_M", &f) && f == RF_FTYPE_MOSTLY_Q4_K_M);
    RF_CHECK(rf_ftype_from_name("q4_k", &f) && f == RF_FTYPE_MOSTLY_Q4_K_M);
    RF_CHECK(rf_ftype_from_name("Q5_K", &f) && f == RF_FTYPE_MOSTLY_Q5_K_M);
    RF_CHECK(rf_ftype_from_name("Q3_K", &f) && f == RF_FTYPE_MOSTLY_Q3_K_M);
    RF_CHECK(rf_ftype_from_name("mxfp4", &f) && f == RF_FTYPE_MOSTLY_MXFP4_MOE);
    RF_CHECK(rf_ftype_from_name("7", &f) && f == RF_FTYPE_MOSTLY_Q8_0);
    RF_CHECK(rf_ftype_from_name("0", &f) && f == RF_FTYPE_ALL_F32);
    RF_CHECK(!rf_ftype_from_name("4", &f));   /* retired */
    RF_CHECK(!rf_ftype_from_name("Q4_7", &f));
    RF_CHECK(!rf_ftype_from_name("", &f));
    RF_CHECK(!rf_ftype_from_name("Q4_K_MM", &f));
    RF_CHECK(!rf_ftype_from_name("99999999999999999999", &f));
    RF_CHECK(!strcmp(rf_ftype_name(RF_FTYPE_MOSTLY_Q4_K_M), "Q4_K_M"));
    rf_type t;
    RF_CHECK(rf_ftype_default_type(RF_FTYPE_MOSTLY_Q4_K_S, &t) && t == RF_TYPE_Q4_K);
    RF_CHECK(rf_ftype_default_type(RF_FTYPE_MOSTLY_MXFP4_MOE, &t) && t == RF_TYPE_MXFP4);
    /* every preset names a file type with a default type and a quantizer for it */
    const char *alias;
    int n = 0;
    for (int i = 0; rf_ftype_preset_at(i, &alias); i++, n++) {
        RF_CHECK(rf_ftype_from_name(rf_ftype_preset_at(i, &alias), &f));
        RF_CHECK(rf_ftype_default_type(f, &t));
        const rf_type_traits *tr = rf_type_get(t);
        RF_CHECK(tr && (t == RF_TYPE_F32 || tr->quantize));
    }
    RF_CHECK(n >= 24);
}

static double rms_error(const rf_gguf *g, const model_tensor *mt) {
    char name[64];
    const rf_gguf_tensor *t = NULL;
    for (uint64_t i = 0; i < rf_gguf_n_tensors(g); i++) {
        const rf_gguf_tensor *c = rf_gguf_tensor_at(g, i);
        snprintf(name, sizeof name, "%.*s", (int)c->name.len, c->name.ptr);
        if (!strcmp(name, mt->name)) t = c;
    }
    if (!t) return INFINITY;
    int64_t n = mt->ne[0] * mt->ne[1];
    float *y = malloc((size_t)n * sizeof(float));
    rf_type_get(t->type)->to_f32(t->data, y, n);
    double se = 0, ss = 0;
    for (int64_t i = 0; i < n; i++) {
        se += ((double)y[i] - mt->f32[i]) * ((double)y[i] - mt->f32[i]);
        ss += (double)mt->f32[i] * mt->f32[i];
    }
    free(y);
    return sqrt(se / ss);
}

static void test_quantize(const char *in) {
    char out1[300], out3[300];
    path_in_tmp(out1, sizeof out1, "q1.gguf");
    path_in_tmp(out3, sizeof out3, "q3.gguf");
    rf_quantize_params p = rf_quantize_default_params();
    rf_quantize_stats s;
    rf_err e = {0};
    p.ftype = RF_FTYPE_MOSTLY_Q4_K_M;
    p.n_threads = 1;
    p.progress = count_progress;
    size_t base = rf__alloc_live_blocks();
    rf_status st = rf_quantize_model(in, out1, &p, &s, &e);
    if (st) fprintf(stderr, "quantize: %s\n", e.msg);
    RF_CHECK(st == RF_OK);
    RF_CHECK(progress_calls == n_tensors);
    RF_CHECK(s.n_tensors == (uint64_t)n_tensors && s.n_requantized == 0 && s.dst_file_bytes > 0);
    RF_CHECK(s.dst_tensor_bytes < s.src_tensor_bytes);
    p.n_threads = 3;
    RF_CHECK(rf_quantize_model(in, out3, &p, NULL, &e) == RF_OK);
    RF_CHECK(rf__alloc_live_blocks() == base);

    size_t n1 = 0, n3 = 0;
    void *b1 = read_all(out1, &n1), *b3 = read_all(out3, &n3);
    RF_CHECK(b1 && b3 && n1 == n3 && n1 > 0 && !memcmp(b1, b3, n1)); /* same bytes for any thread count */
    free(b1);
    free(b3);

    rf_gguf *g = NULL;
    RF_CHECK(rf_gguf_open(out1, &g, &e) == RF_OK);
    if (!g) return;
    uint32_t v = 0;
    RF_CHECK(rf_gguf_get_u32(g, "general.file_type", &v) == RF_OK && v == 15);
    RF_CHECK(rf_gguf_get_u32(g, "general.quantization_version", &v) == RF_OK && v == 2);
    RF_CHECK(rf_gguf_alignment(g) == 64);
    rf_str str;
    RF_CHECK(rf_gguf_get_str(g, "general.name", &str) == RF_OK && rf_str_eq(str, "quantize test"));
    RF_CHECK(rf_gguf_n_tensors(g) == (uint64_t)n_tensors);
    for (int i = 0; i < n_tensors; i++) {
        const rf_gguf_tensor *t = rf_gguf_tensor_at(g, (uint64_t)i);
        RF_CHECK(rf_str_eq(t->name, tensors[i].name)); /* input order kept */
        if (tensors[i].n_dims == 1) {
            RF_CHECK(t->type == RF_TYPE_F32 && !memcmp(t->data, tensors[i].data, (size_t)tensors[i].ne[0] * 4));
            continue;
        }
        RF_CHECK(t->type != tensors[i].type);
        double err = rms_error(g, &tensors[i]);
        if (!(err < 0.08)) fprintf(stderr, "%s: relative rms error %g\n", tensors[i].name, err);
        RF_CHECK(err < 0.08);
    }
    /* tied embeddings: token_embd takes the output rule (Q6_K); attn_v and
     * ffn_down of the last layer get more bits in Q4_K_M (use_more_bits) */
    RF_CHECK(rf_gguf_find_tensor(g, "token_embd.weight")->type == RF_TYPE_Q6_K);
    RF_CHECK(rf_gguf_find_tensor(g, "blk.0.ffn_down.weight")->type == RF_TYPE_Q4_K);
    RF_CHECK(rf_gguf_find_tensor(g, "blk.1.ffn_down.weight")->type == RF_TYPE_Q6_K);
    RF_CHECK(rf_gguf_find_tensor(g, "blk.0.attn_v.weight")->type == RF_TYPE_Q4_K);
    RF_CHECK(rf_gguf_find_tensor(g, "blk.1.attn_v.weight")->type == RF_TYPE_Q6_K);
    RF_CHECK(rf_gguf_find_tensor(g, "blk.0.attn_q.weight")->type == RF_TYPE_Q4_K);
    rf_gguf_free(g);

    /* --pure: all quantizable tensors get the default type */
    p.pure = true;
    p.progress = NULL;
    RF_CHECK(rf_quantize_model(in, out1, &p, NULL, &e) == RF_OK);
    RF_CHECK(rf_gguf_open(out1, &g, &e) == RF_OK);
    if (g) {
        for (int i = 0; i < n_tensors; i++)
            RF_CHECK(rf_gguf_tensor_at(g, (uint64_t)i)->type == (tensors[i].n_dims == 1 ? RF_TYPE_F32 : RF_TYPE_Q4_K));
        rf_gguf_free(g);
    }

    /* requantizing: Q4_K_M -> Q8_0 counts the converted tensors */
    p.pure = false;
    p.ftype = RF_FTYPE_MOSTLY_Q8_0;
    RF_CHECK(rf_quantize_model(out3, out1, &p, &s, &e) == RF_OK);
    RF_CHECK(s.n_requantized == (uint32_t)(n_tensors - 1 - N_LAYER));
    RF_CHECK(s.requant_types == ((1ull << RF_TYPE_Q4_K) | (1ull << RF_TYPE_Q6_K)));

    /* same file in and out */
    RF_CHECK(rf_quantize_model(out1, out1, &p, NULL, &e) == RF_ERR_INVALID_ARG);
    RF_CHECK(rf_gguf_open(out1, &g, &e) == RF_OK);
    rf_gguf_free(g);
    unlink(out1);
    unlink(out3);
}

static void test_non_finite(void) {
    char in[300], out[300];
    path_in_tmp(in, sizeof in, "nan.gguf");
    path_in_tmp(out, sizeof out, "nan-q.gguf");
    model_tensor *t = &tensors[4]; /* blk.0.attn_k.weight, F32 */
    RF_CHECK(!strcmp(t->name, "blk.0.attn_k.weight") && t->type == RF_TYPE_F32);
    float keep = t->f32[3 * N_EMBD + 7];
    t->f32[3 * N_EMBD + 7] = NAN;
    RF_CHECK(write_model(in, 32) == 0);
    t->f32[3 * N_EMBD + 7] = keep;
    rf_quantize_params p = rf_quantize_default_params();
    p.ftype = RF_FTYPE_MOSTLY_Q4_0;
    p.n_threads = 2;
    rf_err e = {0};
    size_t base = rf__alloc_live_blocks();
    RF_CHECK(rf_quantize_model(in, out, &p, NULL, &e) == RF_ERR_FORMAT);
    RF_CHECK(strstr(e.msg, "blk.0.attn_k.weight") && strstr(e.msg, "row 3"));
    RF_CHECK(!exists(out));
    RF_CHECK(rf__alloc_live_blocks() == base);
    unlink(in);
}

static void test_alloc_failures(const char *in) {
    char out[300];
    path_in_tmp(out, sizeof out, "fi.gguf");
    rf_quantize_params p = rf_quantize_default_params();
    p.ftype = RF_FTYPE_MOSTLY_Q4_K_M;
    p.n_threads = 2;
    size_t base = rf__alloc_live_blocks();
    int fails = 0;
    for (long n = 0; n < 100000; n++) {
        rf_err e = {0};
        rf__alloc_fail_after(n);
        rf_status st = rf_quantize_model(in, out, &p, NULL, &e);
        bool injected = rf__alloc_failed_injected();
        rf__alloc_fail_after(-1);
        if (st == RF_OK) break;
        RF_CHECK(injected);
        fails++;
        if (st != RF_ERR_NOMEM) fprintf(stderr, "fail-after %ld: status %d: %s\n", n, st, e.msg);
        RF_CHECK(st == RF_ERR_NOMEM);
        RF_CHECK(e.msg[0] != '\0');
        RF_CHECK(!exists(out));
        RF_CHECK(rf__alloc_live_blocks() == base);
    }
    RF_CHECK(fails > 5);
    RF_CHECK(exists(out));
    unlink(out);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rf-test-quantize-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char in[300];
    path_in_tmp(in, sizeof in, "model.gguf");
    build_model();
    RF_CHECK(write_model(in, 64) == 0);
    test_presets();
    test_quantize(in);
    test_non_finite();
    test_alloc_failures(in);
    unlink(in);
    rmdir(tmpdir);
    for (int i = 0; i < n_tensors; i++) {
        if (tensors[i].data != tensors[i].f32) free(tensors[i].data);
        free(tensors[i].f32);
    }
    return rf_test_finish("test_quantize_model");
}
