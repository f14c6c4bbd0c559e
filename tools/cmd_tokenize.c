/* cmd_tokenize.c - rocmforge tokenize: print the token ids of a text, or
 * answer many requests in one process (--batch, JSON lines). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/core.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: rocmforge tokenize -m FILE [options] [TEXT]\n"
            "  -m, --model FILE    GGUF file with a tokenizer (vocabulary-only files work)\n"
            "  -f, --file FILE     read the text from FILE\n"
            "  --stdin             read the text from standard input\n"
            "  --pieces            print one 'id -> piece' line per token\n"
            "  --no-bos            do not add BOS (an EOS the model adds is kept)\n"
            "  --parse-special     recognise control-token text such as <|im_start|>\n"
            "  --timing            print the tokenization time to stderr\n"
            "  --batch             read JSON lines from stdin, answer one JSON line each:\n"
            "                      {\"text\"|\"hex\": ..., \"add_special\": b, \"parse_special\": b}\n"
            "                        -> {\"ids\": [...], \"decoded_hex\": ...}\n"
            "                      {\"decode\": [ids], \"remove_special\": b, \"unparse_special\": b}\n"
            "                        -> {\"hex\": ...}\n"
            "                      {\"info\": true} -> model type and flags\n"
            "                      failures answer {\"error\": message}\n");
}

static char *read_stream(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (n == cap) {
            char *nb = cap > ((size_t)1 << 32) ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static char *hex_of(const char *s, size_t n) {
    static const char hx[] = "0123456789abcdef";
    char *h = malloc(2 * n + 1);
    if (!h) return NULL;
    for (size_t i = 0; i < n; i++) {
        h[2 * i] = hx[(uint8_t)s[i] >> 4];
        h[2 * i + 1] = hx[(uint8_t)s[i] & 15];
    }
    h[2 * n] = 0;
    return h;
}

static int hexd(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool jbool(json_t *o, const char *key, bool dflt) {
    json_t *v = json_object_get(o, key);
    return v ? json_is_true(v) : dflt;
}

static json_t *batch_one(const rf_tokenizer *tok, const char *line, size_t len) {
    json_error_t je;
    json_t *req = json_loadb(line, len, JSON_ALLOW_NUL, &je), *resp = json_object(), *dec = NULL;
    char *bytes = NULL, *hex = NULL, *text = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0, tlen = 0;
    rf_err err = {0};
    if (!req || !json_is_object(req)) {
        json_object_set_new(resp, "error", json_string(req ? "request is not an object" : je.text));
        goto out;
    }
    if (json_is_true(json_object_get(req, "info"))) {
        static const char *const kinds[] = {"", "spm", "bpe", "wpm", "ugm"};
        json_object_set_new(resp, "kind", json_string(kinds[rf__tokenizer_kind(tok)]));
        json_object_set_new(resp, "pre", json_string(rf__tokenizer_pre(tok)));
        json_object_set_new(resp, "n_vocab", json_integer(rf__tokenizer_n_vocab(tok)));
        json_object_set_new(resp, "bos", json_integer(rf__tokenizer_bos(tok)));
        json_object_set_new(resp, "eos", json_integer(rf__tokenizer_eos(tok)));
        json_object_set_new(resp, "add_bos", json_boolean(rf__tokenizer_add_bos(tok)));
        json_object_set_new(resp, "add_eos", json_boolean(rf__tokenizer_add_eos(tok)));
        json_object_set_new(resp, "add_space_prefix", json_boolean(rf__tokenizer_add_space_prefix(tok)));
        json_object_set_new(resp, "clean_spaces", json_boolean(rf__tokenizer_clean_spaces(tok)));
        goto out;
    }
    dec = json_object_get(req, "decode");
    if (dec) {
        size_t n = json_array_size(dec);
        ids = malloc((n ? n : 1) * sizeof *ids);
        for (size_t i = 0; ids && i < n; i++) {
            json_int_t v = json_integer_value(json_array_get(dec, i));
            ids[i] = v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : (int32_t)v;
        }
        if (!ids || rf__tokenizer_decode(tok, ids, n, jbool(req, "remove_special", false),
                                         jbool(req, "unparse_special", true), &text, &tlen, &err)) {
            json_object_set_new(resp, "error", json_string(ids ? err.msg : "out of memory"));
            goto out;
        }
        hex = hex_of(text, tlen);
        json_object_set_new(resp, "hex", json_string(hex ? hex : ""));
        goto out;
    }
    const char *src;
    size_t slen;
    json_t *jt = json_object_get(req, "text"), *jh = json_object_get(req, "hex");
    if (json_is_string(jt)) {
        src = json_string_value(jt);
        slen = json_string_length(jt);
    } else if (json_is_string(jh)) {
        const char *h = json_string_value(jh);
        size_t hl = json_string_length(jh);
        bytes = malloc(hl / 2 + 1);
        if (!bytes || hl % 2) {
            json_object_set_new(resp, "error", json_string("bad hex"));
            goto out;
        }
        for (size_t i = 0; i < hl / 2; i++) {
            int a = hexd(h[2 * i]), b = hexd(h[2 * i + 1]);
            if (a < 0 || b < 0) {
                json_object_set_new(resp, "error", json_string("bad hex"));
                goto out;
            }
            bytes[i] = (char)(a * 16 + b);
        }
        src = bytes;
        slen = hl / 2;
    } else {
        json_object_set_new(resp, "error", json_string("request needs \"text\", \"hex\" or \"decode\""));
        goto out;
    }
    if (rf__tokenizer_encode(tok, src, slen, jbool(req, "add_special", false), jbool(req, "parse_special", false),
                             &ids, &n_ids, &err)) {
        json_object_set_new(resp, "error", json_string(err.msg));
        ids = NULL;
        goto out;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n_ids; i++) json_array_append_new(arr, json_integer(ids[i]));
    json_object_set_new(resp, "ids", arr);
    if (rf__tokenizer_decode(tok, ids, n_ids, false, true, &text, &tlen, &err) == RF_OK) {
        hex = hex_of(text, tlen);
        json_object_set_new(resp, "decoded_hex", json_string(hex ? hex : ""));
    }
    rf__free(ids);
    ids = NULL;
out:
    if (dec) free(ids);
    rf__free(text);
    free(hex);
    free(bytes);
    json_decref(req);
    return resp;
}

static int run_batch(const rf_tokenizer *tok) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n') n--;
        if (n == 0) continue;
        json_t *resp = batch_one(tok, line, (size_t)n);
        char *s = json_dumps(resp, JSON_COMPACT | JSON_ENSURE_ASCII);
        json_decref(resp);
        if (!s) {
            free(line);
            return 1;
        }
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
        fflush(stdout);
    }
    free(line);
    return 0;
}

int rf_cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *file = NULL, *text_arg = NULL;
    bool pieces = false, no_bos = false, parse_special = false, use_stdin = false, batch = false, timing = false;
    int rc = 1;
    rf_gguf *g = NULL;
    rf_tokenizer *tok = NULL;
    char *text = NULL;
    size_t len = 0;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    rf_err err = {0};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && i + 1 < argc) model = argv[++i];
        else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && i + 1 < argc) file = argv[++i];
        else if (!strcmp(a, "--stdin")) use_stdin = true;
        else if (!strcmp(a, "--pieces")) pieces = true;
        else if (!strcmp(a, "--no-bos")) no_bos = true;
        else if (!strcmp(a, "--parse-special")) parse_special = true;
        else if (!strcmp(a, "--batch")) batch = true;
        else if (!strcmp(a, "--timing")) timing = true;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] && strcmp(a, "--") != 0) {
            fprintf(stderr, "rocmforge tokenize: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            if (!strcmp(a, "--") && i + 1 < argc) a = argv[++i];
            if (text_arg) {
                fprintf(stderr, "rocmforge tokenize: more than one TEXT argument\n");
                return 2;
            }
            text_arg = a;
        }
    }
    if (!model || (!batch && (!!text_arg + !!file + use_stdin) != 1)) {
        usage(stderr);
        return 2;
    }
    if (rf_gguf_open(model, &g, &err) || rf__tokenizer_load(g, &tok, &err)) {
        fprintf(stderr, "rocmforge tokenize: %s: %s\n", model, err.msg);
        goto out;
    }
    rf_gguf_free(g);
    g = NULL;
    if (batch) {
        rc = run_batch(tok);
        goto out;
    }
    if (text_arg) {
        len = strlen(text_arg);
        text = malloc(len + 1);
        if (text) memcpy(text, text_arg, len + 1);
    } else {
        FILE *f = use_stdin ? stdin : fopen(file, "rb");
        if (!f) {
            fprintf(stderr, "rocmforge tokenize: %s: %s\n", file, strerror(errno));
            goto out;
        }
        text = read_stream(f, &len);
        if (f != stdin) fclose(f);
    }
    if (!text) {
        fprintf(stderr, "rocmforge tokenize: cannot read the text\n");
        goto out;
    }
    double t0 = rf__now();
    if (rf__tokenizer_encode(tok, text, len, !no_bos, parse_special, &ids, &n_ids, &err)) {
        fprintf(stderr, "rocmforge tokenize: %s\n", err.msg);
        goto out;
    }
    if (no_bos && rf__tokenizer_add_eos(tok) && rf__tokenizer_eos(tok) >= 0) {
        int32_t *more = rf__realloc(ids, (n_ids + 1) * sizeof *ids);
        if (more) {
            ids = more;
            ids[n_ids++] = rf__tokenizer_eos(tok);
        }
    }
    double dt = rf__now() - t0;
    if (pieces) {
        for (size_t i = 0; i < n_ids; i++) {
            const char *p;
            size_t pl;
            rf__tokenizer_token_to_piece(tok, ids[i], true, &p, &pl, NULL);
            printf("%6d -> '%.*s'\n", ids[i], (int)pl, p);
        }
    } else {
        putchar('[');
        for (size_t i = 0; i < n_ids; i++) printf(i ? ", %d" : "%d", ids[i]);
        puts("]");
    }
    if (timing)
        fprintf(stderr, "tokenized %zu bytes into %zu tokens in %.3f s (%.1f MB/s)\n", len, n_ids, dt,
                dt > 0 ? len / dt / 1e6 : 0.0);
    rc = 0;
out:
    rf__free(ids);
    free(text);
    rf__tokenizer_free(tok);
    rf_gguf_free(g);
    return rc;
}
