/* cmd_inspect.c - rocmforge inspect FILE.gguf [--json [--full]]: describes a
 * GGUF file: architecture, hyperparameters, tokenizer, metadata, tensors. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "inspect.h"

const char *const rf__inspect_hparams[] = {
    "context_length", "embedding_length", "embedding_length_per_layer_input", "block_count",
    "feed_forward_length", "expert_feed_forward_length", "expert_shared_feed_forward_length",
    "attention.head_count", "attention.head_count_kv", "attention.key_length", "attention.value_length",
    "attention.key_length_swa", "attention.value_length_swa", "attention.layer_norm_rms_epsilon",
    "attention.layer_norm_epsilon", "attention.sliding_window", "attention.sliding_window_pattern",
    "attention.causal", "attention.scale", "attention.q_lora_rank", "attention.kv_lora_rank",
    "rope.dimension_count", "rope.dimension_count_swa", "rope.dimension_sections", "rope.freq_base",
    "rope.freq_base_swa", "rope.scaling.type", "rope.scaling.factor", "rope.scaling.attn_factor",
    "rope.scaling.original_context_length", "rope.scaling.finetuned", "rope.scaling.yarn_log_multiplier",
    "rope.scaling.yarn_ext_factor", "rope.scaling.yarn_attn_factor", "rope.scaling.yarn_beta_fast",
    "rope.scaling.yarn_beta_slow", "expert_count", "expert_used_count", "expert_shared_count",
    "expert_weights_scale", "expert_weights_norm", "expert_gating_func", "leading_dense_block_count",
    "attn_logit_softcapping", "final_logit_softcapping", "router_logit_softcapping", "logit_scale",
    "embedding_scale", "residual_scale", "vocab_size", "pooling_type", NULL,
};

const char *const rf__inspect_special[] = {
    "bos", "eos", "unknown", "padding", "seperator", "cls", "mask", "eot", "eom",
    "fim_pre", "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep", NULL,
};

const char *rf__inspect_ftype_name(uint64_t ftype) {
    static const char *const names[] = {
        [0] = "ALL_F32", [1] = "MOSTLY_F16", [2] = "MOSTLY_Q4_0", [3] = "MOSTLY_Q4_1",
        [4] = "MOSTLY_Q4_1_SOME_F16", [7] = "MOSTLY_Q8_0", [8] = "MOSTLY_Q5_0", [9] = "MOSTLY_Q5_1",
        [10] = "MOSTLY_Q2_K", [11] = "MOSTLY_Q3_K_S", [12] = "MOSTLY_Q3_K_M", [13] = "MOSTLY_Q3_K_L",
        [14] = "MOSTLY_Q4_K_S", [15] = "MOSTLY_Q4_K_M", [16] = "MOSTLY_Q5_K_S", [17] = "MOSTLY_Q5_K_M",
        [18] = "MOSTLY_Q6_K", [19] = "MOSTLY_IQ2_XXS", [20] = "MOSTLY_IQ2_XS", [21] = "MOSTLY_Q2_K_S",
        [22] = "MOSTLY_IQ3_XS", [23] = "MOSTLY_IQ3_XXS", [24] = "MOSTLY_IQ1_S", [25] = "MOSTLY_IQ4_NL",
        [26] = "MOSTLY_IQ3_S", [27] = "MOSTLY_IQ3_M", [28] = "MOSTLY_IQ2_S", [29] = "MOSTLY_IQ2_M",
        [30] = "MOSTLY_IQ4_XS", [31] = "MOSTLY_IQ1_M", [32] = "MOSTLY_BF16", [36] = "MOSTLY_TQ1_0",
        [37] = "MOSTLY_TQ2_0", [38] = "MOSTLY_MXFP4_MOE",
    };
    uint64_t base = ftype & ~(uint64_t)1024; /* 1024: "guessed" flag */
    if (base >= sizeof names / sizeof names[0]) return NULL;
    return names[base];
}

bool rf__inspect_int(const rf_gguf_value *v, int64_t *out) {
    switch (v->type) {
    case RF_GGUF_U8: case RF_GGUF_U16: case RF_GGUF_U32: case RF_GGUF_U64:
        if (v->v.u > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)v->v.u;
        return true;
    case RF_GGUF_I8: case RF_GGUF_I16: case RF_GGUF_I32: case RF_GGUF_I64:
        *out = v->v.i;
        return true;
    default:
        return false;
    }
}

bool rf__inspect_token_text(const rf_gguf *g, uint64_t id, rf_str *out) {
    const rf_gguf_value *v = rf_gguf_get(g, "tokenizer.ggml.tokens");
    if (!v || v->type != RF_GGUF_ARRAY || v->v.arr.elem_type != RF_GGUF_STRING || id >= v->v.arr.n) return false;
    rf_gguf_arr_iter it;
    rf_gguf_value e;
    rf_gguf_arr_iter_init(&it, v);
    for (uint64_t i = 0; rf_gguf_arr_iter_next(&it, &e); i++) {
        if (i == id) {
            *out = e.v.s;
            return true;
        }
    }
    return false;
}

/* ---- human view ------------------------------------------------------------------------ */

/* Prints at most `max` bytes of s, quoted, with control and non-ASCII-invalid bytes escaped. */
static void put_str(rf_str s, uint64_t max) {
    putchar('"');
    uint64_t n = s.len < max ? s.len : max;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
    if (n < s.len) printf("... (%" PRIu64 " bytes)", s.len);
}

static void put_scalar(const rf_gguf_value *v, uint64_t max_str) {
    switch (v->type) {
    case RF_GGUF_U8: case RF_GGUF_U16: case RF_GGUF_U32: case RF_GGUF_U64: printf("%" PRIu64, v->v.u); break;
    case RF_GGUF_I8: case RF_GGUF_I16: case RF_GGUF_I32: case RF_GGUF_I64: printf("%" PRId64, v->v.i); break;
    case RF_GGUF_F32: { /* shortest text that reads back as the same float */
        char buf[32];
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, v->v.f);
            if ((float)strtod(buf, NULL) == (float)v->v.f) break;
        }
        fputs(buf, stdout);
        break;
    }
    case RF_GGUF_F64: printf("%.17g", v->v.f); break;
    case RF_GGUF_BOOL: fputs(v->v.u ? "true" : "false", stdout); break;
    case RF_GGUF_STRING: put_str(v->v.s, max_str); break;
    default: break;
    }
}

/* Values; arrays show their first `max_elems` elements. */
static void put_value(const rf_gguf_value *v, uint64_t max_elems, uint64_t max_str) {
    if (v->type != RF_GGUF_ARRAY) {
        put_scalar(v, max_str);
        return;
    }
    printf("[%s x %" PRIu64 "] [", rf_gguf_vtype_name(v->v.arr.elem_type), v->v.arr.n);
    rf_gguf_arr_iter it;
    rf_gguf_value e;
    rf_gguf_arr_iter_init(&it, v);
    for (uint64_t i = 0; i < max_elems && rf_gguf_arr_iter_next(&it, &e); i++) {
        if (i) fputs(", ", stdout);
        put_value(&e, max_elems / 2 > 2 ? max_elems / 2 : 2, max_str);
    }
    if (v->v.arr.n > max_elems) fputs(", ...", stdout);
    putchar(']');
}

/* A per-layer array or scalar, compactly: the value if all equal. */
static void put_hparam(const rf_gguf_value *v) {
    if (v->type == RF_GGUF_ARRAY && v->v.arr.elem_type != RF_GGUF_STRING && v->v.arr.elem_type != RF_GGUF_ARRAY &&
        v->v.arr.n > 0) {
        rf_gguf_arr_iter it;
        rf_gguf_value first, e;
        rf_gguf_arr_iter_init(&it, v);
        rf_gguf_arr_iter_next(&it, &first);
        bool same = true;
        while (rf_gguf_arr_iter_next(&it, &e)) same = same && memcmp(&e.v, &first.v, sizeof e.v) == 0;
        if (same) {
            put_scalar(&first, 60);
            printf(" (all %" PRIu64 " layers)", v->v.arr.n);
            return;
        }
        put_value(v, 16, 60);
        printf(" (per layer)");
        return;
    }
    put_value(v, 16, 60);
}

static void human_size(uint64_t b, char *out, size_t n) {
    if (b >= (1ull << 30)) snprintf(out, n, "%.2f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20)) snprintf(out, n, "%.2f MiB", (double)b / (1ull << 20));
    else if (b >= 1024) snprintf(out, n, "%.2f KiB", (double)b / 1024);
    else snprintf(out, n, "%" PRIu64 " B", b);
}

static void print_tokenizer(const rf_gguf *g) {
    rf_str s;
    rf_gguf_vtype et;
    uint64_t n_vocab = 0, n;
    printf("\ntokenizer:\n");
    if (rf_gguf_get_str(g, "tokenizer.ggml.model", &s) == RF_OK) printf("  model:            %.*s\n", (int)s.len, s.ptr);
    else printf("  model:            (none)\n");
    if (rf_gguf_get_str(g, "tokenizer.ggml.pre", &s) == RF_OK) printf("  pre-tokenizer:    %.*s\n", (int)s.len, s.ptr);
    bool have_vocab = rf_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n_vocab) == RF_OK && et == RF_GGUF_STRING;
    if (have_vocab) printf("  vocab size:       %" PRIu64 "\n", n_vocab);
    if (rf_gguf_get_arr(g, "tokenizer.ggml.merges", &et, &n) == RF_OK) printf("  merges:           %" PRIu64 "\n", n);
    for (int i = 0; rf__inspect_special[i]; i++) {
        char key[96];
        snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", rf__inspect_special[i]);
        const rf_gguf_value *v = rf_gguf_get(g, key);
        if (!v) continue;
        const char *label = rf__inspect_special[i];
        if (!strcmp(label, "seperator")) label = "separator"; /* the key keeps llama.cpp's spelling */
        printf("  %-17s ", label);
        int64_t id;
        rf_str text;
        if (!rf__inspect_int(v, &id)) {
            put_value(v, 4, 40);
            printf(" (invalid: not an integer id)\n");
        } else if (id < 0 || !have_vocab || (uint64_t)id >= n_vocab) {
            printf("%" PRId64 " (invalid: outside the vocabulary of %" PRIu64 " tokens)\n", id, n_vocab);
        } else if (rf__inspect_token_text(g, (uint64_t)id, &text)) {
            printf("%" PRId64 " ", id);
            put_str(text, 60);
            putchar('\n');
        }
    }
    static const char *const flags[] = {"add_bos_token", "add_eos_token", "add_sep_token", "add_space_prefix", NULL};
    for (int i = 0; flags[i]; i++) {
        char key[96];
        bool b;
        snprintf(key, sizeof key, "tokenizer.ggml.%s", flags[i]);
        rf_status st = rf_gguf_get_bool(g, key, &b);
        if (st == RF_OK) printf("  %-17s %s\n", flags[i], b ? "true" : "false");
        else if (st == RF_ERR_TYPE) printf("  %-17s (not a bool)\n", flags[i]);
    }
    if (rf_gguf_get_str(g, "tokenizer.chat_template", &s) == RF_OK)
        printf("  chat template:    present (%" PRIu64 " bytes)\n", s.len);
    else
        printf("  chat template:    absent\n");
    for (uint64_t i = 0; i < rf_gguf_n_kv(g); i++) {
        rf_str k = rf_gguf_kv_key(g, i);
        if (k.len > 24 && memcmp(k.ptr, "tokenizer.chat_template.", 24) == 0)
            printf("  chat template:    '%.*s' present\n", (int)(k.len - 24), k.ptr + 24);
    }
}

static void print_human(const char *path, const rf_gguf *g) {
    char sz[32];
    human_size(rf_gguf_file_size(g), sz, sizeof sz);
    printf("file:           %s\n", path);
    printf("format:         GGUF v%" PRIu32 ", alignment %" PRIu64 ", %" PRIu32 " split%s, %s\n", rf_gguf_version(g),
           rf_gguf_alignment(g), rf_gguf_n_splits(g), rf_gguf_n_splits(g) == 1 ? "" : "s", sz);
    printf("contents:       %" PRIu64 " metadata keys, %" PRIu64 " tensors\n", rf_gguf_n_kv(g), rf_gguf_n_tensors(g));
    rf_str arch = {"", 0}, s;
    bool have_arch = rf_gguf_get_str(g, "general.architecture", &arch) == RF_OK;
    if (have_arch) printf("architecture:   %.*s\n", (int)RF_MIN(arch.len, 200), arch.ptr);
    else printf("architecture:   (none)\n");
    if (rf_gguf_get_str(g, "general.name", &s) == RF_OK) printf("name:           %.*s\n", (int)RF_MIN(s.len, 200), s.ptr);
    const rf_gguf_value *ft = rf_gguf_get(g, "general.file_type");
    int64_t ftv;
    if (ft && rf__inspect_int(ft, &ftv)) {
        const char *nm = ftv >= 0 ? rf__inspect_ftype_name((uint64_t)ftv) : NULL;
        printf("file type:      %" PRId64 " (%s)\n", ftv, nm ? nm : "unknown");
    }

    if (have_arch) {
        char key[320];
        printf("\nhyperparameters:\n");
        int shown = 0;
        for (int i = 0; rf__inspect_hparams[i]; i++) {
            snprintf(key, sizeof key, "%.*s.%s", (int)RF_MIN(arch.len, 200), arch.ptr, rf__inspect_hparams[i]);
            const rf_gguf_value *v = rf_gguf_get(g, key);
            if (!v) continue;
            printf("  %-38s ", rf__inspect_hparams[i]);
            shown++;
            put_hparam(v);
            putchar('\n');
        }
        /* other <arch>.* keys */
        for (uint64_t i = 0; i < rf_gguf_n_kv(g); i++) {
            rf_str k = rf_gguf_kv_key(g, i);
            if (k.len <= arch.len + 1 || memcmp(k.ptr, arch.ptr, arch.len) != 0 || k.ptr[arch.len] != '.') continue;
            bool known = false;
            for (int j = 0; rf__inspect_hparams[j] && !known; j++)
                known = rf_str_eq((rf_str){k.ptr + arch.len + 1, k.len - arch.len - 1}, rf__inspect_hparams[j]);
            if (known) continue;
            printf("  %-38.*s ", (int)RF_MIN(k.len - arch.len - 1, 200), k.ptr + arch.len + 1);
            shown++;
            put_hparam(rf_gguf_kv_value(g, i));
            putchar('\n');
        }
        if (!shown) printf("  (none)\n");
    }
    print_tokenizer(g);

    printf("\nmetadata (%" PRIu64 " keys):\n", rf_gguf_n_kv(g));
    for (uint64_t i = 0; i < rf_gguf_n_kv(g); i++) {
        rf_str k = rf_gguf_kv_key(g, i);
        const rf_gguf_value *v = rf_gguf_kv_value(g, i);
        printf("  %-44.*s %-7s ", (int)RF_MIN(k.len, 200), k.ptr, rf_gguf_vtype_name(v->type));
        put_value(v, 8, 60);
        putchar('\n');
    }

    uint64_t n_t = rf_gguf_n_tensors(g);
    printf("\ntensors (%" PRIu64 "):\n", n_t);
    printf("  %-40s %-26s %-8s %12s\n", "name", "shape", "type", "bytes");
    uint64_t params = 0, bytes = 0;
    struct { uint64_t tensors, params, bytes; } by[RF_TYPE_COUNT];
    memset(by, 0, sizeof by);
    for (uint64_t i = 0; i < n_t; i++) {
        const rf_gguf_tensor *t = rf_gguf_tensor_at(g, i);
        char shape[96];
        size_t o = 0;
        for (uint32_t d = 0; d < t->n_dims && o < sizeof shape; d++)
            o += (size_t)snprintf(shape + o, sizeof shape - o, "%s%" PRId64, d ? " x " : "", t->ne[d]);
        printf("  %-40.*s %-26s %-8s %12" PRIu64, (int)RF_MIN(t->name.len, 200), t->name.ptr, shape,
               rf_type_get(t->type)->name, t->nbytes);
        if (rf_gguf_n_splits(g) > 1) printf("  (split %" PRIu32 ")", t->split + 1);
        putchar('\n');
        uint64_t ne = (uint64_t)rf_gguf_tensor_nelements(t);
        params += ne;
        bytes += t->nbytes;
        by[t->type].tensors++;
        by[t->type].params += ne;
        by[t->type].bytes += t->nbytes;
    }
    human_size(bytes, sz, sizeof sz);
    printf("\nparameters:     %" PRIu64 " (%.1fM), tensor data %s\n", params, (double)params / 1e6, sz);
    for (int t = 0; t < RF_TYPE_COUNT; t++) {
        if (!by[t].tensors) continue;
        human_size(by[t].bytes, sz, sizeof sz);
        printf("  %-8s %5" PRIu64 " tensors %14" PRIu64 " parameters %12s\n", rf_type_get(t)->name, by[t].tensors,
               by[t].params, sz);
    }
}

static void usage(FILE *f) {
    fprintf(f, "usage: rocmforge inspect FILE.gguf [--json [--full]]\n"
               "  Describes a GGUF file (for split models, name the first split).\n"
               "  --json   print one JSON document with every metadata key and tensor\n"
               "  --full   with --json, include every element of long arrays (default: up to %d)\n",
            RF_INSPECT_JSON_ARRAY_LIMIT);
}

int rf_cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    bool json = false, full = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--full")) full = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "rocmforge inspect: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (path) {
            fprintf(stderr, "rocmforge inspect: more than one file given\n");
            return 2;
        } else path = argv[i];
    }
    if (!path) { usage(stderr); return 2; }
    rf_gguf *g = NULL;
    rf_err err = {0};
    if (rf_gguf_open(path, &g, &err) != RF_OK) {
        for (char *c = err.msg; *c; c++)
            if ((unsigned char)*c < 0x20) *c = '?'; /* keep the message on one line */
        fprintf(stderr, "rocmforge inspect: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (json) {
        json_t *doc = rf__inspect_json(path, g, full);
        if (!doc || json_dumpf(doc, stdout, JSON_INDENT(1)) != 0) {
            fprintf(stderr, "rocmforge inspect: cannot produce JSON (out of memory)\n");
            rc = 1;
        } else {
            putchar('\n');
        }
        json_decref(doc);
    } else {
        print_human(path, g);
    }
    if (fflush(stdout) != 0) rc = 1;
    rf_gguf_free(g);
    return rc;
}
