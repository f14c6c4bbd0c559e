/*
 * quantize_model.c - whole-model quantization: presets, the per-model plan,
 * and the streaming, multi-threaded converter.
 *
 * Flow: open the input (mapped), choose every tensor's type (quant_mix.c),
 * declare the output's metadata and tensors to the GGUF writer, then let the
 * writer pull each tensor's bytes from produce_tensor(), which converts rows
 * in parallel: workers take chunks of rows from an atomic counter, convert
 * them to f32 in a private buffer (unless the source is f32 already) and
 * quantize them into the writer's buffer.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quant/quant_mix.h"
#include "quant/quantize_model.h"

#define QUANTIZATION_VERSION 2
/* Elements per work chunk: big enough to amortise scheduling, small enough
 * to spread a tensor over the threads. */
#define CHUNK_ELEMS 65536

/* ---- presets ---- */

static const struct {
    const char *name;
    rf_ftype ftype;
    const char *alias_of;
} presets[] = {
    {"F32", RF_FTYPE_ALL_F32, NULL},
    {"F16", RF_FTYPE_MOSTLY_F16, NULL},
    {"BF16", RF_FTYPE_MOSTLY_BF16, NULL},
    {"Q8_0", RF_FTYPE_MOSTLY_Q8_0, NULL},
    {"Q4_0", RF_FTYPE_MOSTLY_Q4_0, NULL},
    {"Q4_1", RF_FTYPE_MOSTLY_Q4_1, NULL},
    {"Q5_0", RF_FTYPE_MOSTLY_Q5_0, NULL},
    {"Q5_1", RF_FTYPE_MOSTLY_Q5_1, NULL},
    {"Q2_K", RF_FTYPE_MOSTLY_Q2_K, NULL},
    {"Q3_K_S", RF_FTYPE_MOSTLY_Q3_K_S, NULL},
    {"Q3_K_M", RF_FTYPE_MOSTLY_Q3_K_M, NULL},
    {"Q3_K_L", RF_FTYPE_MOSTLY_Q3_K_L, NULL},
    {"Q4_K_S", RF_FTYPE_MOSTLY_Q4_K_S, NULL},
    {"Q4_K_M", RF_FTYPE_MOSTLY_Q4_K_M, NULL},
    {"Q5_K_S", RF_FTYPE_MOSTLY_Q5_K_S, NULL},
    {"Q5_K_M", RF_FTYPE_MOSTLY_Q5_K_M, NULL},
    {"Q6_K", RF_FTYPE_MOSTLY_Q6_K, NULL},
    {"IQ4_NL", RF_FTYPE_MOSTLY_IQ4_NL, NULL},
    {"IQ4_XS", RF_FTYPE_MOSTLY_IQ4_XS, NULL},
    {"MXFP4_MOE", RF_FTYPE_MOSTLY_MXFP4_MOE, NULL},
    {"Q3_K", RF_FTYPE_MOSTLY_Q3_K_M, "Q3_K_M"},
    {"Q4_K", RF_FTYPE_MOSTLY_Q4_K_M, "Q4_K_M"},
    {"Q5_K", RF_FTYPE_MOSTLY_Q5_K_M, "Q5_K_M"},
    {"MXFP4", RF_FTYPE_MOSTLY_MXFP4_MOE, "MXFP4_MOE"},
};

static bool name_eq_ci(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'a' && x <= 'z') x = (char)(x - 'a' + 'A');
        if (y >= 'a' && y <= 'z') y = (char)(y - 'a' + 'A');
        if (x != y) return false;
    }
    return *a == *b;
}

bool rf_ftype_from_name(const char *name, rf_ftype *out) {
    if (!name || !*name) return false;
    for (size_t i = 0; i < RF_ARRAY_LEN(presets); i++)
        if (name_eq_ci(presets[i].name, name)) { *out = presets[i].ftype; return true; }
    /* a number, as llama.cpp's tool accepts */
    long v = 0;
    const char *p = name;
    for (; *p >= '0' && *p <= '9' && v < 100000; p++) v = v * 10 + (*p - '0');
    if (*p) return false;
    for (size_t i = 0; i < RF_ARRAY_LEN(presets); i++)
        if (!presets[i].alias_of && (long)presets[i].ftype == v) { *out = presets[i].ftype; return true; }
    return false;
}

const char *rf_ftype_name(rf_ftype ftype) {
    for (size_t i = 0; i < RF_ARRAY_LEN(presets); i++)
        if (!presets[i].alias_of && presets[i].ftype == ftype) return presets[i].name;
    return NULL;
}

const char *rf_ftype_preset_at(int i, const char **alias_of) {
    if (i < 0 || (size_t)i >= RF_ARRAY_LEN(presets)) return NULL;
    if (alias_of) *alias_of = presets[i].alias_of;
    return presets[i].name;
}

bool rf_ftype_default_type(rf_ftype ftype, rf_type *out) {
    rf_type t;
    switch (ftype) {
    case RF_FTYPE_ALL_F32: t = RF_TYPE_F32; break;
    case RF_FTYPE_MOSTLY_F16: t = RF_TYPE_F16; break;
    case RF_FTYPE_MOSTLY_BF16: t = RF_TYPE_BF16; break;
    case RF_FTYPE_MOSTLY_Q4_0: t = RF_TYPE_Q4_0; break;
    case RF_FTYPE_MOSTLY_Q4_1: t = RF_TYPE_Q4_1; break;
    case RF_FTYPE_MOSTLY_Q5_0: t = RF_TYPE_Q5_0; break;
    case RF_FTYPE_MOSTLY_Q5_1: t = RF_TYPE_Q5_1; break;
    case RF_FTYPE_MOSTLY_Q8_0: t = RF_TYPE_Q8_0; break;
    case RF_FTYPE_MOSTLY_MXFP4_MOE: t = RF_TYPE_MXFP4; break;
    case RF_FTYPE_MOSTLY_Q2_K_S:
    case RF_FTYPE_MOSTLY_Q2_K: t = RF_TYPE_Q2_K; break;
    case RF_FTYPE_MOSTLY_IQ3_XS: t = RF_TYPE_IQ3_S; break;
    case RF_FTYPE_MOSTLY_Q3_K_S:
    case RF_FTYPE_MOSTLY_Q3_K_M:
    case RF_FTYPE_MOSTLY_Q3_K_L: t = RF_TYPE_Q3_K; break;
    case RF_FTYPE_MOSTLY_Q4_K_S:
    case RF_FTYPE_MOSTLY_Q4_K_M: t = RF_TYPE_Q4_K; break;
    case RF_FTYPE_MOSTLY_Q5_K_S:
    case RF_FTYPE_MOSTLY_Q5_K_M: t = RF_TYPE_Q5_K; break;
    case RF_FTYPE_MOSTLY_Q6_K: t = RF_TYPE_Q6_K; break;
    case RF_FTYPE_MOSTLY_TQ1_0: t = RF_TYPE_TQ1_0; break;
    case RF_FTYPE_MOSTLY_TQ2_0: t = RF_TYPE_TQ2_0; break;
    case RF_FTYPE_MOSTLY_IQ2_XXS: t = RF_TYPE_IQ2_XXS; break;
    case RF_FTYPE_MOSTLY_IQ2_XS: t = RF_TYPE_IQ2_XS; break;
    case RF_FTYPE_MOSTLY_IQ2_S: t = RF_TYPE_IQ2_XS; break;
    case RF_FTYPE_MOSTLY_IQ2_M: t = RF_TYPE_IQ2_S; break;
    case RF_FTYPE_MOSTLY_IQ3_XXS: t = RF_TYPE_IQ3_XXS; break;
    case RF_FTYPE_MOSTLY_IQ1_S: t = RF_TYPE_IQ1_S; break;
    case RF_FTYPE_MOSTLY_IQ1_M: t = RF_TYPE_IQ1_M; break;
    case RF_FTYPE_MOSTLY_IQ4_NL: t = RF_TYPE_IQ4_NL; break;
    case RF_FTYPE_MOSTLY_IQ4_XS: t = RF_TYPE_IQ4_XS; break;
    case RF_FTYPE_MOSTLY_IQ3_S:
    case RF_FTYPE_MOSTLY_IQ3_M: t = RF_TYPE_IQ3_S; break;
    default: return false;
    }
    *out = t;
    return true;
}

rf_quantize_params rf_quantize_default_params(void) {
    rf_quantize_params p = {.ftype = RF_FTYPE_MOSTLY_Q8_0, .n_threads = 0, .pure = false};
    return p;
}

/* ---- model facts ---- */

static void arch_key(char *buf, size_t n, const char *arch, const char *suffix) {
    snprintf(buf, n, "%s.%s", arch, suffix);
}

/* A u32 that may be stored as a scalar or as a per-layer array (first element). */
static bool first_u32(const rf_gguf *g, const char *key, uint32_t *out) {
    const rf_gguf_value *v = rf_gguf_get(g, key);
    if (!v) return false;
    rf_gguf_value e = *v;
    if (v->type == RF_GGUF_ARRAY) {
        rf_gguf_arr_iter it;
        rf_gguf_arr_iter_init(&it, v);
        if (!rf_gguf_arr_iter_next(&it, &e)) return false;
    }
    switch (e.type) {
    case RF_GGUF_U8: case RF_GGUF_U16: case RF_GGUF_U32: case RF_GGUF_U64:
        if (e.v.u > UINT32_MAX) return false;
        *out = (uint32_t)e.v.u;
        return true;
    case RF_GGUF_I8: case RF_GGUF_I16: case RF_GGUF_I32: case RF_GGUF_I64:
        if (e.v.i < 0 || e.v.i > (int64_t)UINT32_MAX) return false;
        *out = (uint32_t)e.v.i;
        return true;
    default:
        return false;
    }
}

static void model_facts(const rf_gguf *g, rf__mix_model *m) {
    char key[160];
    rf_str arch = {0};
    memset(m, 0, sizeof *m);
    if (rf_gguf_get_str(g, "general.architecture", &arch) == RF_OK) {
        size_t n = (size_t)RF_MIN(arch.len, (uint64_t)sizeof m->arch - 1);
        memcpy(m->arch, arch.ptr, n);
        m->arch[n] = '\0';
    }
    arch_key(key, sizeof key, m->arch, "block_count");
    first_u32(g, key, &m->n_layer);
    arch_key(key, sizeof key, m->arch, "attention.head_count");
    first_u32(g, key, &m->n_head);
    m->n_head_kv = m->n_head;
    arch_key(key, sizeof key, m->arch, "attention.head_count_kv");
    first_u32(g, key, &m->n_head_kv);
    arch_key(key, sizeof key, m->arch, "expert_count");
    first_u32(g, key, &m->n_expert);
    /* llama.cpp's LLM_TYPE_70B, as the architectures' load_hparams set it */
    if (!strcmp(m->arch, "llama"))
        m->is_70b = m->n_layer == 80 && m->n_expert != 8 && m->n_head != m->n_head_kv;
    else if (!strcmp(m->arch, "deci") || !strcmp(m->arch, "olmo") || !strcmp(m->arch, "qwen2"))
        m->is_70b = m->n_layer == 80;
    else if (!strcmp(m->arch, "jais2"))
        m->is_70b = m->n_layer == 68;
}

/* ---- plan ---- */

static void free_names(char **names, uint64_t n) {
    if (!names) return;
    for (uint64_t i = 0; i < n; i++) rf__free(names[i]);
    rf__free(names);
}

static rf_status tensor_names(const rf_gguf *g, char ***out, rf_err *err) {
    uint64_t n = rf_gguf_n_tensors(g);
    char **names = rf__calloc(n ? n : 1, sizeof *names);
    if (!names) return rf__err(err, RF_ERR_NOMEM, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        const rf_gguf_tensor *t = rf_gguf_tensor_at(g, i);
        names[i] = rf__strndup(t->name.ptr, (size_t)t->name.len);
        if (!names[i]) {
            free_names(names, n);
            return rf__err(err, RF_ERR_NOMEM, "out of memory");
        }
    }
    *out = names;
    return RF_OK;
}

void rf_quantize_plan_free(rf_quantize_plan *plan) {
    if (!plan) return;
    rf__free(plan->types);
    memset(plan, 0, sizeof *plan);
}

static rf_status plan_make(const rf_gguf *g, const rf_quantize_params *p, char *const *names, rf_quantize_plan *plan,
                           rf_err *err) {
    rf_status st = RF_OK;
    rf__mix_model m;
    rf_type def;
    uint64_t n = rf_gguf_n_tensors(g);
    int64_t (*ne)[RF_GGUF_MAX_DIMS] = NULL;
    rf_type *src = NULL;

    memset(plan, 0, sizeof *plan);
    if (!rf_ftype_default_type(p->ftype, &def) || !rf_ftype_name(p->ftype))
        return rf__err(err, RF_ERR_INVALID_ARG, "file type %d is not supported", (int)p->ftype);
    model_facts(g, &m);
    plan->n_tensors = n;
    plan->types = rf__calloc(n ? n : 1, sizeof *plan->types);
    ne = rf__calloc(n ? n : 1, sizeof *ne);
    src = rf__calloc(n ? n : 1, sizeof *src);
    if (!plan->types || !ne || !src) { st = rf__err(err, RF_ERR_NOMEM, "out of memory"); goto fail; }
    for (uint64_t i = 0; i < n; i++) {
        const rf_gguf_tensor *t = rf_gguf_tensor_at(g, i);
        memcpy(ne[i], t->ne, sizeof ne[i]);
        src[i] = t->type;
    }
    if ((st = rf__mix_types(&m, p->ftype, def, p->pure, n, (const char *const *)names,
                            (const int64_t(*)[RF_GGUF_MAX_DIMS])ne, src, plan->types, &plan->n_fallback, err)))
        goto fail;
    for (uint64_t i = 0; i < n; i++) {
        rf_type s = src[i], d = plan->types[i];
        if (s == d) continue;
        const rf_type_traits *ts = rf_type_get(s), *td = rf_type_get(d);
        if (!ts || !ts->to_f32) {
            st = rf__err(err, RF_ERR_UNSUPPORTED, "tensor '%s': cannot convert type %s to f32", names[i],
                         ts ? ts->name : "?");
            goto fail;
        }
        if (!td || (d != RF_TYPE_F32 && !td->quantize)) {
            st = rf__err(err, RF_ERR_UNSUPPORTED, "tensor '%s': no quantizer for type %s in this build", names[i],
                         td ? td->name : "?");
            goto fail;
        }
        if (ts->is_quantized) {
            plan->n_requantized++;
            plan->requant_types |= 1ull << (unsigned)s;
        }
    }
    rf__free(ne);
    rf__free(src);
    return RF_OK;
fail:
    rf__free(ne);
    rf__free(src);
    rf_quantize_plan_free(plan);
    return st;
}

rf_status rf_quantize_plan_make(const rf_gguf *g, const rf_quantize_params *p, rf_quantize_plan *plan,
                                rf_err *err) {
    char **names = NULL;
    rf_status st;
    if (!g || !p || !plan) return rf__err(err, RF_ERR_INVALID_ARG, "rf_quantize_plan_make: NULL argument");
    if ((st = tensor_names(g, &names, err))) return st;
    st = plan_make(g, p, names, plan, err);
    free_names(names, rf_gguf_n_tensors(g));
    return st;
}

/* ---- conversion ---- */

typedef struct worker_buf {
    float *p;
    size_t cap; /* floats */
} worker_buf;

typedef struct job {
    const rf_gguf_tensor *t;
    const char *name;
    const rf_type_traits *src_tr, *dst_tr;
    rf_type src, dst;
    int64_t n_per_row, nrows, chunk_rows, n_chunks;
    size_t src_row, dst_row;
    uint8_t *out;
    atomic_llong next;
    atomic_int failed;        /* 0 ok, else an rf_status */
    atomic_llong bad_row;     /* first row found non-finite or mis-sized */
} job;

typedef struct worker_arg {
    job *j;
    worker_buf *buf;
} worker_arg;

static bool all_finite(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return false;
    return true;
}

static void fail_job(job *j, rf_status st, int64_t row) {
    int z = 0;
    if (atomic_compare_exchange_strong(&j->failed, &z, (int)st)) atomic_store(&j->bad_row, (long long)row);
}

static void *run_worker(void *arg) {
    worker_arg *a = arg;
    job *j = a->j;
    const uint8_t *src = j->t->data;
    for (;;) {
        if (atomic_load(&j->failed)) break;
        long long c = atomic_fetch_add(&j->next, 1);
        if (c >= j->n_chunks) break;
        int64_t r0 = (int64_t)c * j->chunk_rows;
        int64_t rows = RF_MIN(j->chunk_rows, j->nrows - r0);
        int64_t n = rows * j->n_per_row;
        const uint8_t *s = src + (size_t)r0 * j->src_row;
        uint8_t *d = j->out + (size_t)r0 * j->dst_row;
        if (j->dst == RF_TYPE_F32) { /* d is the writer's malloc'ed buffer: aligned */
            j->src_tr->to_f32(s, (float *)(void *)d, n);
            continue;
        }
        const float *x;
        if (j->src == RF_TYPE_F32 && ((uintptr_t)s % _Alignof(float)) == 0) {
            x = (const float *)(const void *)s;
        } else {
            j->src_tr->to_f32(s, a->buf->p, n);
            x = a->buf->p;
        }
        if (!all_finite(x, n)) {
            int64_t r = r0;
            while (r < r0 + rows && all_finite(x + (r - r0) * j->n_per_row, j->n_per_row)) r++;
            fail_job(j, RF_ERR_FORMAT, r);
            break;
        }
        size_t wrote = j->dst_tr->quantize(x, d, rows, j->n_per_row, NULL);
        if (wrote != (size_t)rows * j->dst_row) {
            fail_job(j, RF_ERR_INTERNAL, r0);
            break;
        }
    }
    return NULL;
}

typedef struct qrun {
    const rf_gguf *g;
    const rf_quantize_params *p;
    char **names;
    const rf_quantize_plan *plan;
    int n_threads;
    worker_buf *bufs;   /* [n_threads] */
    double t0;
    uint64_t done_src_bytes;
    uint64_t dst_tensor_bytes;
} qrun;

static rf_status convert_tensor(qrun *q, uint64_t i, void *dst, uint64_t nbytes, rf_err *err) {
    const rf_gguf_tensor *t = rf_gguf_tensor_at(q->g, i);
    job j = {0};
    worker_arg args[256];
    pthread_t th[256];
    int started = 0;
    rf_status st = RF_OK;

    if (rf_gguf_tensor_nelements(t) == 0) return RF_OK; /* nothing to convert */
    j.t = t;
    j.name = q->names[i];
    j.src = t->type;
    j.dst = q->plan->types[i];
    j.src_tr = rf_type_get(j.src);
    j.dst_tr = rf_type_get(j.dst);
    j.n_per_row = t->ne[0];
    j.nrows = j.n_per_row ? rf_gguf_tensor_nelements(t) / j.n_per_row : 0;
    j.src_row = rf_type_row_size(j.src, j.n_per_row);
    j.dst_row = rf_type_row_size(j.dst, j.n_per_row);
    j.out = dst;
    if (!j.src_row || !j.dst_row || (uint64_t)j.nrows * j.dst_row != nbytes)
        return rf__err(err, RF_ERR_INTERNAL, "tensor '%s': inconsistent sizes", j.name);
    j.chunk_rows = RF_MAX((int64_t)1, CHUNK_ELEMS / j.n_per_row);
    j.n_chunks = (j.nrows + j.chunk_rows - 1) / j.chunk_rows;
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    atomic_init(&j.bad_row, 0);

    int n_use = (int)RF_MIN((int64_t)q->n_threads, j.n_chunks);
    if (n_use < 1) n_use = 1;
    size_t need = (size_t)(j.chunk_rows * j.n_per_row);
    for (int k = 0; k < n_use; k++) {
        worker_buf *b = &q->bufs[k];
        if (b->cap < need) {
            float *nb = rf__realloc(b->p, need * sizeof(float));
            if (!nb) return rf__err(err, RF_ERR_NOMEM, "out of memory for conversion buffers");
            b->p = nb;
            b->cap = need;
        }
        args[k].j = &j;
        args[k].buf = b;
    }
    for (int k = 1; k < n_use; k++) {
        if (pthread_create(&th[k], NULL, run_worker, &args[k]) != 0) break;
        started = k;
    }
    run_worker(&args[0]);
    for (int k = 1; k <= started; k++) pthread_join(th[k], NULL);

    int f = atomic_load(&j.failed);
    if (f == RF_ERR_FORMAT)
        st = rf__err(err, RF_ERR_FORMAT, "tensor '%s' has a non-finite value in row %lld", j.name,
                     (long long)atomic_load(&j.bad_row));
    else if (f)
        st = rf__err(err, (rf_status)f, "tensor '%s': the %s quantizer wrote an unexpected size", j.name,
                     j.dst_tr->name);
    return st;
}

static rf_status produce_tensor(void *user, uint64_t i, void *dst, uint64_t nbytes, rf_err *err) {
    qrun *q = user;
    const rf_gguf_tensor *t = rf_gguf_tensor_at(q->g, i);
    rf_type to = q->plan->types[i];
    rf_status st;
    if (to == t->type) {
        if (nbytes != t->nbytes) return rf__err(err, RF_ERR_INTERNAL, "tensor '%s': size mismatch", q->names[i]);
        memcpy(dst, t->data, (size_t)nbytes);
    } else if ((st = convert_tensor(q, i, dst, nbytes, err))) {
        return st;
    }
    q->done_src_bytes += t->nbytes;
    q->dst_tensor_bytes += nbytes;
    if (q->p->progress) {
        rf_quantize_progress pr = {
            .index = i, .count = rf_gguf_n_tensors(q->g), .name = q->names[i],
            .src_type = t->type, .dst_type = to, .src_bytes = t->nbytes, .dst_bytes = nbytes,
            .done_src_bytes = q->done_src_bytes, .elapsed = rf__now() - q->t0,
        };
        q->p->progress(q->p->progress_user, &pr);
    }
    return RF_OK;
}

static bool skip_key(rf_str k) {
    return rf_str_eq(k, "general.file_type") || rf_str_eq(k, "general.quantization_version") ||
           rf_str_eq(k, "split.no") || rf_str_eq(k, "split.count") || rf_str_eq(k, "split.tensors.count");
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)RF_MIN(n, 256L);
}

rf_status rf_quantize_model(const char *in_path, const char *out_path, const rf_quantize_params *p,
                            rf_quantize_stats *stats, rf_err *err) {
    rf_status st;
    rf_gguf *g = NULL;
    rf_gguf_writer *w = NULL;
    char **names = NULL;
    uint64_t n = 0;
    rf_quantize_plan plan = {0};
    qrun q = {0};
    struct stat si, so;

    if (!in_path || !out_path || !p) return rf__err(err, RF_ERR_INVALID_ARG, "rf_quantize_model: NULL argument");
    q.t0 = rf__now();
    if (stat(in_path, &si) == 0 && stat(out_path, &so) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
        return rf__err(err, RF_ERR_INVALID_ARG, "the output file is the input file");
    if ((st = rf_gguf_open(in_path, &g, err))) return st;
    n = rf_gguf_n_tensors(g);
    if ((st = tensor_names(g, &names, err))) goto out;
    if ((st = plan_make(g, p, names, &plan, err))) goto out;

    if ((st = rf_gguf_writer_create(&w))) { rf__err(err, st, "cannot create the GGUF writer"); goto out; }
    for (uint64_t i = 0; i < rf_gguf_n_kv(g); i++) {
        if (skip_key(rf_gguf_kv_key(g, i))) continue;
        if ((st = rf_gguf_writer_copy_kv(w, g, i))) { rf__err(err, st, "cannot copy metadata"); goto out; }
    }
    if ((st = rf_gguf_writer_set_u32(w, "general.quantization_version", QUANTIZATION_VERSION)) ||
        (st = rf_gguf_writer_set_u32(w, "general.file_type", (uint32_t)p->ftype))) {
        rf__err(err, st, "cannot set metadata");
        goto out;
    }
    for (uint64_t i = 0; i < n; i++) {
        const rf_gguf_tensor *t = rf_gguf_tensor_at(g, i);
        if ((st = rf_gguf_writer_add_tensor(w, names[i], plan.types[i], t->n_dims, t->ne, NULL))) {
            rf__err(err, st, "tensor '%s': cannot declare it in the output", names[i]);
            goto out;
        }
    }

    q.g = g;
    q.p = p;
    q.names = names;
    q.plan = &plan;
    q.n_threads = p->n_threads > 0 ? RF_MIN(p->n_threads, 256) : online_cpus();
    q.bufs = rf__calloc((size_t)q.n_threads, sizeof *q.bufs);
    if (!q.bufs) { st = rf__err(err, RF_ERR_NOMEM, "out of memory"); goto out; }
    if ((st = rf_gguf_writer_write(w, out_path, produce_tensor, &q, err))) goto out;

    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->n_tensors = n;
        for (uint64_t i = 0; i < n; i++) {
            const rf_gguf_tensor *t = rf_gguf_tensor_at(g, i);
            stats->src_tensor_bytes += t->nbytes;
            stats->n_elements += (uint64_t)rf_gguf_tensor_nelements(t);
        }
        stats->dst_tensor_bytes = q.dst_tensor_bytes;
        stats->src_file_bytes = rf_gguf_file_size(g);
        stats->dst_file_bytes = stat(out_path, &so) == 0 ? (uint64_t)so.st_size : 0;
        stats->n_requantized = plan.n_requantized;
        stats->n_fallback = plan.n_fallback;
        stats->requant_types = plan.requant_types;
        stats->seconds = rf__now() - q.t0;
    }
out:
    if (q.bufs)
        for (int k = 0; k < q.n_threads; k++) rf__free(q.bufs[k].p);
    rf__free(q.bufs);
    rf_gguf_writer_free(w);
    rf_quantize_plan_free(&plan);
    free_names(names, n);
    rf_gguf_free(g);
    return st;
}
